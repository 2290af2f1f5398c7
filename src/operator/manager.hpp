#pragma once
// Runs both controllers in one process: informers (OpenStackDeployments, OpenStackServices, the
// workload kinds the services own, Nodes and the pods of Jobs) feed the work queues and serve
// the controllers' reads; /metrics, /healthz and /readyz are served; with leader election only
// the Lease holder reconciles. The fencing controller (src/fencing) runs beside them while
// leading, configured by spec.fencing of the OpenStackDeployments (inert while none enables it).
//
// Library kolla_manager (it links kolla_fencing, which itself links kolla_operator).

#include <atomic>
#include <string>

namespace kolla::op {

struct ManagerOptions {
  std::string kubeconfig;  // empty: $KUBECONFIG, ~/.kube/config, in-cluster
  std::string context;
  std::string namespace_;  // empty: every namespace
  std::string only_service;
  bool leader_elect = false;
  std::string lease_namespace;         // empty: namespace_, else the kubeconfig's namespace
  std::string metrics_addr = ":8080";  // empty: not served
  std::string health_addr = ":8081";   // empty: not served
  std::string charts_dir;              // empty: <source dir>/charts
  int workers = 4;
  bool fencing = true;  // run the fencing controller (--disable-fencing)
};

// Runs until `stop` becomes true (SIGTERM) or leadership is lost. Returns the exit code.
int run_manager(const ManagerOptions& options, const std::atomic<bool>& stop);

}  // namespace kolla::op
