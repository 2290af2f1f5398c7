#pragma once
// A small harness for end-to-end tests against a real API server (the local cluster of
// scripts/e2e-cluster, or any cluster): the kubeconfig from KOLLA_E2E_KUBECONFIG, real kubectl
// and helm, polling with timeouts, and throw-away namespaces.
//
//   TEST(Thing, Works) {
//     KOLLA_E2E_REQUIRE_CLUSTER();
//     kolla::e2e::Namespace ns("thing");
//     auto& k = kolla::e2e::kubectl();
//     k.apply(yaml, ns.name());
//     EXPECT_TRUE(kolla::e2e::eventually([&] { ... }, std::chrono::seconds(60)));
//   }

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/process.hpp"

// Skips the test (with the message scripts and CI look for) when no cluster is configured.
#define KOLLA_E2E_REQUIRE_CLUSTER()                            \
  do {                                                         \
    if (!::kolla::e2e::kubeconfig()) {                         \
      GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set"; \
    }                                                          \
  } while (0)

namespace kolla::e2e {

// $KOLLA_E2E_KUBECONFIG when set and non-empty.
std::optional<std::string> kubeconfig();

// A tool (kubectl, helm) bound to the e2e kubeconfig.
class Tool {
 public:
  explicit Tool(std::string program) : program_(std::move(program)) {}
  // Runs `program --kubeconfig K args...`; never throws for a non-zero exit.
  ProcessResult run(const std::vector<std::string>& args, const std::string& stdin_data = {},
                    std::chrono::seconds timeout = std::chrono::seconds(180)) const;
  // Like run(), but fails the current test (ADD_FAILURE) and returns "" on a non-zero exit.
  std::string must(const std::vector<std::string>& args, const std::string& stdin_data = {}) const;

 protected:
  std::string program_;
};

class Kubectl : public Tool {
 public:
  using Tool::Tool;
  // kubectl apply --server-side -f - (in namespace ns when given).
  ProcessResult apply(const std::string& yaml, const std::string& ns = {}) const;
  // kubectl get ... -o json, parsed; null on failure.
  nlohmann::json get_json(const std::vector<std::string>& args) const;
};

const Kubectl& kubectl();
const Tool& helm();

// Polls `condition` every `interval` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(250));

// A namespace named e2e-<prefix>-<pid>, created now and deleted (without waiting) on destruction.
class Namespace {
 public:
  explicit Namespace(const std::string& prefix);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;
  const std::string& name() const { return name_; }

 private:
  std::string name_;
};

// Items of a `kubectl get -o json` list whose .status.phase equals phase.
int count_phase(const nlohmann::json& list, const std::string& phase);
// The status ("True"/"False"/"Unknown"/"") of condition `type` of an object.
std::string condition(const nlohmann::json& object, const std::string& type);

}  // namespace kolla::e2e
