#include "operator/health.hpp"

#include <fmt/format.h>

#include <cstdint>
#include <optional>

namespace kolla::op {

namespace {

using nlohmann::json;

std::int64_t int_at(const json& object, const json::json_pointer& ptr, std::int64_t fallback) {
  if (!object.contains(ptr)) return fallback;
  const json& v = object.at(ptr);
  return v.is_number_integer() ? v.get<std::int64_t>() : fallback;
}

std::string name_of(const json& object) {
  return object.value("/metadata/name"_json_pointer, std::string{});
}

// The condition of a type in status.conditions, or null.
const json* find_status_condition(const json& object, std::string_view type) {
  const auto ptr = "/status/conditions"_json_pointer;
  if (!object.contains(ptr) || !object.at(ptr).is_array()) return nullptr;
  for (const auto& c : object.at(ptr)) {
    if (c.is_object() && c.value("type", "") == type) return &c;
  }
  return nullptr;
}

bool condition_true(const json& object, std::string_view type) {
  const json* c = find_status_condition(object, type);
  return c && c->value("status", "") == "True";
}

// metadata.generation not yet observed by the object's controller.
std::optional<Health> unobserved(const json& object, std::string_view kind) {
  const auto generation = int_at(object, "/metadata/generation"_json_pointer, 0);
  const auto observed = int_at(object, "/status/observedGeneration"_json_pointer, -1);
  if (generation > 0 && observed < generation) {
    return Health{HealthStatus::kProgressing,
                  fmt::format("{} {} waiting for its controller to observe generation {}", kind,
                              name_of(object), generation)};
  }
  return std::nullopt;
}

Health deployment_health(const json& d) {
  const std::string name = name_of(d);
  if (d.value("/spec/paused"_json_pointer, false)) {
    return {HealthStatus::kProgressing, fmt::format("Deployment {} is paused", name)};
  }
  if (auto h = unobserved(d, "Deployment")) return *h;
  if (const json* p = find_status_condition(d, "Progressing");
      p && p->value("reason", "") == "ProgressDeadlineExceeded") {
    return {HealthStatus::kDegraded,
            fmt::format("Deployment {} exceeded its progress deadline", name)};
  }
  const auto want = int_at(d, "/spec/replicas"_json_pointer, 1);
  const auto updated = int_at(d, "/status/updatedReplicas"_json_pointer, 0);
  const auto total = int_at(d, "/status/replicas"_json_pointer, 0);
  const auto available = int_at(d, "/status/availableReplicas"_json_pointer, 0);
  if (updated < want) {
    return {HealthStatus::kProgressing,
            fmt::format("Deployment {} {}/{} updated", name, updated, want)};
  }
  if (total > updated) {
    return {
        HealthStatus::kProgressing,
        fmt::format("Deployment {} {} old replicas pending termination", name, total - updated)};
  }
  if (available < updated) {
    return {HealthStatus::kProgressing,
            fmt::format("Deployment {} {}/{} available", name, available, want)};
  }
  return {HealthStatus::kHealthy,
          fmt::format("Deployment {} {}/{} available", name, available, want)};
}

Health statefulset_health(const json& s) {
  const std::string name = name_of(s);
  if (auto h = unobserved(s, "StatefulSet")) return *h;
  const auto want = int_at(s, "/spec/replicas"_json_pointer, 1);
  const auto ready = int_at(s, "/status/readyReplicas"_json_pointer, 0);
  if (ready < want) {
    return {HealthStatus::kProgressing,
            fmt::format("StatefulSet {} {}/{} ready", name, ready, want)};
  }
  const std::string strategy =
      s.value("/spec/updateStrategy/type"_json_pointer, std::string{"RollingUpdate"});
  if (strategy == "RollingUpdate") {
    const auto partition =
        int_at(s, "/spec/updateStrategy/rollingUpdate/partition"_json_pointer, 0);
    const auto updated = int_at(s, "/status/updatedReplicas"_json_pointer, 0);
    if (updated < want - partition) {
      return {HealthStatus::kProgressing,
              fmt::format("StatefulSet {} {}/{} updated", name, updated, want - partition)};
    }
    const std::string current = s.value("/status/currentRevision"_json_pointer, std::string{});
    const std::string update = s.value("/status/updateRevision"_json_pointer, std::string{});
    if (partition == 0 && !update.empty() && !current.empty() && current != update) {
      return {HealthStatus::kProgressing,
              fmt::format("StatefulSet {} rolling out revision {}", name, update)};
    }
  }
  return {HealthStatus::kHealthy, fmt::format("StatefulSet {} {}/{} ready", name, ready, want)};
}

Health daemonset_health(const json& ds) {
  const std::string name = name_of(ds);
  if (auto h = unobserved(ds, "DaemonSet")) return *h;
  const auto desired = int_at(ds, "/status/desiredNumberScheduled"_json_pointer, 0);
  const auto updated = int_at(ds, "/status/updatedNumberScheduled"_json_pointer, 0);
  const auto available = int_at(ds, "/status/numberAvailable"_json_pointer, 0);
  const std::string strategy =
      ds.value("/spec/updateStrategy/type"_json_pointer, std::string{"RollingUpdate"});
  if (strategy == "RollingUpdate" && updated < desired) {
    return {HealthStatus::kProgressing,
            fmt::format("DaemonSet {} {}/{} updated", name, updated, desired)};
  }
  if (available < desired) {
    return {HealthStatus::kProgressing,
            fmt::format("DaemonSet {} {}/{} available", name, available, desired)};
  }
  return {HealthStatus::kHealthy,
          fmt::format("DaemonSet {} {}/{} available", name, available, desired)};
}

// Pods of the Job (controller ownerReference with its uid) that succeeded.
std::int64_t succeeded_pods(const json& job, const std::vector<json>& pods) {
  const std::string uid = job.value("/metadata/uid"_json_pointer, std::string{});
  if (uid.empty()) return 0;
  std::int64_t n = 0;
  for (const auto& pod : pods) {
    if (pod.value("/status/phase"_json_pointer, std::string{}) != "Succeeded") continue;
    if (pod.contains("/metadata/deletionTimestamp"_json_pointer)) continue;
    const json refs = pod.value("/metadata/ownerReferences"_json_pointer, json::array());
    if (!refs.is_array()) continue;
    for (const auto& ref : refs) {
      if (ref.is_object() && ref.value("controller", false) && ref.value("uid", "") == uid) {
        ++n;
        break;
      }
    }
  }
  return n;
}

Health job_health(const json& job, const HealthContext& context) {
  const std::string name = name_of(job);
  if (const json* failed = find_status_condition(job, "Failed");
      failed && failed->value("status", "") == "True") {
    std::string reason = failed->value("reason", "");
    if (reason.empty()) reason = failed->value("message", "unknown reason");
    return {HealthStatus::kDegraded, fmt::format("Job {} failed: {}", name, reason)};
  }
  if (condition_true(job, "Complete")) {
    return {HealthStatus::kHealthy, fmt::format("Job {} complete", name)};
  }
  if (job.value("/spec/suspend"_json_pointer, false)) {
    return {HealthStatus::kProgressing, fmt::format("Job {} is suspended", name)};
  }
  if (!context.pods.empty() &&
      job.value("/spec/completionMode"_json_pointer, std::string{"NonIndexed"}) == "NonIndexed") {
    const auto completions = int_at(job, "/spec/completions"_json_pointer, 1);
    if (completions > 0 && succeeded_pods(job, context.pods) >= completions) {
      return {HealthStatus::kHealthy,
              fmt::format("Job {} succeeded (not yet marked Complete)", name)};
    }
  }
  const auto active = int_at(job, "/status/active"_json_pointer, 0);
  const auto failures = int_at(job, "/status/failed"_json_pointer, 0);
  if (failures > 0) {
    return {HealthStatus::kProgressing,
            fmt::format("Job {} running ({} active, {} failed attempts)", name, active, failures)};
  }
  return {HealthStatus::kProgressing, fmt::format("Job {} running ({} active)", name, active)};
}

Health pvc_health(const json& pvc) {
  const std::string name = name_of(pvc);
  const std::string phase = pvc.value("/status/phase"_json_pointer, std::string{"Pending"});
  if (phase == "Bound") {
    return {HealthStatus::kHealthy, fmt::format("PersistentVolumeClaim {} bound", name)};
  }
  if (phase == "Lost") {
    return {HealthStatus::kDegraded, fmt::format("PersistentVolumeClaim {} lost its volume", name)};
  }
  return {HealthStatus::kProgressing, fmt::format("PersistentVolumeClaim {} {}", name, phase)};
}

bool service_selects_pods(const json& svc) {
  if (svc.value("/spec/type"_json_pointer, std::string{}) == "ExternalName") return false;
  const auto ptr = "/spec/selector"_json_pointer;
  return svc.contains(ptr) && svc.at(ptr).is_object() && !svc.at(ptr).empty();
}

Health service_health(const json& svc, const HealthContext& context) {
  const std::string name = name_of(svc);
  if (!service_selects_pods(svc)) {
    return {HealthStatus::kHealthy, fmt::format("Service {} has no selector", name)};
  }
  int ready = 0;
  for (const auto& slice : context.endpoint_slices) {
    if (slice.value("/metadata/labels/kubernetes.io~1service-name"_json_pointer, std::string{}) !=
        name) {
      continue;
    }
    if (!slice.contains("endpoints") || !slice["endpoints"].is_array()) continue;
    for (const auto& ep : slice["endpoints"]) {
      // An absent ready condition means ready (discovery.k8s.io/v1 semantics).
      const bool is_ready = ep.value("/conditions/ready"_json_pointer, true);
      if (is_ready) ++ready;
    }
  }
  if (ready == 0) {
    return {HealthStatus::kProgressing, fmt::format("Service {} has no ready endpoints", name)};
  }
  return {HealthStatus::kHealthy, fmt::format("Service {} has {} ready endpoints", name, ready)};
}

Health pod_health(const json& pod) {
  const std::string name = name_of(pod);
  const std::string phase = pod.value("/status/phase"_json_pointer, std::string{"Pending"});
  if (phase == "Succeeded") return {HealthStatus::kHealthy, fmt::format("Pod {} succeeded", name)};
  if (phase == "Failed") {
    std::string reason = pod.value("/status/reason"_json_pointer, std::string{});
    return {HealthStatus::kDegraded,
            fmt::format("Pod {} failed{}{}", name, reason.empty() ? "" : ": ", reason)};
  }
  if (phase == "Running" && condition_true(pod, "Ready")) {
    return {HealthStatus::kHealthy, fmt::format("Pod {} ready", name)};
  }
  return {HealthStatus::kProgressing, fmt::format("Pod {} {}", name, phase)};
}

}  // namespace

std::string_view to_string(HealthStatus status) {
  switch (status) {
    case HealthStatus::kHealthy:
      return "Healthy";
    case HealthStatus::kProgressing:
      return "Progressing";
    case HealthStatus::kDegraded:
      return "Degraded";
    case HealthStatus::kMissing:
      return "Missing";
    case HealthStatus::kUnknown:
      break;
  }
  return "Unknown";
}

int health_severity(HealthStatus status) {
  switch (status) {
    case HealthStatus::kDegraded:
      return 4;
    case HealthStatus::kMissing:
      return 3;
    case HealthStatus::kProgressing:
      return 2;
    case HealthStatus::kUnknown:
      return 1;
    case HealthStatus::kHealthy:
      break;
  }
  return 0;
}

bool needs_endpoint_slices(const json& object) {
  return object.is_object() && object.value("kind", "") == "Service" &&
         object.value("apiVersion", "") == "v1" && service_selects_pods(object);
}

bool needs_job_pods(const json& object) {
  if (!object.is_object() || object.value("kind", "") != "Job" ||
      object.value("apiVersion", "") != "batch/v1") {
    return false;
  }
  return !condition_true(object, "Complete") && !condition_true(object, "Failed");
}

Health assess_health(const json& object, const HealthContext& context) {
  if (object.is_null()) return {HealthStatus::kMissing, "object does not exist"};
  if (!object.is_object()) return {HealthStatus::kUnknown, "not an object"};
  const std::string kind = object.value("kind", "");
  const std::string api_version = object.value("apiVersion", "");
  if (object.contains("/metadata/deletionTimestamp"_json_pointer)) {
    return {HealthStatus::kProgressing,
            fmt::format("{} {} is being deleted", kind, name_of(object))};
  }
  if (api_version == "apps/v1") {
    if (kind == "Deployment") return deployment_health(object);
    if (kind == "StatefulSet") return statefulset_health(object);
    if (kind == "DaemonSet") return daemonset_health(object);
  }
  if (api_version == "batch/v1" && kind == "Job") return job_health(object, context);
  if (api_version == "v1") {
    if (kind == "PersistentVolumeClaim") return pvc_health(object);
    if (kind == "Service") return service_health(object, context);
    if (kind == "Pod") return pod_health(object);
  }
  return {HealthStatus::kHealthy, fmt::format("{} {} exists", kind, name_of(object))};
}

}  // namespace kolla::op
