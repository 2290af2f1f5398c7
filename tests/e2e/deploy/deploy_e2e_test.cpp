// kollakube deploy → status → destroy against a real API server, the operator running as a
// local process (--operator=local): examples/minimal.yaml becomes Ready, `status -o json` shows
// every service Ready, and destroy removes the deployment and its services; the same through the
// fault proxy.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

class DeployE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kc = std::getenv("KOLLA_E2E_KUBECONFIG");
    if (kc == nullptr || *kc == '\0') GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set";
    kubeconfig_ = kc;
    cleanup_kubeconfig_ = kc;
    // KOLLA_KOLLAKUBE_BIN overrides the binary under test.
    if (const char* bin = std::getenv("KOLLA_KOLLAKUBE_BIN"); bin != nullptr && *bin != '\0') {
      kollakube_ = bin;
    }
    if (const char* t = std::getenv("KOLLA_E2E_TIMEOUT_SECONDS")) timeout_ = std::atoi(t);
    ns_ = "e2e-deploy-" + std::to_string(::getpid());
  }

  void TearDown() override {
    if (kubeconfig_.empty()) return;
    if (auto kubectl = kolla::find_executable("kubectl")) {
      kolla::RunOptions o;
      o.timeout = 60s;
      kolla::run_process({*kubectl, "--kubeconfig", cleanup_kubeconfig_, "delete", "namespace", ns_,
                          "--ignore-not-found", "--wait=false"},
                         o);
    }
  }

  kolla::ProcessResult kollakube(std::vector<std::string> args) {
    std::vector<std::string> argv = {kollakube_, "--kubeconfig", kubeconfig_, "-n", ns_};
    argv.insert(argv.end(), args.begin(), args.end());
    kolla::RunOptions o;
    o.timeout = std::chrono::seconds(timeout_ + 60);
    o.extra_env["KOLLA_OPERATOR_BIN"] = KOLLA_OPERATOR_BIN;
    return kolla::run_process(argv, o);
  }

  std::string kubeconfig_;          // what kollakube (and the operator it starts) uses
  std::string cleanup_kubeconfig_;  // the direct one, for the clean-up
  // `kollakube VERB -f examples/minimal.yaml` (deploy or destroy) with the local operator.
  kolla::ProcessResult minimal(const std::string& verb) {
    return kollakube({verb, "-f", std::string(KOLLA_SOURCE_DIR) + "/examples/minimal.yaml",
                      "--operator=local", "--timeout", std::to_string(timeout_) + "s"});
  }

  void expect_minimal_ready(const kolla::ProcessResult& deployed) {
    ASSERT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;
    EXPECT_NE(deployed.out.find("OpenStackDeployment " + ns_ + "/minimal Ready: 4 services"),
              std::string::npos)
        << deployed.out;
  }

  std::string kollakube_ = KOLLAKUBE_BIN;
  std::string ns_;
  int timeout_ = 600;
};

TEST_F(DeployE2E, DeployStatusDestroyMinimal) {
  const auto deployed = minimal("deploy");
  ASSERT_NO_FATAL_FAILURE(expect_minimal_ready(deployed));
  // Not a terminal: one line per change, no escape sequences.
  EXPECT_EQ(deployed.out.find("\x1b["), std::string::npos);
  EXPECT_NE(deployed.out.find("keystone: Ready after"), std::string::npos) << deployed.out;
  EXPECT_NE(deployed.err.find("created with"), std::string::npos) << deployed.err;

  auto status = kollakube({"status", "minimal", "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const json doc = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << status.out;
  EXPECT_EQ(doc["name"], "minimal");
  EXPECT_EQ(doc["namespace"], ns_);
  EXPECT_EQ(doc["status"]["servicesReady"], "4/4");
  for (const char* s : {"mariadb", "memcached", "rabbitmq", "keystone"}) {
    EXPECT_EQ(doc["services"][s]["phase"], "Ready") << s;
  }
  // The passwords were not printed anywhere.
  EXPECT_EQ(status.out.find("password\":"), std::string::npos);

  auto table = kollakube({"status", "minimal"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("SERVICE"), std::string::npos);
  EXPECT_NE(table.out.find("4/4 ready"), std::string::npos) << table.out;

  // A second deploy of the same file is a no-op that is Ready at once (passwords kept).
  auto again = minimal("deploy");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.err.find("keys kept, 0 added"), std::string::npos) << again.err;

  auto destroyed = minimal("destroy");
  ASSERT_EQ(destroyed.exit_code, 0) << destroyed.out << destroyed.err;
  EXPECT_NE(destroyed.out.find("and its services deleted"), std::string::npos) << destroyed.out;

  auto gone = kollakube({"status", "minimal", "-o", "json"});
  EXPECT_EQ(gone.exit_code, 1) << gone.out;
  EXPECT_NE(gone.err.find("not found"), std::string::npos) << gone.err;
}

// kollakube and the operator it starts both talk through the fault proxy of scripts/e2e-cluster
// (a tenth of the requests answered 429/500/503, watches cut every few seconds): slower, still
// Ready, and destroy still removes everything.
TEST_F(DeployE2E, DeployAndDestroyThroughTheFaultProxy) {
  const char* faulty = std::getenv("KOLLA_E2E_FAULTY_KUBECONFIG");
  if (faulty == nullptr || *faulty == '\0') {
    GTEST_SKIP() << "skipped: KOLLA_E2E_FAULTY_KUBECONFIG not set";
  }
  kubeconfig_ = faulty;
  ASSERT_NO_FATAL_FAILURE(expect_minimal_ready(minimal("deploy")));

  auto status = kollakube({"status", "minimal", "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  const json doc = json::parse(status.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << status.out;
  EXPECT_EQ(doc["status"]["servicesReady"], "4/4");

  auto destroyed = minimal("destroy");
  ASSERT_EQ(destroyed.exit_code, 0) << destroyed.out << destroyed.err;
  auto gone = kollakube({"status", "minimal", "-o", "json"});
  EXPECT_EQ(gone.exit_code, 1) << gone.out;
}

TEST_F(DeployE2E, InvalidSpecIsRefusedBeforeTouchingTheCluster) {
  auto r = kollakube({"deploy", "-f", std::string(KOLLA_SOURCE_DIR) + "/README.md"});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
}

}  // namespace
