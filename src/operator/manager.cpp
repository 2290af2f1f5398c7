#include "operator/manager.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <thread>

#include "common/process.hpp"
#include "common/redact.hpp"
#include "kube/informer.hpp"
#include "operator/controller.hpp"
#include "operator/deployment_controller.hpp"
#include "operator/events.hpp"
#include "operator/http_endpoints.hpp"
#include "operator/leader_election.hpp"
#include "operator/resources.hpp"
#include "operator/service_controller.hpp"

namespace kolla::op {

namespace {

// Enqueues the OpenStackService named by an owned object's inventory label.
std::function<void(const kube::ObjectPtr&)> by_service_label(Controller& controller) {
  return [&controller](const kube::ObjectPtr& o) {
    const std::string svc =
        o->value("/metadata/labels/kolla.openstack.org~1service"_json_pointer, std::string{});
    const std::string ns = o->value("/metadata/namespace"_json_pointer, std::string{});
    if (!svc.empty()) controller.enqueue(kube::object_key(ns, svc));
  };
}

}  // namespace

int run_manager(const ManagerOptions& options, const std::atomic<bool>& stop) {
  auto client = kube::Client::from_kubeconfig({options.kubeconfig, options.context});
  KubeObjectClient objects(client);
  const std::string charts_dir =
      options.charts_dir.empty() ? source_dir() + "/charts" : options.charts_dir;
  const std::string identity = default_leader_identity();
  spdlog::info("kolla-operator {} starting: server {}, namespace {}, charts {}", identity,
               client->config().server, options.namespace_.empty() ? "(all)" : options.namespace_,
               charts_dir);

  Registry registry;
  ControllerMetrics controller_metrics(registry);
  MetricFamily& leader_gauge =
      registry.gauge("kolla_operator_leader", "1 when this replica holds the leader lease.");
  EventRecorder events(objects, "kolla-operator", identity);
  HelmServiceRenderer renderer(charts_dir);
  ServiceControllerOptions service_options;
  service_options.only_service = options.only_service;
  ServiceReconciler service_reconciler(objects, renderer, events, registry, service_options);
  DeploymentReconciler deployment_reconciler(
      objects, [charts_dir] { return plan::ServiceCatalog::load(charts_dir); }, events);

  Controller services(
      "service", [&](const std::string& key) { return service_reconciler.reconcile(key); },
      ControllerOptions{options.workers, {}}, &controller_metrics);
  Controller deployments(
      "deployment", [&](const std::string& key) { return deployment_reconciler.reconcile(key); },
      ControllerOptions{std::max(1, options.workers / 2), {}}, &controller_metrics);

  // Informers.
  kube::InformerOptions inf;
  inf.namespace_ = options.namespace_;
  std::vector<std::unique_ptr<kube::Informer>> informers;
  auto osd = std::make_unique<kube::Informer>(client, kDeploymentKind, inf);
  auto enqueue_deployment = [&deployments](const kube::ObjectPtr& o) {
    deployments.enqueue(kube::object_key(*o));
  };
  osd->add_handlers({enqueue_deployment,
                     [enqueue_deployment](const kube::ObjectPtr&, const kube::ObjectPtr& n) {
                       enqueue_deployment(n);
                     },
                     enqueue_deployment});
  informers.push_back(std::move(osd));

  auto oss = std::make_unique<kube::Informer>(client, kServiceKind, inf);
  auto on_service = [&deployments, &services](const kube::ObjectPtr& o) {
    services.enqueue(kube::object_key(*o));
    const std::string owner =
        o->value("/metadata/labels/kolla.openstack.org~1deployment"_json_pointer, std::string{});
    if (!owner.empty()) {
      deployments.enqueue(
          kube::object_key(o->value("/metadata/namespace"_json_pointer, std::string{}), owner));
    }
  };
  oss->add_handlers(
      {on_service,
       [on_service](const kube::ObjectPtr&, const kube::ObjectPtr& n) { on_service(n); },
       on_service});
  informers.push_back(std::move(oss));

  kube::InformerOptions owned = inf;
  owned.label_selector = kServiceLabel;
  for (const auto& gvk :
       {kube::gvk::kJob, kube::gvk::kDeployment, kube::gvk::kStatefulSet, kube::gvk::kDaemonSet}) {
    auto informer = std::make_unique<kube::Informer>(client, gvk, owned);
    auto h = by_service_label(services);
    informer->add_handlers({h, [h](const kube::ObjectPtr&, const kube::ObjectPtr& n) { h(n); }, h});
    informers.push_back(std::move(informer));
  }

  auto synced = [&informers] {
    for (const auto& i : informers) {
      if (!i->has_synced()) return false;
    }
    return true;
  };
  HttpEndpoints endpoints(registry, {nullptr, [&](std::string& why) {
                                       if (synced()) return true;
                                       why = "informers not synced";
                                       return false;
                                     }});
  try {
    if (!options.metrics_addr.empty()) endpoints.listen(options.metrics_addr);
    if (!options.health_addr.empty() && options.health_addr != options.metrics_addr) {
      endpoints.listen(options.health_addr);
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 2;
  }

  std::atomic<bool> leading{!options.leader_elect};
  std::atomic<bool> lost{false};
  std::atomic<bool> started{false};
  auto start_controllers = [&] {
    if (started.exchange(true)) return;
    services.start();
    deployments.start();
    spdlog::info("controllers started ({} workers)", options.workers);
  };

  for (auto& i : informers) i->start();
  std::unique_ptr<LeaderElector> elector;
  if (options.leader_elect) {
    LeaderElectionOptions le;
    le.namespace_ = !options.lease_namespace.empty() ? options.lease_namespace
                    : !options.namespace_.empty()    ? options.namespace_
                                                     : client->default_namespace();
    le.identity = identity;
    le.on_started_leading = [&] {
      leading = true;
      leader_gauge.set({}, 1);
    };
    le.on_stopped_leading = [&] {
      if (leading.exchange(false)) lost = true;
      leader_gauge.set({}, 0);
    };
    elector = std::make_unique<LeaderElector>(objects, le);
    elector->start();
  } else {
    leader_gauge.set({}, 1);
  }

  int code = 0;
  while (!stop.load()) {
    if (lost.load()) {
      spdlog::error("leadership lost; stopping so that another replica takes over");
      code = 1;
      break;
    }
    if (leading.load() && synced()) start_controllers();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("shutting down");
  services.stop();
  deployments.stop();
  for (auto& i : informers) i->stop();
  if (elector) elector->stop();
  endpoints.stop();
  return code;
}

}  // namespace kolla::op
