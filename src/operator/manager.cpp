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
#include "operator/node_watch.hpp"
#include "operator/resources.hpp"
#include "operator/service_controller.hpp"

namespace kolla::op {
namespace {

// The objects in an informer's cache, in ns, whose label `key` has `value`.
std::vector<json> labelled(const kube::Informer& cache, const std::string& ns,
                           const std::string& key, const std::string& value) {
  std::vector<json> out;
  for (const auto& object : cache.store().list(ns)) {
    const json labels = object->value("/metadata/labels"_json_pointer, json::object());
    if (labels.is_object() && labels.value(key, "") == value) out.push_back(*object);
  }
  return out;
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
  register_request_counter(registry, [client] { return client->request_counts(); });
  MetricFamily& leader_gauge =
      registry.gauge("kolla_operator_leader", "1 when this replica holds the leader lease.");
  EventRecorder events(objects, "kolla-operator", identity);
  HelmServiceRenderer renderer(charts_dir);
  // Unready nodes (a Node informer below feeds it); the pods on one are listed when asked.
  NodeTracker node_tracker([client](const std::string& ns, const std::string& node) {
    kube::ListOptions list;
    list.field_selector = "spec.nodeName=" + node;
    return client->list(kube::gvk::kPod, ns, list).items;
  });
  ServiceControllerOptions service_options;
  service_options.only_service = options.only_service;
  service_options.nodes = &node_tracker;
  // Caches of the informers below (set before the controllers start): reads of applied objects
  // and EndpointSlices come from them when they hold them.
  std::map<std::string, const kube::Informer*> object_caches;  // by GroupVersionKind::str()
  const kube::Informer* slice_cache = nullptr;
  service_options.cached_object = [&object_caches](const GroupVersionKind& gvk,
                                                   const std::string& ns,
                                                   const std::string& name) -> std::optional<json> {
    auto it = object_caches.find(gvk.str());
    if (it == object_caches.end()) return std::nullopt;
    const kube::ObjectPtr object = it->second->store().get(ns, name);
    if (!object) return std::nullopt;
    return *object;
  };
  service_options.cached_endpoint_slices =
      [&slice_cache](const std::string& ns,
                     const std::string& service) -> std::optional<std::vector<json>> {
    if (slice_cache == nullptr || !slice_cache->has_synced()) return std::nullopt;
    return labelled(*slice_cache, ns, kEndpointSliceServiceLabel, service);
  };
  const kube::Informer* services_cache = nullptr;  // the OpenStackService informer (below)
  service_options.cached_service =
      [&services_cache](const std::string& ns, const std::string& name) -> std::optional<json> {
    if (services_cache == nullptr) return std::nullopt;
    const kube::ObjectPtr object = services_cache->store().get(ns, name);
    if (!object) return std::nullopt;
    return *object;
  };
  // The Job pod informer (below) answers; set before the controllers start.
  const kube::Informer* job_pod_cache = nullptr;
  service_options.job_pods = [&job_pod_cache](const std::string& ns, const std::string& job) {
    if (job_pod_cache == nullptr) return std::vector<json>{};
    return labelled(*job_pod_cache, ns, kJobNameLabel, job);
  };
  ServiceReconciler service_reconciler(objects, renderer, events, registry, service_options);
  // Charts of services still waiting for their dependencies are rendered ahead of time, one at a
  // time, so that a service's first reconcile does not wait for helm (the latest desired
  // OpenStackService per key).
  std::mutex prerender_mutex;
  std::map<std::string, json> prerender_pending;
  Controller prerenders(
      "prerender",
      [&](const std::string& key) {
        json service;
        {
          std::lock_guard lock(prerender_mutex);
          auto it = prerender_pending.find(key);
          if (it == prerender_pending.end()) return Result{};
          service = std::move(it->second);
          prerender_pending.erase(it);
        }
        service_reconciler.prerender(service);
        return Result{};
      },
      ControllerOptions{1, {}}, &controller_metrics);
  // The OpenStackService informer (below) also answers the deployment controller's listing.
  DeploymentControllerOptions deployment_options;
  deployment_options.cached_services =
      [&services_cache](const std::string& ns,
                        const std::string& deployment) -> std::optional<std::vector<json>> {
    if (services_cache == nullptr || !services_cache->has_synced()) return std::nullopt;
    return labelled(*services_cache, ns, kDeploymentLabel, deployment);
  };
  deployment_options.prepare = [&](const json& desired) {
    const std::string key = kube::object_key(desired);
    {
      std::lock_guard lock(prerender_mutex);
      prerender_pending[key] = desired;
    }
    prerenders.enqueue(key);
  };
  DeploymentReconciler deployment_reconciler(
      objects, [charts_dir] { return plan::ServiceCatalog::load(charts_dir); }, events,
      deployment_options);

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
  services_cache = oss.get();
  oss->add_handlers(service_event_handlers(services, deployments));
  informers.push_back(std::move(oss));

  kube::InformerOptions owned = inf;
  owned.label_selector = kServiceLabel;
  std::map<std::string, const kube::Informer*> workload_informers;  // by kind
  for (const auto& gvk :
       {kube::gvk::kJob, kube::gvk::kDeployment, kube::gvk::kStatefulSet, kube::gvk::kDaemonSet}) {
    auto informer = std::make_unique<kube::Informer>(client, gvk, owned);
    informer->add_handlers(owned_object_event_handlers(services));
    workload_informers[gvk.kind] = informer.get();
    object_caches[gvk.str()] = informer.get();
    informers.push_back(std::move(informer));
  }
  // Event sources and caches (the reconcilers read the API when they lack an object): PVCs,
  // ConfigMaps and Services a service applied, and the EndpointSlices of those Services
  // (labelled with the Service's name, not ours). They do not gate readiness, so a narrower RBAC
  // (no watch on them) degrades to reads from the API and the safety-net poll.
  std::vector<std::unique_ptr<kube::Informer>> event_sources;
  for (const auto& gvk :
       {kube::gvk::kPersistentVolumeClaim, kube::gvk::kConfigMap, kube::gvk::kService}) {
    auto informer = std::make_unique<kube::Informer>(client, gvk, owned);
    informer->add_handlers(owned_object_event_handlers(services));
    object_caches[gvk.str()] = informer.get();
    event_sources.push_back(std::move(informer));
  }
  const kube::Informer* kube_services = event_sources.back().get();
  kube::InformerOptions slices = inf;
  slices.label_selector = kEndpointSliceServiceLabel;
  auto slice_informer = std::make_unique<kube::Informer>(client, kEndpointSliceKind, slices);
  slice_informer->add_handlers(endpoint_slice_event_handlers(
      services,
      [kube_services](const std::string& key) { return kube_services->store().get(key); }));
  slice_cache = slice_informer.get();
  event_sources.push_back(std::move(slice_informer));
  // Nodes (cluster-scoped): a node turning unready or Ready again enqueues the services with pods
  // on it (pod → its workload in the caches above → the workload's service). Not waited for by
  // /readyz: until it syncs, no node is known to be unready.
  kube::InformerOptions node_options;
  node_options.transform = keep_node_readiness;
  auto node_informer = std::make_unique<kube::Informer>(client, kube::gvk::kNode, node_options);
  node_informer->add_handlers(node_event_handlers(
      services, node_tracker, options.namespace_,
      [&workload_informers](const json& pod) -> std::optional<std::string> {
        const auto workload = pod_workload(pod);
        if (!workload) return std::nullopt;
        const auto slash = workload->find('/');
        auto it = workload_informers.find(workload->substr(0, slash));
        if (it == workload_informers.end()) return std::nullopt;
        const kube::ObjectPtr object =
            it->second->store().get(pod.value("/metadata/namespace"_json_pointer, std::string{}),
                                    workload->substr(slash + 1));
        if (!object) return std::nullopt;
        return owning_service_key(*object);
      }));
  event_sources.push_back(std::move(node_informer));
  // The pods of Jobs (label batch.kubernetes.io/job-name): a Job's pod succeeding makes the Job
  // healthy at once, about a second before the Job controller marks the Job Complete.
  kube::InformerOptions job_pods = inf;
  job_pods.label_selector = kJobNameLabel;
  auto job_pod_informer = std::make_unique<kube::Informer>(client, kube::gvk::kPod, job_pods);
  job_pod_cache = job_pod_informer.get();
  const kube::Informer* jobs_cache = workload_informers.at(kube::gvk::kJob.kind);
  job_pod_informer->add_handlers(job_pod_event_handlers(
      services, [jobs_cache](const std::string& key) { return jobs_cache->store().get(key); }));
  event_sources.push_back(std::move(job_pod_informer));

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
    prerenders.start();
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
  prerenders.stop();
  for (auto& i : informers) i->stop();
  for (auto& i : event_sources) i->stop();
  if (elector) elector->stop();
  endpoints.stop();
  return code;
}

}  // namespace kolla::op
