#include <exception>
#include <iostream>

#include "cli/cli.hpp"
#include "cli/deploy_commands.hpp"
#include "cli/import_commands.hpp"
#include "cli/node_commands.hpp"
#include "common/log.hpp"
#include "common/redact.hpp"

int main(int argc, char** argv) {
  using namespace kolla::cli;
  CLI::App app{"kollakube: deploy and run OpenStack on Kubernetes with Kolla images"};
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("--kubeconfig", global.kubeconfig, "Path to a kubeconfig (default: $KUBECONFIG)");
  app.add_option("--context", global.context, "The kubeconfig context to use");
  app.add_option("-n,--namespace", global.namespace_, "Namespace (default: the spec's)");
  app.add_option("-v,--log-level", global.log_level, "trace, debug, info, warn or error")
      ->capture_default_str();
  app.parse_complete_callback([&] { kolla::init_logging(global.log_level); });

  // Each command group adds itself here.
  add_plan_commands(app, global);
  add_cluster_commands(app, global);
  add_import_commands(app, global);
  add_deploy_commands(app, global);
  add_node_commands(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUsage;
  } catch (const CommandError& e) {
    std::cerr << "error: " << kolla::redact(e.what()) << '\n';
    return e.exit_code;
  } catch (const std::exception& e) {
    std::cerr << "error: " << kolla::redact(e.what()) << '\n';
    return kFailed;
  }
  return kOk;
}
