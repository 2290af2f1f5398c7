// kollakube cluster up | down | status | stages | fault-proxy: the local cluster.
#include <pthread.h>
#include <signal.h>

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli/cli.hpp"
#include "cluster/fault_proxy.hpp"
#include "cluster/local_cluster.hpp"
#include "cluster/profile.hpp"
#include "common/process.hpp"

namespace kolla::cli {
namespace {

namespace kc = kolla::cluster;

struct UpFlags {
  std::string name = "kolla";
  int nodes = 0;
  std::string roles;
  std::vector<std::string> taints;
  std::string profile;
  double time_scale = 0;
  std::string kubeconfig_out;
  std::string fault_proxy;
  int volumes = 64;
  int timeout = 300;
};

struct ProxyFlags {
  std::string listen = "127.0.0.1:0";
  std::string upstream;
  std::string ca, client_cert, client_key, serve_cert, serve_key;
  std::string spec;
};

void run_up(const UpFlags& f, CLI::App* cmd) {
  kc::UpOptions o;
  if (cmd->count("--nodes") > 0) o.nodes = f.nodes;
  if (cmd->count("--roles") > 0) o.roles = f.roles;
  if (cmd->count("--profile") > 0) o.profile = f.profile;
  if (cmd->count("--time-scale") > 0) {
    if (!(f.time_scale > 0)) throw CommandError(kUsage, "--time-scale must be positive");
    o.time_scale = f.time_scale;
  }
  if (cmd->count("--fault-proxy") > 0) o.fault_proxy = f.fault_proxy;
  o.kubeconfig_out = f.kubeconfig_out;
  o.volumes = f.volumes;
  o.timeout = std::chrono::seconds(f.timeout);
  try {
    for (const auto& t : f.taints) o.taints.push_back(kc::parse_taint(t));
    if (o.nodes && *o.nodes < 1) throw std::invalid_argument("--nodes must be at least 1");
    if (o.roles) kc::plan_nodes(o.nodes.value_or(1), *o.roles);
    if (o.fault_proxy) kc::parse_fault_spec(*o.fault_proxy);
    if (o.profile) kc::load_profile(*o.profile);
  } catch (const std::invalid_argument& e) {
    throw CommandError(kInvalidInput, e.what());
  }
  try {
    kc::find_k8s_bin_dir();
  } catch (const std::runtime_error& e) {
    throw CommandError(kToolMissing, e.what());
  }
  kc::LocalCluster cluster(f.name);
  kc::UpResult r;
  try {
    r = cluster.up(o);
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    throw CommandError(what.rfind("timed out", 0) == 0 ? kTimeout : kFailed, what);
  }
  std::cout << "cluster " << f.name << (r.reused ? " reused" : " up") << " in " << std::fixed
            << std::setprecision(1) << r.seconds << "s: " << r.nodes << " nodes Ready\n"
            << "kubeconfig: " << r.kubeconfig << "\n";
  if (!r.faulty_kubeconfig.empty()) {
    std::cout << "kubeconfig through the fault proxy: " << r.faulty_kubeconfig << "\n";
  }
  std::cout << "state: " << cluster.dir() << "\n";
}

void run_status(const std::string& name, bool as_json) {
  kc::LocalCluster cluster(name);
  auto st = cluster.status();
  if (as_json) {
    nlohmann::json j;
    j["name"] = name;
    j["exists"] = st.exists;
    j["dir"] = st.dir;
    j["server"] = st.server;
    j["nodes"] = st.nodes;
    j["nodesReady"] = st.nodes_ready;
    j["notReady"] = st.not_ready;
    j["components"] = nlohmann::json::array();
    for (const auto& c : st.components) {
      j["components"].push_back(
          {{"name", c.name}, {"pid", c.pid}, {"running", c.running}, {"health", c.health}});
    }
    std::cout << j.dump(2) << "\n";
  } else if (!st.exists) {
    std::cout << "cluster " << name << ": not created (" << st.dir << ")\n";
  } else {
    std::cout << "cluster " << name << " (" << st.dir << ")\nserver: " << st.server << "\n";
    std::cout << std::left << std::setw(26) << "COMPONENT" << std::setw(9) << "PID"
              << "HEALTH\n";
    for (const auto& c : st.components) {
      std::cout << std::setw(26) << c.name << std::setw(9) << c.pid << c.health << "\n";
    }
    if (st.nodes < 0) {
      std::cout << "nodes: unknown (API server unreachable)\n";
    } else {
      std::cout << "nodes: " << st.nodes << " (" << st.nodes_ready << " Ready)";
      if (!st.not_ready.empty()) {
        std::cout << "; not Ready:";
        for (const auto& n : st.not_ready) std::cout << " " << n;
      }
      std::cout << "\n";
    }
  }
  bool healthy = st.exists;
  for (const auto& c : st.components) healthy = healthy && c.health == "ok";
  if (!healthy) throw CommandError(kFailed, "cluster " + name + " is not healthy");
}

void run_fault_proxy(const ProxyFlags& f) {
  kc::FaultProxyOptions o;
  auto colon = f.listen.rfind(':');
  if (colon == std::string::npos) throw CommandError(kUsage, "--listen wants HOST:PORT");
  o.listen_host = f.listen.substr(0, colon);
  try {
    o.listen_port = std::stoi(f.listen.substr(colon + 1));
    o.spec = kc::parse_fault_spec(f.spec);
  } catch (const std::invalid_argument& e) {
    throw CommandError(kUsage, e.what());
  }
  o.upstream = f.upstream;
  o.upstream_tls = {f.ca, f.client_cert, f.client_key};
  o.serve_cert = f.serve_cert;
  o.serve_key = f.serve_key;
  // SIGTERM/SIGINT stop the proxy: block them here (threads inherit the mask), wait on a thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  kc::FaultProxy proxy(o);
  proxy.start();
  std::cout << "fault proxy listening on https://" << o.listen_host << ":" << proxy.port()
            << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  proxy.stop();
  auto s = proxy.stats();
  std::cout << "fault proxy stopped: " << s.requests << " requests, " << s.injected_errors
            << " injected errors, " << s.cut_watches << " watches cut" << std::endl;
}

}  // namespace

void add_cluster_commands(CLI::App& app, GlobalOptions& /*global*/) {
  auto* cluster =
      app.add_subcommand("cluster", "The local cluster: real control plane, kwok nodes");
  cluster->require_subcommand(1);

  auto up_flags = std::make_shared<UpFlags>();
  auto* up = cluster->add_subcommand("up", "Start (or reuse) a local cluster");
  up->add_option("--name", up_flags->name, "Cluster name")->capture_default_str();
  up->add_option("--nodes", up_flags->nodes, "Number of simulated nodes (default 1: all-in-one)");
  up->add_option("--roles", up_flags->roles,
                 "Node roles as counts: controller=C,network=M,compute=K");
  up->add_option("--taint", up_flags->taints, "ROLE:KEY[=VALUE]:EFFECT (repeatable)");
  up->add_option("--profile", up_flags->profile, "Latency profile (default profiles/default.yaml)");
  up->add_option("--time-scale", up_flags->time_scale, "Multiply every pod delay (default 1)");
  up->add_option("--kubeconfig", up_flags->kubeconfig_out, "Also write the admin kubeconfig here");
  up->add_option("--fault-proxy", up_flags->fault_proxy,
                 "Start the fault proxy, e.g. error-rate=0.1,latency-ms=50,cut-watch-after=5s");
  up->add_option("--volumes", up_flags->volumes, "Pre-created PersistentVolumes")
      ->capture_default_str();
  up->add_option("--timeout", up_flags->timeout, "Seconds to wait for Ready nodes")
      ->capture_default_str();
  up->callback([up_flags, up] { run_up(*up_flags, up); });

  auto down_name = std::make_shared<std::string>("kolla");
  auto* down = cluster->add_subcommand("down", "Stop a local cluster and remove its state");
  down->add_option("--name", *down_name, "Cluster name")->capture_default_str();
  down->callback([down_name] {
    kc::LocalCluster(*down_name).down();
    std::cout << "cluster " << *down_name << " removed\n";
  });

  auto status_name = std::make_shared<std::string>("kolla");
  auto status_json = std::make_shared<bool>(false);
  auto* status = cluster->add_subcommand("status", "Processes, health and nodes of a cluster");
  status->add_option("--name", *status_name, "Cluster name")->capture_default_str();
  status->add_flag("--json", *status_json, "Print JSON");
  status->callback([status_name, status_json] { run_status(*status_name, *status_json); });

  auto stage_profile = std::make_shared<std::string>();
  auto stage_scale = std::make_shared<double>(1.0);
  auto* stages = cluster->add_subcommand("stages", "Print the kwok Stages a profile turns into");
  stages->add_option("--profile", *stage_profile,
                     "Latency profile (default profiles/default.yaml)");
  stages->add_option("--time-scale", *stage_scale, "Multiply every pod delay")
      ->capture_default_str();
  stages->callback([stage_profile, stage_scale] {
    std::string path =
        stage_profile->empty() ? source_dir() + "/profiles/default.yaml" : *stage_profile;
    try {
      kc::StageOptions o;
      o.time_scale = *stage_scale;
      std::cout << kc::generate_stages(kc::load_profile(path), o);
    } catch (const std::invalid_argument& e) {
      throw CommandError(kInvalidInput, e.what());
    }
  });

  auto pf = std::make_shared<ProxyFlags>();
  auto* proxy =
      cluster->add_subcommand("fault-proxy", "Run the fault-injecting API proxy in the foreground");
  proxy->add_option("--listen", pf->listen, "HOST:PORT")->capture_default_str();
  proxy->add_option("--upstream", pf->upstream, "https://HOST:PORT of the API server")->required();
  proxy->add_option("--ca", pf->ca, "CA file to verify the API server")->required();
  proxy->add_option("--client-cert", pf->client_cert, "Client certificate for the API server")
      ->required();
  proxy->add_option("--client-key", pf->client_key, "Its key")->required();
  proxy->add_option("--serve-cert", pf->serve_cert, "The proxy's serving certificate")->required();
  proxy->add_option("--serve-key", pf->serve_key, "Its key")->required();
  proxy->add_option("--spec", pf->spec, "Faults: error-rate=0.1,latency-ms=50,cut-watch-after=5s");
  proxy->callback([pf] { run_fault_proxy(*pf); });
}

}  // namespace kolla::cli
