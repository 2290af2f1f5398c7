#pragma once
// kollakube deploy | status | destroy: an OpenStackDeployment through the operator.
#include <CLI/CLI.hpp>

#include "cli/cli.hpp"

namespace kolla::cli {

void add_deploy_commands(CLI::App& app, GlobalOptions& global);

}  // namespace kolla::cli
