#pragma once
// The deployment (top) controller: one OpenStackDeployment → one OpenStackService per enabled
// service, created only once every dependency's OpenStackService reports Ready (independent
// branches proceed in parallel). Aggregates the services' conditions into Ready / Progressing /
// Degraded with a reason and a message naming the blocker (e.g. WaitingForDependency: keystone);
// an invalid spec or plan sets InvalidSpec and changes nothing. Deletion (finalizer
// kolla.openstack.org/teardown) removes the services in reverse dependency order.

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "operator/clock.hpp"
#include "operator/controller.hpp"
#include "operator/events.hpp"
#include "operator/object_client.hpp"
#include "plan/catalog.hpp"

namespace kolla::op {

struct DeploymentControllerOptions {
  // Re-check while not Ready: a safety net only, every OpenStackService event enqueues its
  // deployment at once (event_routing.hpp).
  std::chrono::milliseconds poll{30'000};
  // The OpenStackServices of a deployment (namespace, deployment name) from an informer's cache;
  // nullopt: listed from the API. The cache is at least as new as the event that triggered the
  // reconcile (informers update their store before calling handlers).
  std::function<std::optional<std::vector<json>>(const std::string& ns,
                                                 const std::string& deployment)>
      cached_services;
  // Called with the OpenStackService a waiting service will get once its dependencies are Ready
  // (e.g. to render its chart ahead of time, off the critical path). Empty: not called.
  std::function<void(const json& desired_service)> prepare;
};

// Returns the catalog to plan with (re-read on each reconcile so chart edits are seen).
using CatalogProvider = std::function<plan::ServiceCatalog()>;

class DeploymentReconciler {
 public:
  DeploymentReconciler(ObjectClient& client, CatalogProvider catalog, EventRecorder& events,
                       DeploymentControllerOptions options = {},
                       const Clock& clock = SystemClock::instance());

  // key: "namespace/name" of an OpenStackDeployment.
  Result reconcile(const std::string& key);

 private:
  Result teardown(const json& deployment);

  ObjectClient& client_;
  CatalogProvider catalog_;
  EventRecorder& events_;
  DeploymentControllerOptions options_;
  const Clock& clock_;
};

}  // namespace kolla::op
