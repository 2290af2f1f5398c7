#pragma once
// The kolla-operator as a process on this machine, for clusters whose pods are simulated (the
// local cluster) or when asked for with --operator=local. A pid file per watched namespace in
// the state directory (kolla-operator-<ns>.pid, beside its .log) lets a later command reuse an
// operator left running (--keep-operator).

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace kolla::deploy {

// The kolla-operator binary: $KOLLA_OPERATOR_BIN, else next to the running executable, else in
// PATH or the project's tools. nullopt when none is found.
std::optional<std::string> find_operator_binary();

struct LocalOperatorOptions {
  std::string binary;
  std::string kubeconfig;
  std::string context;
  std::string namespace_;  // watched namespace (also the Lease's)
  std::string charts_dir;  // --charts-dir
  std::string state_dir;   // holds kolla-operator.pid and kolla-operator.log
  std::string log_level = "info";
};

// The argv the operator is started with.
std::vector<std::string> operator_argv(const LocalOperatorOptions& options);

class LocalOperator {
 public:
  // Reuses the operator recorded in state_dir when it still runs with the same kubeconfig and
  // namespace, else starts one. Throws std::runtime_error (with the log tail) when it exits
  // within the first second.
  static LocalOperator start(const LocalOperatorOptions& options);

  LocalOperator() = default;
  LocalOperator(LocalOperator&& other) noexcept;
  LocalOperator& operator=(LocalOperator&& other) noexcept;
  LocalOperator(const LocalOperator&) = delete;
  LocalOperator& operator=(const LocalOperator&) = delete;
  ~LocalOperator();

  int pid() const { return pid_; }
  bool reused() const { return reused_; }
  const std::string& log_file() const { return log_file_; }
  bool running();
  // Stops it (SIGTERM, then SIGKILL) and removes the pid file. No-op when kept.
  void stop();
  // Leaves it running after this process ends (the pid file stays).
  void keep();
  // The last lines of the log (for error messages).
  std::string log_tail(std::size_t lines = 20) const;

 private:
  ChildProcess child_;  // when started by us
  int pid_ = -1;
  bool reused_ = false;
  bool kept_ = false;
  std::string log_file_;
  std::string pid_file_;
};

}  // namespace kolla::deploy
