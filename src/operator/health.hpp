#pragma once
// Health of one applied object, per kind, as pure functions over the object's JSON (after Argo
// CD's health assessment and `kubectl rollout status`):
//   Deployment   rollout observed, all replicas updated and available
//   StatefulSet  rollout observed, all replicas updated and ready
//   DaemonSet    rollout observed, every scheduled pod updated and available
//   Job          Complete → Healthy; Failed → Degraded with the failure reason; its pods
//                Succeeded (spec.completions of them, non-indexed) → Healthy before Complete
//   PVC          Bound → Healthy; Lost → Degraded
//   Service      no selector / ExternalName → Healthy; else at least one ready endpoint
//                (in its EndpointSlices). The same holds on the local cluster: kwok gives simulated
//                pods an IP and the Ready condition, and kube-controller-manager's EndpointSlice
//                controller fills the slices as on any cluster (hostNetwork pods take their
//                node's InternalIP, so simulated nodes need one).
//   Pod          Running+Ready or Succeeded → Healthy; Failed → Degraded
//   anything else: Healthy once it exists.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::op {

enum class HealthStatus { kHealthy, kProgressing, kDegraded, kMissing, kUnknown };

std::string_view to_string(HealthStatus status);

struct Health {
  HealthStatus status = HealthStatus::kUnknown;
  std::string message;  // e.g. "Deployment nova-api 1/3 available"
  bool healthy() const { return status == HealthStatus::kHealthy; }
  bool operator==(const Health&) const = default;
};

// Related objects some kinds need: the EndpointSlices of a Service, the pods of a Job.
struct HealthContext {
  std::vector<nlohmann::json> endpoint_slices;  // discovery.k8s.io/v1 EndpointSlice objects
  // The Job's pods (any may be given: those the Job's uid does not control are ignored). A Job
  // whose pods have succeeded (as many as spec.completions, non-indexed) counts as Healthy before
  // its controller marks it Complete: the Job controller batches pod updates (about 1 s).
  std::vector<nlohmann::json> pods;
};

// The object as read from the API server; a null object means it does not exist (kMissing).
Health assess_health(const nlohmann::json& object, const HealthContext& context = {});

// Whether assess_health of this kind needs the EndpointSlices of the object.
bool needs_endpoint_slices(const nlohmann::json& object);
// Whether assess_health would use the object's pods: a Job neither Complete nor Failed.
bool needs_job_pods(const nlohmann::json& object);

// Worst first: Degraded > Missing > Progressing > Unknown > Healthy.
int health_severity(HealthStatus status);

}  // namespace kolla::op
