#include "cli/node_commands.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cluster/local_cluster.hpp"
#include "common/redact.hpp"
#include "fencing/fencer.hpp"
#include "kube/client.hpp"
#include "kube/errors.hpp"
#include "kube/kubeconfig.hpp"
#include "operator/events.hpp"
#include "operator/object_client.hpp"

namespace kolla::cli {

namespace {

namespace fs = std::filesystem;

struct NodeFlags {
  std::string output = "table";
  std::string cluster = "kolla";
  std::string name;
};

// --kubeconfig, else $KUBECONFIG (its first entry), else the local cluster when it runs, else
// the kubeconfig defaults (~/.kube/config, in-cluster).
std::shared_ptr<kube::Client> node_client(const GlobalOptions& global, const NodeFlags& flags) {
  std::string kubeconfig = global.kubeconfig;
  if (kubeconfig.empty()) {
    const char* env = std::getenv("KUBECONFIG");
    if (env != nullptr && *env != '\0') {
      kubeconfig = std::string(env).substr(0, std::string(env).find(':'));
    }
  }
  if (kubeconfig.empty()) {
    cluster::LocalCluster local(flags.cluster);
    if (local.status().exists) kubeconfig = (fs::path(local.dir()) / "kubeconfig").string();
  }
  try {
    return kube::Client::from_kubeconfig({kubeconfig, global.context});
  } catch (const kube::KubeConfigError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
}

std::string cell(const std::string& text, std::size_t width) {
  if (text.size() >= width) return text + " ";
  return text + std::string(width - text.size(), ' ');
}

void run_list(const GlobalOptions& global, const NodeFlags& flags) {
  auto client = node_client(global, flags);
  op::KubeObjectClient objects(client);
  std::vector<fencing::FencedNode> nodes;
  try {
    nodes = fencing::list_fenced(objects);
  } catch (const kube::ApiError& e) {
    throw CommandError(kFailed, redact(e.what()));
  }
  if (flags.output == "json") {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& n : nodes) {
      out.push_back({{"name", n.name},
                     {"state", n.state},
                     {"agent", n.agent},
                     {"attempts", n.attempts},
                     {"started", n.started},
                     {"updated", n.updated},
                     {"message", n.message},
                     {"ready", n.ready},
                     {"tainted", n.tainted}});
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  if (nodes.empty()) {
    std::cout << "no fenced nodes\n";
    return;
  }
  std::cout << cell("NAME", 24) << cell("STATE", 18) << cell("AGENT", 12) << cell("ATTEMPTS", 9)
            << cell("READY", 6) << cell("TAINTED", 8) << cell("UPDATED", 21) << "MESSAGE\n";
  for (const auto& n : nodes) {
    std::cout << cell(n.name, 24) << cell(n.state.empty() ? "-" : n.state, 18)
              << cell(n.agent.empty() ? "-" : n.agent, 12) << cell(std::to_string(n.attempts), 9)
              << cell(n.ready ? "yes" : "no", 6) << cell(n.tainted ? "yes" : "no", 8)
              << cell(n.updated.empty() ? "-" : n.updated, 21) << redact(n.message) << "\n";
  }
}

void run_unfence(const GlobalOptions& global, const NodeFlags& flags) {
  auto client = node_client(global, flags);
  op::KubeObjectClient objects(client);
  op::EventRecorder events(objects, "kollakube", "kollakube");
  fencing::UnfenceResult result;
  try {
    result = fencing::unfence(objects, flags.name, &events);
  } catch (const kube::ApiError& e) {
    if (e.not_found()) throw CommandError(kInvalidInput, "node " + flags.name + " not found");
    throw CommandError(kFailed, redact(e.what()));
  }
  if (!result.unfenced) throw CommandError(kFailed, result.message);
  std::cout << result.message << "\n";
}

}  // namespace

void add_node_commands(CLI::App& app, GlobalOptions& global) {
  auto flags = std::make_shared<NodeFlags>();
  auto* node = app.add_subcommand("node", "Nodes and the fencing controller");
  node->require_subcommand(1);
  node->add_option("--cluster", flags->cluster, "local cluster to use when no kubeconfig is given")
      ->capture_default_str();

  auto* list =
      node->add_subcommand("list", "List fenced nodes (fence record or out-of-service taint)");
  list->add_option("-o,--output", flags->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  list->callback([flags, &global] { run_list(global, *flags); });

  auto* unfence = node->add_subcommand(
      "unfence", "Remove the out-of-service taint and fence record of a node that is Ready again");
  unfence->add_option("name", flags->name, "node name")->required();
  unfence->callback([flags, &global] { run_unfence(global, *flags); });
}

}  // namespace kolla::cli
