#include "operator/service_controller.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <exception>
#include <future>

#include "common/redact.hpp"
#include "operator/conditions.hpp"
#include "operator/finalizers.hpp"
#include "operator/health.hpp"
#include "operator/resources.hpp"
#include "operator/status_writer.hpp"

namespace kolla::op {

namespace {

const GroupVersionKind kEndpointSlice{"discovery.k8s.io", "v1", "EndpointSlice"};
constexpr const char* kNodeNotReadyReason = "NodeNotReady";

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

// Where one reconcile spends its time, logged at debug level when it ends.
class ReconcileTiming {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ReconcileTiming(const std::string& key) : key_(key), start_(Clock::now()) {}
  ~ReconcileTiming() {
    if (!spdlog::should_log(spdlog::level::debug)) return;
    const auto total = std::chrono::duration<double, std::milli>(Clock::now() - start_).count();
    spdlog::debug(
        "service {}: reconcile {:.1f} ms: read service {:.1f}, render {:.1f}, apply {:.1f} ({}), "
        "read objects {:.1f} ({}), prune {:.1f}, status {:.1f}",
        key_, total, ms(kGet), ms(kRender), ms(kApply), applies, ms(kRead), reads, ms(kPrune),
        ms(kStatus));
  }
  enum Part { kGet, kRender, kApply, kRead, kPrune, kStatus, kParts };
  template <typename Fn>
  auto time(Part part, Fn&& fn) {
    const auto t = Clock::now();
    struct Add {
      ReconcileTiming& self;
      Part part;
      Clock::time_point t;
      ~Add() { self.spent_[part] += Clock::now() - t; }
    } add{*this, part, t};
    return fn();
  }
  int applies = 0;
  int reads = 0;

 private:
  double ms(Part p) const { return std::chrono::duration<double, std::milli>(spent_[p]).count(); }
  std::string key_;
  Clock::time_point start_;
  std::array<Clock::duration, kParts> spent_{};
};

// Runs fn(item) for every item, up to `width` at a time (the API round trips of one phase's
// objects overlap instead of adding up); rethrows the first exception once all have finished.
template <typename Fn>
void for_each_parallel(const std::vector<std::size_t>& items, int width, Fn fn) {
  if (width <= 1 || items.size() <= 1) {
    for (std::size_t item : items) fn(item);
    return;
  }
  std::exception_ptr error;
  for (std::size_t start = 0; start < items.size(); start += static_cast<std::size_t>(width)) {
    std::vector<std::future<void>> running;
    const std::size_t end = std::min(items.size(), start + static_cast<std::size_t>(width));
    for (std::size_t k = start; k < end; ++k) {
      running.push_back(std::async(std::launch::async, [&fn, item = items[k]] { fn(item); }));
    }
    for (auto& f : running) {
      try {
        f.get();
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    }
  }
  if (error) std::rethrow_exception(error);
}

struct StatusUpdate {
  std::string phase;  // Pending, Progressing, Ready, Failed, Deleting
  std::string step;
  std::string waiting_on;
  std::string reason;
  std::string message;
  json objects = json::array();
  std::string hash;
  // Degraded while not Failed (a lost node): reason and message of the Degraded condition.
  std::string degraded_reason;
  std::string degraded_message;
};

void write_service_status(ObjectClient& client, const json& service, const StatusUpdate& u,
                          const Clock& clock) {
  const std::string ns = service["metadata"].value("namespace", "");
  const std::string name = service["metadata"].value("name", "");
  write_status(
      client, kServiceKind, ns, name,
      [&](json& status, const json& fresh) {
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
        const bool degraded = failed || !u.degraded_reason.empty();
        const std::string degraded_reason = failed ? u.reason : u.degraded_reason;
        const std::string degraded_message = failed ? u.message : u.degraded_message;
        set_condition(conditions,
                      {std::string(condition::kReady),
                       ready ? ConditionStatus::kTrue : ConditionStatus::kFalse, u.reason,
                       u.message, "", generation},
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
                       degraded ? ConditionStatus::kTrue : ConditionStatus::kFalse,
                       degraded ? degraded_reason : "AsExpected", degraded ? degraded_message : "",
                       "", generation},
                      now);
      },
      5, &service);
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
      render_seconds_(registry.histogram(
          "kolla_operator_render_duration_seconds",
          "Time to render a chart (helm template and parsing), by service; failed renders too.",
          default_duration_buckets())),
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

std::string ServiceReconciler::lost_nodes_of(const std::string& ns,
                                             const chart::RenderedService& render) {
  if (options_.nodes == nullptr) return {};
  std::set<std::string> workloads;
  for (const auto& o : render.objects) {
    const std::string kind = o.kind();
    if (kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job") {
      workloads.insert(kind + "/" + o.name());
    }
  }
  try {
    return redact(lost_nodes_message(lost_nodes(*options_.nodes, ns, workloads)));
  } catch (const std::exception& e) {
    // Without the pods (e.g. no right to list them) the check is skipped, not the reconcile.
    spdlog::warn("{}: cannot check the nodes of its pods: {}", ns, redact(e.what()));
    return {};
  }
}

void ServiceReconciler::prerender(const json& service) {
  const std::string key = kube::object_key(service);
  if (!options_.only_service.empty() &&
      service.value("/spec/service"_json_pointer, std::string{}) != options_.only_service) {
    return;
  }
  try {
    render(key, service);
  } catch (const std::exception& e) {
    spdlog::debug("service {}: render ahead of time failed: {}", key, redact(e.what()));
  }
}

std::shared_ptr<const chart::RenderedService> ServiceReconciler::render(const std::string& key,
                                                                        const json& service) {
  const std::string hash = renderer_.hash(service);
  {
    std::lock_guard lock(mutex_);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.hash == hash) return it->second.render;
  }
  const Labels labels = {{"service", service["spec"].value("service", "")}};
  const auto started = std::chrono::steady_clock::now();
  auto observe = [&] {
    render_seconds_.observe(
        labels, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  };
  std::shared_ptr<const chart::RenderedService> rendered;
  try {
    rendered = std::make_shared<const chart::RenderedService>(renderer_.render(service));
  } catch (...) {
    observe();
    throw;
  }
  observe();
  renders_.inc(labels);
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

json ServiceReconciler::read_cached(const std::string& key, const json& desired) {
  if (!options_.cached_object) return read_live(desired);
  const GroupVersionKind gvk = GroupVersionKind::of(desired);
  const std::string name = desired["metadata"].value("name", "");
  auto cached = options_.cached_object(gvk, desired["metadata"].value("namespace", ""), name);
  if (!cached) return read_live(desired);
  std::pair<std::string, std::int64_t> applied{};  // uid, generation of our last apply
  {
    std::lock_guard lock(mutex_);
    if (auto a = applied_.find(key); a != applied_.end()) {
      if (auto g = a->second.generations.find(gvk.str() + " " + name);
          g != a->second.generations.end()) {
        applied = g->second;
      }
    }
  }
  const std::string uid = cached->value("/metadata/uid"_json_pointer, std::string{});
  if ((!applied.first.empty() && uid != applied.first) ||
      cached->value("/metadata/generation"_json_pointer, std::int64_t{0}) < applied.second) {
    return read_live(desired);  // the cache has not seen our last apply yet
  }
  return *cached;
}

bool ServiceReconciler::apply_object(const std::string& key, const json& service,
                                     const chart::RenderedObject& rendered, json* applied) {
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
  json result = client_.apply(desired, kFieldManager, true);
  applies_.inc({{"kind", gvk.kind}});
  {
    std::lock_guard lock(mutex_);
    applied_[key].generations[gvk.str() + " " + desired["metadata"].value("name", "")] = {
        result.value("/metadata/uid"_json_pointer, std::string{}),
        result.value("/metadata/generation"_json_pointer, std::int64_t{0})};
  }
  if (applied != nullptr) *applied = std::move(result);
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
  ReconcileTiming timing(key);
  std::optional<json> found = timing.time(ReconcileTiming::kGet, [&]() -> std::optional<json> {
    if (options_.cached_service) {
      if (auto cached = options_.cached_service(ns, name)) return cached;
    }
    return client_.get(kServiceKind, ns, name);
  });
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
  service = timing.time(ReconcileTiming::kGet,
                        [&] { return add_finalizer(client_, service, kServiceFinalizer); });

  std::shared_ptr<const chart::RenderedService> rendered;
  try {
    rendered = timing.time(ReconcileTiming::kRender, [&] { return render(key, service); });
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
      a = Applied{rendered->values_hash, {}, false, now, {}};
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

  // A node that is not Ready under pods of this service: Degraded (NodeNotReady) unless already
  // Failed; an Event when it starts.
  const bool was_node_degraded =
      service.value("/status/phase"_json_pointer, std::string{}) != "Failed" && [&] {
        auto c = find_condition(service.value("/status/conditions"_json_pointer, json::array()),
                                condition::kDegraded);
        return c && c->is_true() && c->reason == kNodeNotReadyReason;
      }();
  auto check_nodes = [&](StatusUpdate& update) {
    if (update.phase == "Failed") return;
    const std::string lost = lost_nodes_of(ns, *rendered);
    if (lost.empty()) return;
    update.degraded_reason = kNodeNotReadyReason;
    update.degraded_message = lost;
    if (!was_node_degraded) {
      spdlog::warn("service {}: {}", key, lost);
      events_.warning(service, kNodeNotReadyReason, lost);
    }
  };

  for (std::size_t p = 0; p < phases.size(); ++p) {
    const chart::Phase& phase = phases[p];
    std::vector<std::size_t> members;
    for (std::size_t i = 0; i < rendered->objects.size(); ++i) {
      if (rendered->objects[i].phase == phase) members.push_back(i);
    }
    bool all_applied = true;
    // The API server's answers to our applies: fresher than a cache.
    std::vector<json> answers(rendered->objects.size());
    std::vector<char> applied_ok(rendered->objects.size(), 1);
    const int width = std::max(1, options_.parallel_requests);
    if (!state.phases.contains(p)) {
      timing.applies += static_cast<int>(members.size());
      timing.time(ReconcileTiming::kApply, [&] {
        for_each_parallel(members, width, [&](std::size_t i) {
          applied_ok[i] = apply_object(key, service, rendered->objects[i], &answers[i]) ? 1 : 0;
        });
      });
      for (std::size_t i : members) {
        if (!applied_ok[i]) all_applied = false;
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
    std::vector<std::size_t> to_read;
    for (std::size_t i : members) {
      if (answers[i].is_object()) {
        live[i] = std::move(answers[i]);
      } else {
        to_read.push_back(i);
      }
    }
    timing.reads += static_cast<int>(to_read.size());
    timing.time(ReconcileTiming::kRead, [&] {
      for_each_parallel(to_read, width, [&](std::size_t i) {
        live[i] = read_cached(key, desired_object(service, rendered->objects[i]));
      });
    });
    for (std::size_t i : members) {
      const json desired = desired_object(service, rendered->objects[i]);
      if (live[i].is_null() && state.phases.contains(p)) {
        // Deleted behind our back, e.g. a failed Job deleted to run it again: apply it anew.
        spdlog::info("service {}: {} is gone, applying it again", key, rendered->objects[i].id());
        if (apply_object(key, service, rendered->objects[i])) live[i] = read_live(desired);
      }
      HealthContext ctx;
      if (options_.job_pods && needs_job_pods(live[i])) {
        ctx.pods = options_.job_pods(ns, rendered->objects[i].name());
      }
      if (needs_endpoint_slices(live[i])) {
        ++timing.reads;
        timing.time(ReconcileTiming::kRead, [&] {
          if (options_.cached_endpoint_slices) {
            if (auto cached = options_.cached_endpoint_slices(ns, rendered->objects[i].name())) {
              ctx.endpoint_slices = std::move(*cached);
              return;
            }
          }
          try {
            ctx.endpoint_slices = client_.list(
                kEndpointSlice, ns, "kubernetes.io/service-name=" + rendered->objects[i].name());
          } catch (const kube::ApiError& e) {
            if (!e.not_found()) throw;
          }
        });
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
      check_nodes(u);
      timing.time(ReconcileTiming::kStatus,
                  [&] { write_service_status(client_, service, u, clock_); });
      update_phase_metric(key, u.phase);
      return Result{false, degraded ? options_.failed_retry / 3 : options_.poll};
    }
  }

  const bool was_ready = service.value("/status/phase"_json_pointer, std::string{}) == "Ready";
  u.phase = "Ready";
  u.step = phases.empty() ? "" : phases.back().to_string();
  u.reason = "AllPhasesHealthy";
  u.message = fmt::format("{} objects healthy", rendered->objects.size());
  u.objects = objects_json();
  check_nodes(u);
  timing.time(ReconcileTiming::kStatus, [&] { write_service_status(client_, service, u, clock_); });
  if (!was_ready) events_.normal(service, "Ready", u.message);
  update_phase_metric(key, "Ready");
  // Pruning does not gate readiness: it runs after the status says Ready, so that dependants
  // start without waiting for its lists (an error here retries the reconcile, which prunes).
  if (!state.pruned) {
    timing.time(ReconcileTiming::kPrune, [&] { prune(service, *rendered); });
    std::lock_guard lock(mutex_);
    applied_[key].pruned = true;
  }
  return Result{false, options_.resync};
}

}  // namespace kolla::op
