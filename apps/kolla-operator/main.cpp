// kolla-operator: the OpenStackDeployment and OpenStackService controllers.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>

#include "common/log.hpp"
#include "common/redact.hpp"
#include "common/signals.hpp"
#include "operator/manager.hpp"

namespace {
std::atomic<bool> g_stop{false};
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kolla-operator: deploys OpenStack from OpenStackDeployment resources"};
  kolla::op::ManagerOptions options;
  std::string log_level = "info";
  bool disable_fencing = false;
  app.add_option("--kubeconfig", options.kubeconfig,
                 "kubeconfig file (default: $KUBECONFIG, "
                 "~/.kube/config, in-cluster)");
  app.add_option("--context", options.context, "kubeconfig context");
  app.add_option("--namespace", options.namespace_, "watch only this namespace (default: all)");
  app.add_option("--only-service", options.only_service,
                 "reconcile only OpenStackServices of this service");
  app.add_flag("--leader-elect", options.leader_elect,
               "hold a coordination.k8s.io Lease; only the holder reconciles");
  app.add_option("--lease-namespace", options.lease_namespace, "namespace of the Lease");
  app.add_option("--metrics-addr", options.metrics_addr, "serve /metrics here ('' to disable)")
      ->capture_default_str();
  app.add_option("--health-addr", options.health_addr,
                 "serve /healthz and /readyz here ('' to disable)")
      ->capture_default_str();
  app.add_option("--charts-dir", options.charts_dir, "charts directory (default: <source>/charts)");
  app.add_option("--workers", options.workers, "service controller workers")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_flag("--disable-fencing", disable_fencing,
               "do not run the fencing controller (spec.fencing is then ignored)");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.fencing = !disable_fencing;

  kolla::init_logging(log_level);
  kolla::install_stop_signals(g_stop);
  try {
    return kolla::op::run_manager(options, g_stop);
  } catch (const std::exception& e) {
    spdlog::critical("kolla-operator: {}", kolla::redact(e.what()));
    return 1;
  }
}
