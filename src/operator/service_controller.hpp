#pragma once
// The service controller: makes one OpenStackService's chart real.
//   1. renders the chart (cached by the renderer's hash: no helm run while inputs are unchanged);
//   2. applies it phase by phase in apply order with server-side apply (field manager
//      kolla-operator, force), each object labelled kolla.openstack.org/service=<name> and owned
//      by the OpenStackService; a StatefulSet without a persistentVolumeClaimRetentionPolicy gets
//      whenDeleted: Delete (its claims go with it, so teardown leaves the namespace clean);
//   3. waits for each phase's health before the next (src/operator/health.hpp);
//   4. a Job is applied once: a completed Job is left alone unless its rendered spec changed,
//      then it is deleted and created again (Job templates are immutable); an applied object
//      that disappeared (a failed Job deleted by hand to retry it) is applied again;
//   5. when every phase is healthy, prunes labelled objects that left the render;
//   6. writes status (phase, conditions Ready/Progressing/Degraded, objects with health,
//      currentStep, waitingOn) and Events;
//   7. on deletion (finalizer kolla.openstack.org/cleanup) deletes its objects and waits for them.

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "operator/clock.hpp"
#include "operator/controller.hpp"
#include "operator/events.hpp"
#include "operator/metrics.hpp"
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
};

class ServiceReconciler {
 public:
  ServiceReconciler(ObjectClient& client, ServiceRenderer& renderer, EventRecorder& events,
                    Registry& registry, ServiceControllerOptions options = {},
                    const Clock& clock = SystemClock::instance());

  // key: "namespace/name" of an OpenStackService.
  Result reconcile(const std::string& key);

 private:
  struct Applied {
    std::string hash;
    std::set<std::size_t> phases;  // indexes of phases applied with this hash
    bool pruned = false;
    std::chrono::steady_clock::time_point at{};
  };
  struct Cached {
    std::string hash;
    std::shared_ptr<const chart::RenderedService> render;
  };

  Result cleanup(const json& service);
  std::shared_ptr<const chart::RenderedService> render(const std::string& key, const json& service);
  // Applies one object; false when it cannot be applied yet (an old Job is being deleted).
  bool apply_object(const json& service, const chart::RenderedObject& rendered);
  json desired_object(const json& service, const chart::RenderedObject& rendered);
  json read_live(const json& desired);
  void prune(const json& service, const chart::RenderedService& render);
  std::vector<GroupVersionKind> inventory_kinds(const chart::RenderedService* render) const;
  void update_phase_metric(const std::string& key, const std::string& phase);

  ObjectClient& client_;
  ServiceRenderer& renderer_;
  EventRecorder& events_;
  ServiceControllerOptions options_;
  const Clock& clock_;
  MetricFamily& services_by_phase_;
  MetricFamily& renders_;
  MetricFamily& applies_;
  std::mutex mutex_;
  std::map<std::string, Cached> cache_;
  std::map<std::string, Applied> applied_;
  std::map<std::string, std::string> phase_of_;
};

}  // namespace kolla::op
