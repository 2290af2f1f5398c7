#pragma once
// Shared pieces of the kollakube sub-commands. Each group of commands lives in its own file and
// adds itself to the CLI11 app through an add_*_commands() function called from apps/kollakube.

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

namespace kolla::cli {

// Exit codes (documented in docs/cli.md).
enum ExitCode : int {
  kOk = 0,
  kFailed = 1,        // the operation ran and failed (a deploy that did not become Ready…)
  kUsage = 2,         // bad flags or arguments
  kInvalidInput = 3,  // a spec, values or kubeconfig that cannot be used
  kToolMissing = 4,   // helm/kubectl/cluster binaries not found
  kTimeout = 5,       // --timeout passed
};

// Thrown by a command to end with a clear message and a specific exit code.
struct CommandError : std::runtime_error {
  CommandError(int code, const std::string& message)
      : std::runtime_error(message), exit_code(code) {}
  int exit_code;
};

// Flags shared by every command (kubectl-like).
struct GlobalOptions {
  std::string kubeconfig;  // --kubeconfig, else $KUBECONFIG, else the local cluster
  std::string context;     // --context
  std::string namespace_;  // -n/--namespace
  std::string log_level = "info";
};

void add_plan_commands(CLI::App& app, GlobalOptions& global);     // graph, plan, render, genpwd
void add_cluster_commands(CLI::App& app, GlobalOptions& global);  // cluster up/down/status

}  // namespace kolla::cli
