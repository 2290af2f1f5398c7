// kolla-operator against a real API server (the local cluster): the CRDs are accepted and
// refuse invalid specs, and examples/minimal.yaml converges to Ready with every service Ready,
// then tears down through the finalizers.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "common/process.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class OperatorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kc = std::getenv("KOLLA_E2E_KUBECONFIG");
    if (kc == nullptr || *kc == '\0') GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set";
    kubeconfig_ = kc;
    auto kubectl = kolla::find_executable("kubectl");
    ASSERT_TRUE(kubectl) << "kubectl not found";
    kubectl_ = *kubectl;
    source_ = KOLLA_SOURCE_DIR;
    if (const char* t = std::getenv("KOLLA_E2E_TIMEOUT_SECONDS"))
      timeout_ = std::chrono::seconds(std::atoi(t));
  }

  kolla::ProcessResult kubectl(std::vector<std::string> args, const std::string& stdin_data = {}) {
    std::vector<std::string> argv = {kubectl_, "--kubeconfig", kubeconfig_};
    argv.insert(argv.end(), args.begin(), args.end());
    kolla::RunOptions options;
    options.stdin_data = stdin_data;
    options.timeout = 120s;
    return kolla::run_process(argv, options);
  }

  json get_json(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    auto r = kubectl(args);
    if (!r.ok()) return json();
    return json::parse(r.out, nullptr, false);
  }

  std::string kubeconfig_;
  std::string kubectl_;
  std::string source_;
  std::chrono::seconds timeout_{900};
};

bool condition_true(const json& object, const std::string& type) {
  const auto ptr = json::json_pointer("/status/conditions");
  if (!object.contains(ptr)) return false;
  for (const auto& c : object.at(ptr)) {
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  }
  return false;
}

TEST_F(OperatorE2E, CrdsAreServedAndRefuseInvalidSpecs) {
  auto applied =
      kubectl({"apply", "--server-side", "-f", source_ + "/charts/kolla-operator/crds/"});
  ASSERT_TRUE(applied.ok()) << applied.err;
  auto established = kubectl({"wait", "--for", "condition=established", "--timeout=60s",
                              "crd/openstackdeployments.kolla.openstack.org",
                              "crd/openstackservices.kolla.openstack.org"});
  ASSERT_TRUE(established.ok()) << established.err;
  kubectl({"create", "namespace", "openstack"});

  const std::string bad = R"({"apiVersion":"kolla.openstack.org/v1alpha1",
    "kind":"OpenStackDeployment","metadata":{"name":"bad","namespace":"openstack"},
    "spec":{"release":"2025.1","images":{"pullPolicy":"Sometimes"},
            "services":{"Not_A_Name":{}}}})";
  auto refused = kubectl({"apply", "--dry-run=server", "-f", "-"}, bad);
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("pullPolicy"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("service names"), std::string::npos) << refused.err;

  auto good = kubectl({"apply", "--dry-run=server", "-f", source_ + "/examples/minimal.yaml"});
  EXPECT_TRUE(good.ok()) << good.err;
}

TEST_F(OperatorE2E, MinimalDeploymentBecomesReady) {
  ASSERT_TRUE(
      kubectl({"apply", "--server-side", "-f", source_ + "/charts/kolla-operator/crds/"}).ok());
  kubectl({"wait", "--for", "condition=established", "--timeout=60s",
           "crd/openstackdeployments.kolla.openstack.org",
           "crd/openstackservices.kolla.openstack.org"});
  kubectl({"create", "namespace", "openstack"});

  const std::string log =
      (std::filesystem::temp_directory_path() / "kolla-operator-e2e.log").string();
  kolla::ChildProcess::Options child;
  child.log_file = log;
  auto op = kolla::ChildProcess::spawn(
      {KOLLA_OPERATOR_BIN, "--kubeconfig", kubeconfig_, "--namespace", "openstack",
       "--leader-elect", "--metrics-addr", "127.0.0.1:0", "--health-addr", "127.0.0.1:0",
       "--charts-dir", source_ + "/charts"},
      child);

  auto applied = kubectl({"apply", "-f", source_ + "/examples/minimal.yaml"});
  ASSERT_TRUE(applied.ok()) << applied.err;

  const auto deadline = std::chrono::steady_clock::now() + timeout_;
  json osd;
  while (std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(op.running()) << "kolla-operator exited; see " << log;
    osd = get_json({"get", "openstackdeployment", "minimal", "-n", "openstack"});
    if (condition_true(osd, "Ready")) break;
    std::this_thread::sleep_for(2s);
  }
  ASSERT_TRUE(condition_true(osd, "Ready"))
      << "not Ready in time: " << osd.value("status", json()).dump(2) << "\nlog: " << log;
  EXPECT_EQ(osd["status"]["observedGeneration"], osd["metadata"]["generation"]);

  json services = get_json({"get", "openstackservices", "-n", "openstack"});
  ASSERT_TRUE(services.contains("items"));
  EXPECT_EQ(services["items"].size(), 4u);
  for (const auto& s : services["items"]) {
    EXPECT_TRUE(condition_true(s, "Ready")) << s["metadata"]["name"] << ": " << s["status"].dump();
    EXPECT_EQ(s.value("/status/phase"_json_pointer, std::string{}), "Ready");
  }
  auto columns = kubectl({"get", "ossvc", "-n", "openstack"});
  EXPECT_NE(columns.out.find("WAITING ON"), std::string::npos) << columns.out;

  // Teardown through the finalizers, in reverse dependency order.
  auto deleted = kubectl({"delete", "openstackdeployment", "minimal", "-n", "openstack",
                          "--wait=true", "--timeout=300s"});
  EXPECT_TRUE(deleted.ok()) << deleted.err;
  json left = get_json({"get", "openstackservices", "-n", "openstack"});
  EXPECT_TRUE(left.contains("items") && left["items"].empty()) << left.dump();
  EXPECT_EQ(op.stop(10s), 0) << "graceful shutdown on SIGTERM";
}

}  // namespace
