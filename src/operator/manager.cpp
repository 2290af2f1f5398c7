#include "operator/manager.hpp"

#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>
#include <thread>

#include "common/process.hpp"
#include "common/redact.hpp"
#include "fencing/config.hpp"
#include "fencing/fencer.hpp"
#include "kube/informer.hpp"
#include "operator/controller.hpp"
#include "operator/deployment_controller.hpp"
#include "operator/event_routing.hpp"
#include "operator/events.hpp"
#include "operator/http_endpoints.hpp"
#include "operator/leader_election.hpp"
#include "operator/resources.hpp"
#include "operator/service_controller.hpp"

namespace kolla::op {

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
  const kube::Informer* deployments_informer = osd.get();
  // Every change a controller waits for enqueues the waiting key at once (event_routing.hpp);
  // the controllers' polls are only a safety net.
  osd->add_handlers(deployment_event_handlers(deployments));
  informers.push_back(std::move(osd));

  auto oss = std::make_unique<kube::Informer>(client, kServiceKind, inf);
  oss->add_handlers(service_event_handlers(services, deployments));
  informers.push_back(std::move(oss));

  kube::InformerOptions owned = inf;
  owned.label_selector = kServiceLabel;
  for (const auto& gvk :
       {kube::gvk::kJob, kube::gvk::kDeployment, kube::gvk::kStatefulSet, kube::gvk::kDaemonSet}) {
    auto informer = std::make_unique<kube::Informer>(client, gvk, owned);
    informer->add_handlers(owned_object_event_handlers(services));
    informers.push_back(std::move(informer));
  }
  // Event sources only (the reconcilers read the API): PVCs and Services a service applied, and
  // the EndpointSlices of those Services (labelled with the Service's name, not ours). They do not
  // gate readiness, so a narrower RBAC (no watch on them) degrades to the safety-net poll.
  std::vector<std::unique_ptr<kube::Informer>> event_sources;
  for (const auto& gvk : {kube::gvk::kPersistentVolumeClaim, kube::gvk::kService}) {
    auto informer = std::make_unique<kube::Informer>(client, gvk, owned);
    informer->add_handlers(owned_object_event_handlers(services));
    event_sources.push_back(std::move(informer));
  }
  const kube::Informer* kube_services = event_sources.back().get();
  kube::InformerOptions slices = inf;
  slices.label_selector = kEndpointSliceServiceLabel;
  auto slice_informer = std::make_unique<kube::Informer>(client, kEndpointSliceKind, slices);
  slice_informer->add_handlers(endpoint_slice_event_handlers(
      services,
      [kube_services](const std::string& key) { return kube_services->store().get(key); }));
  event_sources.push_back(std::move(slice_informer));

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

  // Fencing: configured by spec.fencing of the OpenStackDeployments the informer holds. An
  // invalid block disables it (logged once per distinct error).
  std::mutex fencing_mutex;
  std::string fencing_error;
  fencing::ConfigProvider fencing_config = [&]() -> fencing::Config {
    std::vector<json> items;
    for (const auto& o : deployments_informer->store().list()) items.push_back(*o);
    const auto block = fencing::fencing_block(items);
    if (!block) return fencing::Config{};
    try {
      fencing::Config config = fencing::parse_config(*block);
      std::lock_guard lock(fencing_mutex);
      fencing_error.clear();
      return config;
    } catch (const fencing::ConfigError& e) {
      const std::string message = redact(e.what());
      std::lock_guard lock(fencing_mutex);
      if (message != fencing_error) {
        spdlog::error("spec.fencing is invalid, fencing disabled: {}", message);
        fencing_error = message;
      }
      return fencing::Config{};
    }
  };
  std::unique_ptr<fencing::FencingController> fencer;
  if (options.fencing) {
    fencer = std::make_unique<fencing::FencingController>(
        client, objects, events, fencing_config, fencing::FencingDeps{}, &controller_metrics);
  }

  std::atomic<bool> leading{!options.leader_elect};
  std::atomic<bool> lost{false};
  std::atomic<bool> started{false};
  auto start_controllers = [&] {
    if (started.exchange(true)) return;
    services.start();
    deployments.start();
    if (fencer) fencer->start();
    spdlog::info("controllers started ({} workers, fencing {})", options.workers,
                 fencer ? "on" : "off");
  };

  for (auto& i : informers) i->start();
  for (auto& i : event_sources) i->start();
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
  if (fencer) fencer->stop();
  services.stop();
  deployments.stop();
  for (auto& i : informers) i->stop();
  for (auto& i : event_sources) i->stop();
  if (elector) elector->stop();
  endpoints.stop();
  return code;
}

}  // namespace kolla::op
