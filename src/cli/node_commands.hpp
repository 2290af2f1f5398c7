#pragma once
// kollakube node: the fencing controller's view of the nodes (src/fencing).
//   kollakube node list            nodes with a fence record or the out-of-service taint
//   kollakube node unfence NAME    removes the taint and the record of a node that is Ready again
// Registered from apps/kollakube/main.cpp with add_node_commands(app, global).

#include "cli/cli.hpp"

namespace kolla::cli {

void add_node_commands(CLI::App& app, GlobalOptions& global);  // node list, node unfence

}  // namespace kolla::cli
