#include "e2e.hpp"

#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace kolla::e2e {

std::optional<std::string> kubeconfig() {
  const char* k = std::getenv("KOLLA_E2E_KUBECONFIG");
  if (k == nullptr || *k == '\0') return std::nullopt;
  return std::string(k);
}

ProcessResult Tool::run(const std::vector<std::string>& args, const std::string& stdin_data,
                        std::chrono::seconds timeout) const {
  std::vector<std::string> argv{program_, "--kubeconfig", kubeconfig().value_or("")};
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions o;
  o.stdin_data = stdin_data;
  o.timeout = timeout;
  return run_process(argv, o);
}

std::string Tool::must(const std::vector<std::string>& args, const std::string& stdin_data) const {
  auto r = run(args, stdin_data);
  if (!r.ok()) {
    std::string cmd = program_;
    for (const auto& a : args) cmd += " " + a;
    ADD_FAILURE() << cmd << " exited " << r.exit_code << (r.timed_out ? " (timed out)" : "") << ": "
                  << r.err << r.out;
    return {};
  }
  return r.out;
}

ProcessResult Kubectl::apply(const std::string& yaml, const std::string& ns) const {
  std::vector<std::string> args{"apply", "--server-side", "-f", "-"};
  if (!ns.empty()) args.insert(args.end(), {"-n", ns});
  auto r = run(args, yaml);
  EXPECT_TRUE(r.ok()) << "kubectl apply failed: " << r.err;
  return r;
}

nlohmann::json Kubectl::get_json(const std::vector<std::string>& args) const {
  std::vector<std::string> a{"get"};
  a.insert(a.end(), args.begin(), args.end());
  a.insert(a.end(), {"-o", "json"});
  auto r = run(a);
  if (!r.ok()) return nullptr;
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_discarded() ? nlohmann::json(nullptr) : j;
}

namespace {
std::string tool_path(const std::string& name) {
  if (auto found = find_executable(name)) return *found;
  return name;
}
}  // namespace

const Kubectl& kubectl() {
  static const Kubectl k(tool_path("kubectl"));
  return k;
}

const Tool& helm() {
  static const Tool h(tool_path("helm"));
  return h;
}

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

Namespace::Namespace(const std::string& prefix)
    : name_("e2e-" + prefix + "-" + std::to_string(::getpid())) {
  kubectl().run({"delete", "namespace", name_, "--ignore-not-found", "--wait=true"});
  kubectl().must({"create", "namespace", name_});
  // Pods need the namespace's default ServiceAccount, which a controller creates.
  eventually(
      [&] {
        return kubectl().run({"get", "serviceaccount", "default", "-n", name_}).ok();
      },
      std::chrono::seconds(30));
}

Namespace::~Namespace() {
  kubectl().run({"delete", "namespace", name_, "--wait=false"});
}

int count_phase(const nlohmann::json& list, const std::string& phase) {
  int n = 0;
  if (!list.is_object()) return 0;
  for (const auto& item : list.value("items", nlohmann::json::array())) {
    if (item.contains("status") && item["status"].value("phase", "") == phase) ++n;
  }
  return n;
}

std::string condition(const nlohmann::json& object, const std::string& type) {
  if (!object.is_object() || !object.contains("status")) return "";
  for (const auto& c : object["status"].value("conditions", nlohmann::json::array())) {
    if (c.value("type", "") == type) return c.value("status", "");
  }
  return "";
}

}  // namespace kolla::e2e
