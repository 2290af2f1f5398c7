#include "cluster/local_cluster.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "cluster/fault_proxy.hpp"
#include "cluster/pki.hpp"
#include "cluster/profile.hpp"
#include "common/process.hpp"
#include "kube/client.hpp"

namespace kolla::cluster {
namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

const char* kKubeVersion = "v1.37.2";
const char* kEtcdVersion = "v3.7.3";
const char* kKwokVersion = "v0.8.0";
const std::vector<std::string> kBinaries = {"etcd", "kube-apiserver", "kube-controller-manager",
                                            "kube-scheduler", "kwok"};
// Stop order (reverse start order).
const std::vector<std::string> kComponents = {
    "fault-proxy", "kwok", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"};

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot find a free loopback port");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Alive and not a zombie, and (when given) running the expected program.
bool pid_alive(int pid, const std::string& program = {}) {
  if (pid <= 0) return false;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  auto paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return false;
  char state = line[paren + 2];
  if (state == 'Z' || state == 'X') return false;
  if (program.empty()) return true;
  std::ifstream cmd("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  return cmdline.find(program) != std::string::npos;
}

void stop_pid(int pid, const std::string& program) {
  if (!pid_alive(pid, program)) return;
  ::kill(pid, SIGTERM);
  auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline && pid_alive(pid)) std::this_thread::sleep_for(50ms);
  if (pid_alive(pid)) {
    spdlog::warn("{} (pid {}) ignored SIGTERM; killing it", program, pid);
    ::kill(pid, SIGKILL);
    deadline = Clock::now() + 5s;
    while (Clock::now() < deadline && pid_alive(pid)) std::this_thread::sleep_for(50ms);
  }
}

std::string tail_file(const std::string& path, size_t lines = 15) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& l : last) out += "    " + l + "\n";
  return out;
}

std::string program_of(const std::string& component) {
  return component == "fault-proxy" ? "kollakube" : component;
}

// The self executable for the fault proxy: this program when it is kollakube, else kollakube
// from PATH / the build tree.
std::string kollakube_exe() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && self.filename() == "kollakube") return self.string();
  if (auto found = find_executable("kollakube")) return *found;
  for (const char* sub : {"build/default/apps/kollakube", "build/cluster/apps/kollakube"}) {
    fs::path p = fs::path(source_dir()) / sub;
    if (fs::exists(p)) return p.string();
  }
  throw std::runtime_error("the fault proxy needs the kollakube executable (not found)");
}

struct Paths {
  std::string dir;
  std::string pki() const { return dir + "/pki"; }
  std::string logs() const { return dir + "/logs"; }
  std::string log(const std::string& c) const { return logs() + "/" + c + ".log"; }
  std::string pid(const std::string& c) const { return dir + "/" + c + ".pid"; }
  std::string state() const { return dir + "/cluster.json"; }
  std::string kubeconfig() const { return dir + "/kubeconfig"; }
  std::string faulty_kubeconfig() const { return dir + "/kubeconfig-faulty"; }
  std::string component_kubeconfig(const std::string& c) const {
    return pki() + "/" + c + ".kubeconfig";
  }
  std::string crt(const std::string& n) const { return pki() + "/" + n + ".crt"; }
  std::string key(const std::string& n) const { return pki() + "/" + n + ".key"; }
  std::string stages() const { return dir + "/kwok.yaml"; }
};

int read_pid(const Paths& p, const std::string& component) {
  std::ifstream in(p.pid(component));
  int pid = 0;
  in >> pid;
  return pid;
}

std::string kubeconfig_text(const std::string& name, const std::string& server,
                            const std::string& ca_pem, const CertAndKey& user) {
  std::ostringstream y;
  y << "apiVersion: v1\nkind: Config\nclusters:\n- name: " << name << "\n  cluster:\n"
    << "    server: " << server << "\n    certificate-authority-data: " << base64(ca_pem) << "\n"
    << "users:\n- name: " << name << "-user\n  user:\n"
    << "    client-certificate-data: " << base64(user.cert_pem) << "\n"
    << "    client-key-data: " << base64(user.key_pem) << "\n"
    << "contexts:\n- name: " << name << "\n  context:\n    cluster: " << name << "\n"
    << "    user: " << name << "-user\ncurrent-context: " << name << "\n";
  return y.str();
}

CertAndKey load_pair(const Paths& p, const std::string& n) {
  return {read_file(p.crt(n)), read_file(p.key(n))};
}

void write_pair(const Paths& p, const std::string& n, const CertAndKey& pair) {
  write_file(p.crt(n), pair.cert_pem, 0644);
  write_file(p.key(n), pair.key_pem, 0600);
}

void generate_pki(const Paths& p) {
  fs::create_directories(p.pki());
  auto ca = CertificateAuthority::create("kolla-local-cluster-ca");
  write_pair(p, "ca", ca.pem());
  CertRequest api;
  api.common_name = "kube-apiserver";
  api.server = true;
  api.dns_names = {"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
                   "kubernetes.default.svc.cluster.local"};
  api.ip_addresses = {"127.0.0.1", "10.96.0.1"};
  write_pair(p, "apiserver", ca.issue(api));
  CertRequest proxy;
  proxy.common_name = "kolla-fault-proxy";
  proxy.server = true;
  proxy.dns_names = {"localhost"};
  proxy.ip_addresses = {"127.0.0.1"};
  write_pair(p, "fault-proxy", ca.issue(proxy));
  struct Client {
    const char* file;
    const char* cn;
    std::vector<std::string> groups;
  };
  for (const Client& c : std::vector<Client>{
           {"admin", "kolla-admin", {"system:masters"}},
           {"kube-controller-manager", "system:kube-controller-manager", {}},
           {"kube-scheduler", "system:kube-scheduler", {}},
           {"kwok", "kolla-kwok", {"system:masters"}},
           {"apiserver-etcd-client", "kube-apiserver-etcd-client", {}},
       }) {
    CertRequest r;
    r.common_name = c.cn;
    r.organizations = c.groups;
    r.client = true;
    write_pair(p, c.file, ca.issue(r));
  }
  auto sa = generate_key_pair();
  write_file(p.key("service-account"), sa.private_pem, 0600);
  write_file(p.pki() + "/service-account.pub", sa.public_pem, 0644);
}

struct State {
  json j;
  int port(const std::string& c) const { return j["ports"].value(c, 0); }
  std::string server() const { return "https://127.0.0.1:" + std::to_string(port("apiserver")); }
};

// The admin's connection (client certificate in system:masters), built in memory from the PKI.
kube::KubeConfig admin_config(const State& s, const Paths& p) {
  kube::KubeConfig config;
  config.server = s.server();
  config.ca_pem = read_file(p.crt("ca"));
  config.client_cert_pem = read_file(p.crt("admin"));
  config.client_key_pem = read_file(p.key("admin"));
  config.context = "kolla-local-cluster";
  config.source = p.kubeconfig();
  return config;
}

// A client for polls: one attempt per call (the caller polls again), a bounded wait.
kube::ClientOptions poll_options(std::chrono::milliseconds timeout) {
  kube::ClientOptions options;
  options.timeout = timeout;
  options.connect_timeout = std::min<std::chrono::milliseconds>(timeout, 5s);
  options.max_retries = 0;
  return options;
}

struct ProbeResult {
  int status = 0;  // 0: no HTTP answer
  json body;       // the parsed answer when it was JSON
  std::string error;
};

// One GET of a health endpoint on a fresh connection. Health endpoints answer plain text
// ("ok"); the client reports a 2xx answer that is not JSON as ApiError(kOther) with that status,
// which counts as an answer here.
ProbeResult probe(kube::KubeConfig config, const std::string& path,
                  std::chrono::milliseconds timeout) {
  ProbeResult r;
  try {
    kube::Client client(std::move(config), poll_options(timeout));
    r.body = client.request("GET", path);
    r.status = 200;
  } catch (const kube::ApiError& e) {
    r.status = e.http_status();
    if (r.status >= 200 && r.status < 300) {
      r.status = 200;
    } else {
      r.error = e.what();
    }
  }
  return r;
}

// An unauthenticated endpoint of a component: http, or https with a self-signed certificate
// (ca_pem empty: not verified).
kube::KubeConfig endpoint(const std::string& server, const std::string& ca_pem = {}) {
  kube::KubeConfig config;
  config.server = server;
  config.ca_pem = ca_pem;
  config.insecure_skip_tls_verify = ca_pem.empty();
  config.source = server;
  return config;
}

State load_state(const Paths& p) {
  State s;
  s.j = json::parse(read_file(p.state()));
  return s;
}

void save_state(const Paths& p, const State& s) {
  write_file(p.state(), s.j.dump(2) + "\n");
}

class Runner {
 public:
  Runner(const Paths& paths, std::string bin_dir, State& state)
      : p_(paths), bin_(std::move(bin_dir)), state_(state) {}

  std::vector<std::string> argv(const std::string& c) const {
    const auto port = [&](const char* n) { return std::to_string(state_.port(n)); };
    if (c == "etcd") {
      std::string client = "http://127.0.0.1:" + port("etcd");
      std::string peer = "http://127.0.0.1:" + port("etcd-peer");
      return {bin_ + "/etcd",
              "--name=kolla",
              "--data-dir=" + p_.dir + "/etcd",
              "--listen-client-urls=" + client,
              "--advertise-client-urls=" + client,
              "--listen-peer-urls=" + peer,
              "--initial-advertise-peer-urls=" + peer,
              "--initial-cluster=kolla=" + peer,
              "--initial-cluster-state=new",
              "--unsafe-no-fsync=true",
              "--quota-backend-bytes=8589934592",
              "--log-level=warn"};
    }
    if (c == "kube-apiserver") {
      return {bin_ + "/kube-apiserver", "--etcd-servers=http://127.0.0.1:" + port("etcd"),
              "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
              // A loopback address may not be published as the kubernetes Service endpoint.
              "--endpoint-reconciler-type=none", "--secure-port=" + port("apiserver"),
              "--cert-dir=" + p_.pki() + "/apiserver-generated",
              "--tls-cert-file=" + p_.crt("apiserver"),
              "--tls-private-key-file=" + p_.key("apiserver"), "--client-ca-file=" + p_.crt("ca"),
              "--authorization-mode=Node,RBAC",
              "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
              "--service-account-key-file=" + p_.pki() + "/service-account.pub",
              "--service-account-signing-key-file=" + p_.key("service-account"),
              "--service-cluster-ip-range=10.96.0.0/16", "--allow-privileged=true",
              "--max-requests-inflight=1000", "--max-mutating-requests-inflight=500",
              "--event-ttl=1h", "--profiling=false"};
    }
    if (c == "kube-controller-manager") {
      return {bin_ + "/kube-controller-manager",
              "--kubeconfig=" + p_.component_kubeconfig(c),
              "--controllers=*",
              "--use-service-account-credentials=true",
              "--service-account-private-key-file=" + p_.key("service-account"),
              "--root-ca-file=" + p_.crt("ca"),
              "--cluster-signing-cert-file=" + p_.crt("ca"),
              "--cluster-signing-key-file=" + p_.key("ca"),
              "--leader-elect=false",
              "--bind-address=127.0.0.1",
              "--secure-port=" + port("kube-controller-manager"),
              "--cert-dir=" + p_.pki() + "/kcm-generated",
              "--kube-api-qps=200",
              "--kube-api-burst=400",
              "--profiling=false"};
    }
    if (c == "kube-scheduler") {
      return {bin_ + "/kube-scheduler",
              "--kubeconfig=" + p_.component_kubeconfig(c),
              "--leader-elect=false",
              "--bind-address=127.0.0.1",
              "--secure-port=" + port("kube-scheduler"),
              "--cert-dir=" + p_.pki() + "/scheduler-generated",
              "--kube-api-qps=200",
              "--kube-api-burst=400",
              "--profiling=false"};
    }
    if (c == "kwok") {
      return {
          bin_ + "/kwok",
          "--kubeconfig=" + p_.component_kubeconfig(c),
          "--config=" + p_.stages(),
          "--manage-all-nodes=false",
          "--manage-nodes-with-annotation-selector=" + std::string(kKwokNodeAnnotation) + "=fake",
          "--node-lease-duration-seconds=0",
          "--cidr=10.244.0.0/16",
          "--server-address=127.0.0.1:" + port("kwok")};
    }
    if (c == "fault-proxy") {
      return {kollakube_exe(),
              "cluster",
              "fault-proxy",
              "--listen=127.0.0.1:" + port("fault-proxy"),
              "--upstream=" + state_.server(),
              "--ca=" + p_.crt("ca"),
              "--client-cert=" + p_.crt("admin"),
              "--client-key=" + p_.key("admin"),
              "--serve-cert=" + p_.crt("fault-proxy"),
              "--serve-key=" + p_.key("fault-proxy"),
              "--spec=" + state_.j.value("faultProxy", std::string())};
    }
    throw std::logic_error("unknown component " + c);
  }

  void start(const std::string& c) {
    ChildProcess::Options o;
    o.log_file = p_.log(c);
    o.new_session = true;
    // kwok reads ~/.kwok/kwok.yaml besides --config: give it a home of its own.
    if (c == "kwok") {
      fs::create_directories(p_.dir + "/kwok-home");
      o.extra_env["HOME"] = p_.dir + "/kwok-home";
    }
    auto child = ChildProcess::spawn(argv(c), o);
    int pid = child.pid();
    child.detach();
    write_file(p_.pid(c), std::to_string(pid) + "\n");
    spdlog::debug("started {} (pid {}), log {}", c, pid, p_.log(c));
  }

  bool alive(const std::string& c) const { return pid_alive(read_pid(p_, c), program_of(c)); }

  // "ok" or what went wrong.
  std::string health(const std::string& c) const {
    if (!alive(c)) return "not running";
    try {
      return probe_health(c);
    } catch (const std::exception& e) {  // e.g. an unreadable certificate
      return std::string("cannot probe: ") + e.what();
    }
  }

  // "ok" or what the probe answered; throws when the probe cannot be set up.
  std::string probe_health(const std::string& c) const {
    ProbeResult r;
    const std::string local = "127.0.0.1:" + std::to_string(state_.port(c));
    if (c == "etcd") {
      r = probe(endpoint("http://" + local), "/health", 2s);
      if (r.status == 200 && r.body.is_object() && r.body.value("health", "") == "true") {
        return "ok";
      }
      if (r.status == 200 && r.error.empty()) r.error = r.body.dump();
    } else if (c == "kube-apiserver") {
      r = probe(admin_config(state_, p_), "/readyz", 5s);
      if (r.status == 200) return "ok";
    } else if (c == "kube-controller-manager" || c == "kube-scheduler") {
      r = probe(endpoint("https://" + local), "/healthz", 2s);
      if (r.status == 200) return "ok";
    } else if (c == "kwok") {
      r = probe(endpoint("http://" + local), "/healthz", 2s);
      if (r.status == 200) return "ok";
    } else if (c == "fault-proxy") {
      r = probe(endpoint("https://" + local, read_file(p_.crt("ca"))),
                "/__kolla/fault-proxy/healthz", 2s);
      if (r.status == 200) return "ok";
    }
    if (r.status == 0) return "no answer (" + r.error + ")";
    std::string body = r.error.substr(0, 200);
    std::replace(body.begin(), body.end(), '\n', ' ');
    return "HTTP " + std::to_string(r.status) + ": " + body;
  }

  void wait_healthy(const std::string& c, std::chrono::seconds timeout) const {
    const auto start = Clock::now();
    auto deadline = start + timeout;
    std::string last;
    while (Clock::now() < deadline) {
      last = health(c);
      if (last == "ok") return;
      // A just-forked child shows our command line until it has exec'ed: allow it a moment.
      if (!alive(c) && Clock::now() - start > 3s) break;
      std::this_thread::sleep_for(200ms);
    }
    throw std::runtime_error(c + " did not become healthy (" + last + "); last lines of " +
                             p_.log(c) + ":\n" + tail_file(p_.log(c)));
  }

  void stop(const std::string& c) const {
    stop_pid(read_pid(p_, c), program_of(c));
    std::error_code ec;
    fs::remove(p_.pid(c), ec);
  }

 private:
  const Paths& p_;
  std::string bin_;
  State& state_;
};

std::string default_profile_path() {
  fs::path p = fs::path(source_dir()) / "profiles" / "default.yaml";
  return fs::exists(p) ? p.string() : std::string();
}

struct NodeCounts {
  int total = -1;
  int ready = -1;
  std::vector<std::string> not_ready;
};

// Unknown (-1) when the API server does not answer.
NodeCounts count_nodes(kube::Client& client) {
  NodeCounts c;
  std::vector<json> items;
  try {
    items = client.list(kube::gvk::kNode, "").items;
  } catch (const std::exception& e) {
    spdlog::debug("listing nodes: {}", e.what());
    return c;
  }
  c.total = 0;
  c.ready = 0;
  for (const auto& n : items) {
    ++c.total;
    bool ready = false;
    for (const auto& cond : n["status"].value("conditions", json::array())) {
      if (cond.value("type", "") == "Ready" && cond.value("status", "") == "True") ready = true;
    }
    if (ready) {
      ++c.ready;
    } else if (c.not_ready.size() < 20) {
      c.not_ready.push_back(n["metadata"].value("name", ""));
    }
  }
  return c;
}

// Server-side apply (field manager kollakube-cluster, forced) of many objects from a few threads
// sharing one client (its pool keeps a connection per thread alive): 1000 nodes take seconds
// (kubectl would take most of a minute). The client retries 5xx, 429 and connection errors.
void apply_objects(kube::Client& client, const std::vector<json>& objects) {
  kube::ApplyOptions apply;
  apply.field_manager = "kollakube-cluster";
  apply.force = true;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex error_mutex;
  std::string first_error;
  auto work = [&] {
    for (size_t i = next++; i < objects.size() && !failed; i = next++) {
      try {
        client.apply(objects[i], apply);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (first_error.empty()) {
          first_error = "creating " + objects[i].value("kind", std::string()) + " " +
                        objects[i]["metadata"].value("name", std::string()) + ": " + e.what();
        }
        failed = true;
        return;
      }
    }
  };
  const size_t threads = std::min<size_t>(8, std::max<size_t>(1, objects.size() / 10));
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

// Makes the cluster's volumes that a deleted claim left Released (reclaim policy Retain)
// Available again, so a reused cluster does not run out of them. Nothing runs in a simulated
// pod, so there is no data to wipe. Returns how many.
int release_volumes(kube::Client& client) {
  const kube::GroupVersionKind persistent_volume = kube::gvk::core("PersistentVolume");
  kube::ListOptions ours;
  ours.label_selector = "kolla.openstack.org/local-cluster=true";
  int released = 0;
  for (const auto& pv : client.list(persistent_volume, "", ours).items) {
    if (pv.value("status", json::object()).value("phase", "") != "Released") continue;
    client.merge_patch(persistent_volume, "", pv["metadata"].value("name", ""),
                       {{"spec", {{"claimRef", nullptr}}}});
    ++released;
  }
  return released;
}

void apply_nodes(kube::Client& client, const std::vector<NodePlan>& plans) {
  std::vector<json> objects;
  objects.reserve(plans.size());
  for (const auto& plan : plans) objects.push_back(node_object(plan));
  apply_objects(client, objects);
}

// Serializes `up` and `down` of one cluster across processes (flock on <root>/<name>.lock).
class ClusterLock {
 public:
  explicit ClusterLock(const std::string& dir) {
    fs::create_directories(fs::path(dir).parent_path());
    fd_ = ::open((dir + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) throw std::runtime_error("cannot open the lock file " + dir + ".lock");
    ::flock(fd_, LOCK_EX);
  }
  ~ClusterLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  ClusterLock(const ClusterLock&) = delete;
  ClusterLock& operator=(const ClusterLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace

std::string clusters_root() {
  std::string base = env_or("XDG_STATE_HOME", env_or("HOME", "/tmp") + "/.local/state");
  return base + "/kolla-kubernetes/clusters";
}

std::string cluster_dir(const std::string& name) {
  return clusters_root() + "/" + name;
}

std::string find_k8s_bin_dir() {
  std::vector<std::string> candidates;
  if (const char* d = std::getenv("KOLLA_K8S_BIN_DIR"); d != nullptr && *d != '\0') {
    candidates.push_back(d);
  }
  candidates.push_back(tools_dir() + "/k8s");
  std::string cache =
      env_or("KOLLA_CACHE",
             env_or("XDG_CACHE_HOME", env_or("HOME", "/tmp") + "/.cache") + "/kolla-kubernetes");
  candidates.push_back(cache + "/k8s-" + kKubeVersion + "-etcd-" + kEtcdVersion + "-kwok-" +
                       kKwokVersion + "/bin");
  for (const auto& dir : candidates) {
    bool all = std::all_of(kBinaries.begin(), kBinaries.end(), [&](const std::string& b) {
      return ::access((dir + "/" + b).c_str(), X_OK) == 0;
    });
    if (all) return dir;
  }
  throw std::runtime_error(
      "the Kubernetes binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, "
      "kwok) were not found; run scripts/build-k8s.sh (looked in: " +
      candidates.front() + (candidates.size() > 1 ? ", " + candidates[1] : "") + ", " +
      candidates.back() + ")");
}

LocalCluster::LocalCluster(std::string name) : name_(std::move(name)), dir_(cluster_dir(name_)) {
  if (name_.empty() || name_.find('/') != std::string::npos || name_[0] == '.') {
    throw std::invalid_argument("bad cluster name '" + name_ + "'");
  }
}

UpResult LocalCluster::up(const UpOptions& options) {
  const auto t0 = Clock::now();
  ClusterLock lock(dir_);
  const std::string bin = find_k8s_bin_dir();
  Paths p{dir_};
  UpResult result;

  // Profile → stages.
  std::string profile_path = options.profile.value_or(default_profile_path());
  LatencyProfile profile = profile_path.empty() ? LatencyProfile{} : load_profile(profile_path);
  StageOptions stage_options;
  stage_options.time_scale = options.time_scale.value_or(1.0);

  State state;
  bool reuse = false;
  if (fs::exists(p.state())) {
    try {
      state = load_state(p);
      Runner probe(p, bin, state);
      reuse = probe.alive("etcd") && probe.health("kube-apiserver") == "ok";
    } catch (const std::exception& e) {
      spdlog::warn("cluster {}: unreadable state ({}); starting afresh", name_, e.what());
    }
    if (!reuse) {
      spdlog::info("cluster {}: not healthy; replacing it", name_);
      remove_state();
    }
  }

  if (reuse) {
    spdlog::info("cluster {}: reusing the running cluster", name_);
    result.reused = true;
    Runner run(p, bin, state);
    bool stages_changed = false;
    if (options.profile || options.time_scale) {
      if (!options.profile) {
        profile_path = state.j.value("profile", std::string());
        profile = profile_path.empty() ? LatencyProfile{} : load_profile(profile_path);
      }
      if (!options.time_scale) stage_options.time_scale = state.j.value("timeScale", 1.0);
      state.j["profile"] = profile_path;
      state.j["timeScale"] = stage_options.time_scale;
      std::string stages = generate_stages(profile, stage_options);
      if (!fs::exists(p.stages()) || read_file(p.stages()) != stages) {
        write_file(p.stages(), stages);
        stages_changed = true;
      }
    }
    if (options.fault_proxy && state.j.value("faultProxy", std::string()) != *options.fault_proxy) {
      parse_fault_spec(*options.fault_proxy);
      state.j["faultProxy"] = *options.fault_proxy;
      if (state.port("fault-proxy") == 0) state.j["ports"]["fault-proxy"] = free_port();
      run.stop("fault-proxy");
    }
    for (const std::string c : {"kube-controller-manager", "kube-scheduler", "kwok"}) {
      if (c == "kwok" && stages_changed) run.stop(c);
      if (!run.alive(c)) {
        spdlog::info("cluster {}: restarting {}", name_, c);
        run.start(c);
      }
    }
    if (!state.j.value("faultProxy", std::string()).empty() && !run.alive("fault-proxy")) {
      run.start("fault-proxy");
    }
    kube::Client admin(admin_config(state, p));
    if (const int released = release_volumes(admin); released > 0) {
      spdlog::info("cluster {}: {} released volumes made available again", name_, released);
    }
    int nodes = options.nodes.value_or(state.j.value("nodes", 1));
    std::string roles = options.roles.value_or(state.j.value("roles", std::string()));
    if (nodes != state.j.value("nodes", 1) || roles != state.j.value("roles", std::string()) ||
        !options.taints.empty()) {
      apply_nodes(admin, plan_nodes(nodes, roles, options.taints));
      state.j["nodes"] = std::max(nodes, state.j.value("nodes", 1));
      state.j["roles"] = roles;
    }
    save_state(p, state);
    for (const std::string c : {"kube-controller-manager", "kube-scheduler", "kwok"}) {
      run.wait_healthy(c, 60s);
    }
    if (!state.j.value("faultProxy", std::string()).empty()) run.wait_healthy("fault-proxy", 30s);
  } else {
    for (const char* sub : {"", "/pki", "/logs", "/etcd", "/volumes"}) {
      fs::create_directories(dir_ + sub);
    }
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::replace);
    spdlog::info("cluster {}: creating in {}", name_, dir_);
    generate_pki(p);
    state.j = json::object();
    state.j["name"] = name_;
    state.j["binDir"] = bin;
    for (const char* c :
         {"etcd", "etcd-peer", "apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}) {
      state.j["ports"][c] = free_port();
    }
    state.j["ports"]["fault-proxy"] = options.fault_proxy ? free_port() : 0;
    if (options.fault_proxy) parse_fault_spec(*options.fault_proxy);
    state.j["faultProxy"] = options.fault_proxy.value_or("");
    state.j["nodes"] = options.nodes.value_or(1);
    state.j["roles"] = options.roles.value_or("");
    state.j["profile"] = profile_path;
    state.j["timeScale"] = stage_options.time_scale;
    save_state(p, state);

    const std::string ca_pem = read_file(p.crt("ca"));
    write_file(p.kubeconfig(),
               kubeconfig_text("kolla-" + name_, state.server(), ca_pem, load_pair(p, "admin")),
               0600);
    for (const char* c : {"kube-controller-manager", "kube-scheduler", "kwok"}) {
      write_file(p.component_kubeconfig(c),
                 kubeconfig_text(c, state.server(), ca_pem, load_pair(p, c)), 0600);
    }
    write_file(p.stages(), generate_stages(profile, stage_options));

    Runner run(p, bin, state);
    try {
      run.start("etcd");
      run.wait_healthy("etcd", 30s);
      run.start("kube-apiserver");
      run.wait_healthy("kube-apiserver", 120s);
      for (const char* c : {"kube-controller-manager", "kube-scheduler", "kwok"}) run.start(c);
      if (options.fault_proxy) run.start("fault-proxy");

      spdlog::info("cluster {}: API server ready after {:.1f}s", name_,
                   std::chrono::duration<double>(Clock::now() - t0).count());
      kube::Client admin(admin_config(state, p));
      apply_objects(admin, storage_objects(options.volumes, dir_ + "/volumes"));
      apply_nodes(
          admin, plan_nodes(options.nodes.value_or(1), options.roles.value_or(""), options.taints));
      spdlog::info("cluster {}: {} nodes created after {:.1f}s", name_, options.nodes.value_or(1),
                   std::chrono::duration<double>(Clock::now() - t0).count());
      for (const char* c : {"kube-controller-manager", "kube-scheduler", "kwok"}) {
        run.wait_healthy(c, 60s);
      }
      if (options.fault_proxy) run.wait_healthy("fault-proxy", 30s);
    } catch (...) {
      for (const auto& c : kComponents) run.stop(c);
      throw;
    }
  }

  if (!state.j.value("faultProxy", std::string()).empty()) {
    const std::string ca_pem = read_file(p.crt("ca"));
    std::string server = "https://127.0.0.1:" + std::to_string(state.port("fault-proxy"));
    write_file(p.faulty_kubeconfig(),
               kubeconfig_text("kolla-" + name_ + "-faulty", server, ca_pem, load_pair(p, "admin")),
               0600);
    result.faulty_kubeconfig = p.faulty_kubeconfig();
  }

  // Every node Ready, and the default ServiceAccount there (pods need it).
  const int want = state.j.value("nodes", 1);
  auto deadline = Clock::now() + options.timeout;
  NodeCounts counts;
  kube::Client poll(admin_config(state, p), poll_options(30s));
  while (true) {
    counts = count_nodes(poll);
    bool service_account = false;
    if (counts.ready >= want) {
      try {
        service_account =
            poll.get_optional(kube::gvk::kServiceAccount, "default", "default").has_value();
      } catch (const std::exception& e) {
        spdlog::debug("reading the default ServiceAccount: {}", e.what());
      }
    }
    if (counts.ready >= want && service_account) break;
    if (Clock::now() > deadline) {
      std::string names;
      for (const auto& n : counts.not_ready) names += " " + n;
      throw std::runtime_error("timed out: " + std::to_string(counts.ready) + "/" +
                               std::to_string(want) + " nodes Ready (not ready:" + names +
                               "); see " + p.logs());
    }
    // A node list of 1000 nodes is megabytes: poll big clusters less often.
    std::this_thread::sleep_for(std::max(250ms, std::chrono::milliseconds(want)));
  }
  result.nodes = counts.total;
  result.kubeconfig = p.kubeconfig();
  if (!options.kubeconfig_out.empty()) {
    fs::path out = fs::absolute(options.kubeconfig_out);
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    write_file(out.string(), read_file(p.kubeconfig()), 0600);
    result.kubeconfig = out.string();
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return result;
}

void LocalCluster::down() {
  ClusterLock lock(dir_);
  remove_state();
}

void LocalCluster::remove_state() {
  Paths p{dir_};
  if (!fs::exists(dir_)) return;
  for (const auto& c : kComponents) {
    int pid = read_pid(p, c);
    if (pid > 0) stop_pid(pid, program_of(c));
  }
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (ec) throw std::runtime_error("cannot remove " + dir_ + ": " + ec.message());
}

ClusterStatus LocalCluster::status() const {
  ClusterStatus st;
  st.dir = dir_;
  Paths p{dir_};
  if (!fs::exists(p.state())) return st;
  st.exists = true;
  State state = load_state(p);
  st.server = state.server();
  Runner run(p, state.j.value("binDir", std::string()), state);
  for (auto it = kComponents.rbegin(); it != kComponents.rend(); ++it) {
    const std::string& c = *it;
    if (c == "fault-proxy" && state.j.value("faultProxy", std::string()).empty()) continue;
    ComponentStatus cs;
    cs.name = c;
    cs.pid = read_pid(p, c);
    cs.running = run.alive(c);
    cs.health = run.health(c);
    st.components.push_back(cs);
  }
  NodeCounts counts;
  try {
    kube::Client poll(admin_config(state, p), poll_options(30s));
    counts = count_nodes(poll);
  } catch (const std::exception& e) {
    spdlog::debug("cluster {}: cannot list nodes: {}", name_, e.what());
  }
  st.nodes = counts.total;
  st.nodes_ready = counts.ready;
  st.not_ready = counts.not_ready;
  return st;
}

}  // namespace kolla::cluster
