#include "operator/service_controller.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/redact.hpp"
#include "operator/conditions.hpp"
#include "operator/finalizers.hpp"
#include "operator/health.hpp"
#include "operator/resources.hpp"
#include "operator/status_writer.hpp"

namespace kolla::op {

namespace {

const GroupVersionKind kEndpointSlice{"discovery.k8s.io", "v1", "EndpointSlice"};

std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

// FNV-1a 64, hex: a stable fingerprint of a rendered object (not a security hash).
std::string fingerprint(const std::string& text) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

std::string object_id(const json& o) {
  return fmt::format("{}/{}", o.value("kind", ""),
                     o.value("/metadata/name"_json_pointer, std::string{}));
}

struct StatusUpdate {
  std::string phase;  // Pending, Progressing, Ready, Failed, Deleting
  std::string step;
  std::string waiting_on;
  std::string reason;
  std::string message;
  json objects = json::array();
  std::string hash;
};

void write_service_status(ObjectClient& client, const json& service, const StatusUpdate& u,
                          const Clock& clock) {
  const std::string ns = service["metadata"].value("namespace", "");
  const std::string name = service["metadata"].value("name", "");
  write_status(client, kServiceKind, ns, name, [&](json& status, const json& fresh) {
    const std::int64_t generation = fresh["metadata"].value("generation", std::int64_t{0});
    status["observedGeneration"] = generation;
    status["phase"] = u.phase;
    status["currentStep"] = u.step;
    status["waitingOn"] = u.waiting_on;
    if (!u.hash.empty()) status["valuesHash"] = u.hash;
    status["objects"] = u.objects;
    json& conditions = status["conditions"];
    const auto now = clock.wall();
    const bool ready = u.phase == "Ready";
    const bool failed = u.phase == "Failed";
    set_condition(
        conditions,
        {std::string(condition::kReady), ready ? ConditionStatus::kTrue : ConditionStatus::kFalse,
         u.reason, u.message, "", generation},
        now);
    set_condition(conditions,
                  {std::string(condition::kProgressing),
                   (u.phase == "Progressing" || u.phase == "Pending" || u.phase == "Deleting")
                       ? ConditionStatus::kTrue
                       : ConditionStatus::kFalse,
                   u.reason, u.message, "", generation},
                  now);
    set_condition(conditions,
                  {std::string(condition::kDegraded),
                   failed ? ConditionStatus::kTrue : ConditionStatus::kFalse,
                   failed ? u.reason : "AsExpected", failed ? u.message : "", "", generation},
                  now);
  });
}

}  // namespace

ServiceReconciler::ServiceReconciler(ObjectClient& client, ServiceRenderer& renderer,
                                     EventRecorder& events, Registry& registry,
                                     ServiceControllerOptions options, const Clock& clock)
    : client_(client),
      renderer_(renderer),
      events_(events),
      options_(std::move(options)),
      clock_(clock),
      services_by_phase_(registry.gauge("kolla_operator_services",
                                        "OpenStackServices by phase, as last reconciled.")),
      renders_(registry.counter("kolla_operator_chart_renders_total",
                                "Chart renders (helm template runs) by service.")),
      applies_(registry.counter("kolla_operator_applied_objects_total",
                                "Objects applied with server-side apply, by kind.")) {}

void ServiceReconciler::update_phase_metric(const std::string& key, const std::string& phase) {
  std::lock_guard lock(mutex_);
  if (phase.empty()) {
    phase_of_.erase(key);
  } else {
    phase_of_[key] = phase;
  }
  std::map<std::string, int> counts;
  for (const char* p : {"Pending", "Progressing", "Ready", "Failed", "Deleting"}) counts[p] = 0;
  for (const auto& [k, p] : phase_of_) ++counts[p];
  for (const auto& [p, n] : counts) services_by_phase_.set({{"phase", p}}, n);
}

std::shared_ptr<const chart::RenderedService> ServiceReconciler::render(const std::string& key,
                                                                        const json& service) {
  const std::string hash = renderer_.hash(service);
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.hash == hash) return it->second.render;
  }
  auto rendered = std::make_shared<const chart::RenderedService>(renderer_.render(service));
  renders_.inc({{"service", service["spec"].value("service", "")}});
  std::lock_guard lock(mutex_);
  cache_[key] = Cached{hash, rendered};
  return rendered;
}

json ServiceReconciler::desired_object(const json& service, const chart::RenderedObject& r) {
  json o = r.object;
  const GroupVersionKind gvk = GroupVersionKind::of(o);
  json& meta = o["metadata"];
  const std::string name = service["metadata"]["name"];
  if (!meta.contains("labels") || !meta["labels"].is_object()) meta["labels"] = json::object();
  meta["labels"][kServiceLabel] = name;
  if (client_.is_namespaced(gvk)) {
    meta["namespace"] = service["metadata"].value("namespace", "default");
    meta["ownerReferences"] = json::array({owner_reference(service)});
  }
  if (gvk == kube::gvk::kStatefulSet && o.contains("spec") && o["spec"].is_object() &&
      !o["spec"].contains("persistentVolumeClaimRetentionPolicy")) {
    // The claims of volumeClaimTemplates carry neither our label nor an owner, so the inventory
    // cannot find them: let the StatefulSet own them, so that they go with it (deleted with the
    // service, contracts of cleanup()), while scaling down keeps them. A chart may say otherwise.
    o["spec"]["persistentVolumeClaimRetentionPolicy"] = {{"whenDeleted", "Delete"},
                                                         {"whenScaled", "Retain"}};
  }
  if (gvk == kube::gvk::kJob) {
    if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
      meta["annotations"] = json::object();
    }
    meta["annotations"][kSpecHashAnnotation] = fingerprint(r.object.dump());
  }
  return o;
}

json ServiceReconciler::read_live(const json& desired) {
  const GroupVersionKind gvk = GroupVersionKind::of(desired);
  auto live = client_.get(gvk, desired["metadata"].value("namespace", ""),
                          desired["metadata"].value("name", ""));
  return live ? *live : json();
}

bool ServiceReconciler::apply_object(const json& service, const chart::RenderedObject& rendered) {
  const json desired = desired_object(service, rendered);
  const GroupVersionKind gvk = GroupVersionKind::of(desired);
  if (gvk == kube::gvk::kJob) {
    const json live = read_live(desired);
    if (!live.is_null()) {
      if (is_being_deleted(live)) return false;  // the previous run is going away
      const std::string want = desired["metadata"]["annotations"][kSpecHashAnnotation];
      const std::string have = live.value(
          "/metadata/annotations/kolla.openstack.org~1spec-hash"_json_pointer, std::string{});
      if (want == have) return true;  // same Job: never re-run a completed one
      spdlog::info("service {}: Job {} changed, deleting it to run it again",
                   service["metadata"].value("name", ""), desired["metadata"].value("name", ""));
      events_.normal(
          service, "JobChanged",
          fmt::format("Job {} changed; re-running it", desired["metadata"].value("name", "")));
      client_.remove(gvk, desired["metadata"].value("namespace", ""),
                     desired["metadata"].value("name", ""), "Background");
      return false;
    }
  }
  client_.apply(desired, kFieldManager, true);
  applies_.inc({{"kind", gvk.kind}});
  return true;
}

std::vector<GroupVersionKind> ServiceReconciler::inventory_kinds(
    const chart::RenderedService* render) const {
  // The kinds charts produce; PersistentVolumeClaims are never pruned (data) but are deleted
  // with the service.
  std::vector<GroupVersionKind> kinds = {kube::gvk::kDeployment, kube::gvk::kStatefulSet,
                                         kube::gvk::kDaemonSet,  kube::gvk::kJob,
                                         kube::gvk::kService,    kube::gvk::kConfigMap,
                                         kube::gvk::kSecret,     kube::gvk::kServiceAccount,
                                         kube::gvk::kRole,       kube::gvk::kRoleBinding};
  if (render) {
    for (const auto& o : render->objects) {
      const GroupVersionKind gvk = GroupVersionKind::of(o.object);
      if (gvk == kube::gvk::kPersistentVolumeClaim) continue;
      if (std::find(kinds.begin(), kinds.end(), gvk) == kinds.end()) kinds.push_back(gvk);
    }
  }
  return kinds;
}

void ServiceReconciler::prune(const json& service, const chart::RenderedService& render) {
  std::set<std::string> wanted;
  for (const auto& o : render.objects) {
    wanted.insert(GroupVersionKind::of(o.object).str() + " " + o.name());
  }
  const std::string ns = service["metadata"].value("namespace", "");
  const std::string selector =
      std::string(kServiceLabel) + "=" + service["metadata"].value("name", "");
  for (const auto& gvk : inventory_kinds(&render)) {
    std::vector<json> live;
    try {
      live = client_.list(gvk, client_.is_namespaced(gvk) ? ns : "", selector);
    } catch (const kube::ApiError& e) {
      if (e.not_found()) continue;  // kind not served
      throw;
    }
    for (const auto& o : live) {
      const std::string name = o["metadata"].value("name", "");
      if (wanted.contains(gvk.str() + " " + name) || is_being_deleted(o)) continue;
      spdlog::info("service {}: pruning {} {}", service["metadata"].value("name", ""), gvk.kind,
                   name);
      client_.remove(gvk, o["metadata"].value("namespace", ""), name, "Background");
      events_.normal(service, "Pruned",
                     fmt::format("{}/{} left the render; deleted", gvk.kind, name));
    }
  }
}

Result ServiceReconciler::cleanup(const json& service) {
  const std::string key = kube::object_key(service);
  if (!has_finalizer(service, kServiceFinalizer)) return {};
  const std::string ns = service["metadata"].value("namespace", "");
  const std::string selector =
      std::string(kServiceLabel) + "=" + service["metadata"].value("name", "");
  std::shared_ptr<const chart::RenderedService> cached;
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) cached = it->second.render;
  }
  auto kinds = inventory_kinds(cached.get());
  kinds.push_back(kube::gvk::kPersistentVolumeClaim);
  std::vector<std::string> remaining;
  for (const auto& gvk : kinds) {
    std::vector<json> live;
    try {
      live = client_.list(gvk, client_.is_namespaced(gvk) ? ns : "", selector);
    } catch (const kube::ApiError& e) {
      if (e.not_found()) continue;
      throw;
    }
    for (const auto& o : live) {
      remaining.push_back(object_id(o));
      if (!is_being_deleted(o)) {
        client_.remove(gvk, o["metadata"].value("namespace", ""), o["metadata"].value("name", ""),
                       "Background");
      }
    }
  }
  if (!remaining.empty()) {
    StatusUpdate u;
    u.phase = "Deleting";
    u.reason = "DeletingObjects";
    u.message = fmt::format("deleting {} objects", remaining.size());
    u.waiting_on = remaining.front();
    write_service_status(client_, service, u, clock_);
    update_phase_metric(key, "Deleting");
    return Result{false, options_.poll};
  }
  remove_finalizer(client_, service, kServiceFinalizer);
  {
    std::lock_guard lock(mutex_);
    cache_.erase(key);
    applied_.erase(key);
  }
  update_phase_metric(key, "");
  spdlog::info("service {}: every object deleted, finalizer removed", key);
  return {};
}

Result ServiceReconciler::reconcile(const std::string& key) {
  const auto [ns, name] = split_key(key);
  std::optional<json> found = client_.get(kServiceKind, ns, name);
  if (!found) {
    std::lock_guard lock(mutex_);
    cache_.erase(key);
    applied_.erase(key);
    phase_of_.erase(key);
    return {};
  }
  json service = *found;
  if (!options_.only_service.empty() &&
      service["spec"].value("service", "") != options_.only_service) {
    return {};
  }
  if (is_being_deleted(service)) return cleanup(service);
  service = add_finalizer(client_, service, kServiceFinalizer);

  std::shared_ptr<const chart::RenderedService> rendered;
  try {
    rendered = render(key, service);
  } catch (const std::exception& e) {
    const std::string message = redact(e.what());
    spdlog::error("service {}: render failed: {}", key, message);
    StatusUpdate u;
    u.phase = "Failed";
    u.reason = "RenderFailed";
    u.message = message;
    write_service_status(client_, service, u, clock_);
    events_.warning(service, "RenderFailed", message);
    update_phase_metric(key, "Failed");
    return Result{false, options_.failed_retry};
  }

  const auto phases = rendered->phases();
  const auto now = clock_.now();
  Applied state;
  {
    std::lock_guard lock(mutex_);
    Applied& a = applied_[key];
    if (a.hash != rendered->values_hash || now - a.at >= options_.resync) {
      a = Applied{rendered->values_hash, {}, false, now};
    }
    state = a;
  }

  StatusUpdate u;
  u.hash = rendered->values_hash;
  std::vector<json> live(rendered->objects.size());
  std::vector<Health> health(rendered->objects.size(),
                             Health{HealthStatus::kMissing, "not applied yet"});
  auto objects_json = [&] {
    json out = json::array();
    for (std::size_t i = 0; i < rendered->objects.size(); ++i) {
      const auto& o = rendered->objects[i];
      out.push_back({{"apiVersion", o.api_version()},
                     {"kind", o.kind()},
                     {"name", o.name()},
                     {"namespace", ns},
                     {"step", o.phase.to_string()},
                     {"health", std::string(to_string(health[i].status))},
                     {"message", health[i].message}});
    }
    return out;
  };

  for (std::size_t p = 0; p < phases.size(); ++p) {
    const chart::Phase& phase = phases[p];
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < rendered->objects.size(); ++i) {
      if (rendered->objects[i].phase == phase) members.push_back(i);
    }
    bool all_applied = true;
    if (!state.phases.contains(p)) {
      for (std::size_t i : members) {
        if (!apply_object(service, rendered->objects[i])) all_applied = false;
      }
      if (all_applied) {
        std::lock_guard lock(mutex_);
        applied_[key].phases.insert(p);
        events_.normal(service, "Applied",
                       fmt::format("applied {} ({} objects)", phase.to_string(), members.size()));
      }
    }
    std::vector<std::string> waiting;
    bool degraded = false;
    std::string degraded_message;
    for (std::size_t i : members) {
      const json desired = desired_object(service, rendered->objects[i]);
      live[i] = read_live(desired);
      if (live[i].is_null() && state.phases.contains(p)) {
        // Deleted behind our back, e.g. a failed Job deleted to run it again: apply it anew.
        spdlog::info("service {}: {} is gone, applying it again", key, rendered->objects[i].id());
        if (apply_object(service, rendered->objects[i])) live[i] = read_live(desired);
      }
      HealthContext ctx;
      if (needs_endpoint_slices(live[i])) {
        try {
          ctx.endpoint_slices = client_.list(
              kEndpointSlice, ns, "kubernetes.io/service-name=" + rendered->objects[i].name());
        } catch (const kube::ApiError& e) {
          if (!e.not_found()) throw;
        }
      }
      health[i] = assess_health(live[i], ctx);
      if (health[i].status == HealthStatus::kDegraded) {
        degraded = true;
        if (degraded_message.empty()) degraded_message = health[i].message;
      }
      if (!health[i].healthy()) waiting.push_back(rendered->objects[i].id());
    }
    if (!waiting.empty() || !all_applied) {
      u.step = phase.to_string();
      u.waiting_on =
          waiting.empty() ? "old Job deletion" : fmt::format("{}", fmt::join(waiting, ", "));
      u.objects = objects_json();
      if (degraded) {
        u.phase = "Failed";
        u.reason = "ObjectDegraded";
        u.message = degraded_message;
        events_.warning(service, "ObjectDegraded", degraded_message);
      } else {
        u.phase = "Progressing";
        u.reason = "WaitingForObjects";
        std::string first;
        for (std::size_t i : members) {
          if (!health[i].healthy()) {
            first = health[i].message;
            break;
          }
        }
        u.message = fmt::format("{}: waiting for {}", phase.to_string(),
                                first.empty() ? u.waiting_on : first);
      }
      write_service_status(client_, service, u, clock_);
      update_phase_metric(key, u.phase);
      return Result{false, degraded ? options_.failed_retry / 3 : options_.poll};
    }
  }

  if (!state.pruned) {
    prune(service, *rendered);
    std::lock_guard lock(mutex_);
    applied_[key].pruned = true;
  }
  const bool was_ready = service.value("/status/phase"_json_pointer, std::string{}) == "Ready";
  u.phase = "Ready";
  u.step = phases.empty() ? "" : phases.back().to_string();
  u.reason = "AllPhasesHealthy";
  u.message = fmt::format("{} objects healthy", rendered->objects.size());
  u.objects = objects_json();
  write_service_status(client_, service, u, clock_);
  if (!was_ready) events_.normal(service, "Ready", u.message);
  update_phase_metric(key, "Ready");
  return Result{false, options_.resync};
}

}  // namespace kolla::op
