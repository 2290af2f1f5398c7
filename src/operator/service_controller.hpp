#pragma once
// The service controller: makes one OpenStackService's chart real.
//   1. renders the chart (cached by the renderer's hash: no helm run while inputs are unchanged);
//   2. applies it phase by phase in apply order with server-side apply (field manager
//      kolla-operator, force), each object labelled kolla.openstack.org/service=<name> and owned
//      by the OpenStackService; a StatefulSet without a persistentVolumeClaimRetentionPolicy gets
//      whenDeleted: Delete (its claims go with it, so teardown leaves the namespace clean);
//   3. waits for each phase's health before the next (src/operator/health.hpp), reading the
//      objects from the informers' caches when it can (cached_object), from the apply's answer
//      right after applying, else from the API;
//   4. a Job is applied once: a completed Job is left alone unless its rendered spec changed,
//      then it is deleted and created again (Job templates are immutable); an applied object
//      that disappeared (a failed Job deleted by hand to retry it) is applied again;
//   5. writes status (phase, conditions Ready/Progressing/Degraded, objects with health,
//      currentStep, waitingOn) and Events; a pod on a node that is not Ready makes the service
//      Degraded (NodeNotReady, node_watch.hpp);
//   6. once every phase is healthy and the status says Ready, prunes labelled objects that left
//      the render;
//   7. on deletion (finalizer kolla.openstack.org/cleanup) deletes its objects and waits for them.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "operator/clock.hpp"
#include "operator/controller.hpp"
#include "operator/events.hpp"
#include "operator/metrics.hpp"
#include "operator/node_watch.hpp"
#include "operator/object_client.hpp"
#include "operator/renderer.hpp"

namespace kolla::op {

struct ServiceControllerOptions {
  std::string only_service;  // reconcile only OpenStackServices of this service (spec.service)
  // Re-check while progressing: a safety net only, the objects' events enqueue the service at
  // once (event_routing.hpp). Kept short because an event can arrive before what routes it (an
  // EndpointSlice seen before its Service is in the cache, e.g. right after a leader change).
  std::chrono::milliseconds poll{5'000};
  std::chrono::milliseconds resync{600'000};  // re-apply everything this often (drift)
  std::chrono::milliseconds failed_retry{30'000};
  // Unready nodes and the pods on them (node_watch.hpp): a service with pods on a node that is
  // not Ready is Degraded (reason NodeNotReady). nullptr: not checked.
  NodeView* nodes = nullptr;
  // The objects of one phase are applied (and read) this many at a time: their API round trips
  // overlap. 1: one after the other.
  int parallel_requests = 8;
  // The pods of a Job (namespace, Job name), e.g. from an informer's cache: a Job whose pods
  // succeeded is healthy before its controller marks it Complete (health.hpp). Empty: not used.
  std::function<std::vector<json>(const std::string& ns, const std::string& job)> job_pods;
  // Reads from informer caches, to spare the API server a GET per object per reconcile: an
  // object of a cached kind (nullopt: not cached or not there, then it is read from the API), the
  // EndpointSlices of a Service (nullopt: not cached). An object cached with an older
  // metadata.generation than the operator's last apply of it is read from the API.
  std::function<std::optional<json>(const GroupVersionKind& gvk, const std::string& ns,
                                    const std::string& name)>
      cached_object;
  std::function<std::optional<std::vector<json>>(const std::string& ns, const std::string& service)>
      cached_endpoint_slices;
  // The OpenStackService itself from a cache (nullopt: read from the API). At least as new as
  // the event that enqueued it; a status write from a stale copy conflicts and reads again.
  std::function<std::optional<json>(const std::string& ns, const std::string& name)> cached_service;
};

class ServiceReconciler {
 public:
  ServiceReconciler(ObjectClient& client, ServiceRenderer& renderer, EventRecorder& events,
                    Registry& registry, ServiceControllerOptions options = {},
                    const Clock& clock = SystemClock::instance());

  // key: "namespace/name" of an OpenStackService.
  Result reconcile(const std::string& key);

  // Renders the chart of an OpenStackService that does not exist yet (as the deployment
  // controller will create it) into the render cache, so that its first reconcile finds it
  // rendered. Errors are left to that reconcile (logged at debug level here).
  void prerender(const json& service);

 private:
  struct Applied {
    std::string hash;
    std::set<std::size_t> phases;  // indexes of phases applied with this hash
    bool pruned = false;
    std::chrono::steady_clock::time_point at{};
    // "<gvk> <name>" → metadata.uid and metadata.generation returned by our last apply with
    // this hash: a cached object with another uid (an older incarnation) or an older generation
    // has not seen that apply yet.
    std::map<std::string, std::pair<std::string, std::int64_t>> generations;
  };
  struct Cached {
    std::string hash;
    std::shared_ptr<const chart::RenderedService> render;
  };

  Result cleanup(const json& service);
  std::shared_ptr<const chart::RenderedService> render(const std::string& key, const json& service);
  // Applies one object; false when it cannot be applied yet (an old Job is being deleted).
  // applied: the object as the API server returned it, when it was applied (null otherwise).
  bool apply_object(const std::string& key, const json& service,
                    const chart::RenderedObject& rendered, json* applied = nullptr);
  json desired_object(const json& service, const chart::RenderedObject& rendered);
  json read_live(const json& desired);
  // read_live through the cache when it holds a version at least as new as our last apply.
  json read_cached(const std::string& key, const json& desired);
  void prune(const json& service, const chart::RenderedService& render);
  std::vector<GroupVersionKind> inventory_kinds(const chart::RenderedService* render) const;
  void update_phase_metric(const std::string& key, const std::string& phase);
  // "" when no pod of the render's workloads runs on an unready node, else what is lost.
  std::string lost_nodes_of(const std::string& ns, const chart::RenderedService& render);

  ObjectClient& client_;
  ServiceRenderer& renderer_;
  EventRecorder& events_;
  ServiceControllerOptions options_;
  const Clock& clock_;
  MetricFamily& services_by_phase_;
  MetricFamily& renders_;
  MetricFamily& render_seconds_;
  MetricFamily& applies_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
  std::map<std::string, Applied> applied_;
  std::map<std::string, std::string> phase_of_;
};

}  // namespace kolla::op
