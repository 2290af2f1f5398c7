#include "operator/deployment_controller.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "chart/render.hpp"
#include "common/redact.hpp"
#include "operator/conditions.hpp"
#include "operator/finalizers.hpp"
#include "operator/resources.hpp"
#include "operator/status_writer.hpp"
#include "plan/plan.hpp"
#include "spec/spec.hpp"

namespace kolla::op {

namespace {

std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto slash = key.find('/');
  if (slash == std::string::npos) return {"", key};
  return {key.substr(0, slash), key.substr(slash + 1)};
}

bool service_ready(const json& svc) {
  const std::int64_t generation = svc.value("/metadata/generation"_json_pointer, std::int64_t{0});
  const std::int64_t observed =
      svc.value("/status/observedGeneration"_json_pointer, std::int64_t{-1});
  const json conditions = svc.value("/status/conditions"_json_pointer, json::array());
  return observed >= generation && is_condition_true(conditions, condition::kReady);
}

// Whether the live OpenStackService already carries everything desired holds (spec, labels, owner):
// then applying it again would change nothing, and skipping the call keeps a reconcile cheap.
bool up_to_date(const json& live, const json& desired) {
  if (live.value("spec", json()) != desired["spec"]) return false;
  const json labels = live.value("/metadata/labels"_json_pointer, json::object());
  for (const auto& [k, v] : desired["metadata"]["labels"].items()) {
    if (!labels.is_object() || !labels.contains(k) || labels[k] != v) return false;
  }
  const json refs = live.value("/metadata/ownerReferences"_json_pointer, json::array());
  for (const auto& want : desired["metadata"]["ownerReferences"]) {
    if (std::find(refs.begin(), refs.end(), want) == refs.end()) return false;
  }
  return true;
}

std::string joined(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ", "));
}

struct Aggregate {
  ConditionStatus ready = ConditionStatus::kFalse;
  ConditionStatus progressing = ConditionStatus::kFalse;
  ConditionStatus degraded = ConditionStatus::kFalse;
  std::string reason;
  std::string message;
  // Of the Degraded condition when it differs from Ready's (a Ready service on a lost node).
  std::string degraded_reason;
  std::string degraded_message;
};

void write_deployment_status(ObjectClient& client, const json& deployment, const Clock& clock,
                             const std::function<void(json& status, std::int64_t gen)>& fill) {
  write_status(
      client, kDeploymentKind, deployment["metadata"].value("namespace", ""),
      deployment["metadata"].value("name", ""),
      [&](json& status, const json& fresh) {
        const std::int64_t generation = fresh["metadata"].value("generation", std::int64_t{0});
        status["observedGeneration"] = generation;
        fill(status, generation);
      },
      5, &deployment);
  (void)clock;
}

}  // namespace

DeploymentReconciler::DeploymentReconciler(ObjectClient& client, CatalogProvider catalog,
                                           EventRecorder& events,
                                           DeploymentControllerOptions options, const Clock& clock)
    : client_(client),
      catalog_(std::move(catalog)),
      events_(events),
      options_(options),
      clock_(clock) {}

Result DeploymentReconciler::teardown(const json& deployment) {
  if (!has_finalizer(deployment, kDeploymentFinalizer)) return {};
  const std::string ns = deployment["metadata"].value("namespace", "");
  const std::string name = deployment["metadata"].value("name", "");
  const auto services = client_.list(kServiceKind, ns, std::string(kDeploymentLabel) + "=" + name);
  // A service goes only when no remaining service depends on it (reverse dependency order).
  std::set<std::string> present;
  for (const auto& s : services) present.insert(s["metadata"].value("name", ""));
  std::vector<std::string> deleting;
  std::vector<std::string> blocked;
  for (const auto& s : services) {
    const std::string sname = s["metadata"].value("name", "");
    bool needed = false;
    for (const auto& other : services) {
      const json deps = other.value("/spec/dependencies"_json_pointer, json::array());
      for (const auto& d : deps) {
        if (d == sname && present.contains(other["metadata"].value("name", ""))) needed = true;
      }
    }
    if (needed) {
      blocked.push_back(sname);
      continue;
    }
    deleting.push_back(sname);
    if (!is_being_deleted(s)) {
      spdlog::info("deployment {}/{}: deleting service {}", ns, name, sname);
      client_.remove(kServiceKind, ns, sname, "Background");
      events_.normal(deployment, "DeletingService", "deleting " + sname);
    }
  }
  if (!services.empty()) {
    write_deployment_status(client_, deployment, clock_, [&](json& status, std::int64_t gen) {
      const auto now = clock_.wall();
      const std::string message =
          fmt::format("deleting {}{}", joined(deleting),
                      blocked.empty() ? "" : fmt::format("; then {}", joined(blocked)));
      set_condition(status["conditions"],
                    {"Ready", ConditionStatus::kFalse, "Deleting", message, "", gen}, now);
      set_condition(status["conditions"],
                    {"Progressing", ConditionStatus::kTrue, "Deleting", message, "", gen}, now);
    });
    return Result{false, options_.poll};
  }
  remove_finalizer(client_, deployment, kDeploymentFinalizer);
  spdlog::info("deployment {}/{}: every service deleted", ns, name);
  return {};
}

Result DeploymentReconciler::reconcile(const std::string& key) {
  const auto [ns, name] = split_key(key);
  using Steady = std::chrono::steady_clock;
  const auto t_start = Steady::now();
  Steady::time_point t_planned{}, t_listed{}, t_applied{};
  auto ms = [](Steady::time_point a, Steady::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  std::optional<json> found = client_.get(kDeploymentKind, ns, name);
  if (!found) return {};
  json deployment = *found;
  if (is_being_deleted(deployment)) return teardown(deployment);

  // Parse and plan first: an invalid spec changes nothing in the cluster.
  spec::Spec spec;
  plan::Plan plan;
  try {
    spec = spec::from_json(deployment);
    const plan::ServiceCatalog catalog = catalog_();
    plan = plan::make_plan(plan::DependencyGraph::build(spec, catalog));
  } catch (const std::exception& e) {
    const std::string message = redact(e.what());
    spdlog::warn("deployment {}: invalid: {}", key, message);
    write_deployment_status(client_, deployment, clock_, [&](json& status, std::int64_t gen) {
      const auto now = clock_.wall();
      set_condition(status["conditions"],
                    {"InvalidSpec", ConditionStatus::kTrue, "InvalidSpec", message, "", gen}, now);
      set_condition(status["conditions"],
                    {"Ready", ConditionStatus::kFalse, "InvalidSpec", message, "", gen}, now);
      set_condition(status["conditions"],
                    {"Progressing", ConditionStatus::kFalse, "InvalidSpec", message, "", gen}, now);
    });
    events_.warning(deployment, "InvalidSpec", message);
    return {};  // a spec change triggers the next reconcile
  }
  deployment = add_finalizer(client_, deployment, kDeploymentFinalizer);
  t_planned = Steady::now();

  // Current services of this deployment.
  std::map<std::string, json> existing;
  std::optional<std::vector<json>> cached;
  if (options_.cached_services) cached = options_.cached_services(ns, name);
  for (auto& s : cached
                     ? *cached
                     : client_.list(kServiceKind, ns, std::string(kDeploymentLabel) + "=" + name)) {
    existing[s["metadata"].value("name", "")] = s;
  }

  t_listed = Steady::now();
  std::set<std::string> enabled;
  for (const auto& s : plan.services) enabled.insert(s.name);

  json services_status = json::array();
  std::vector<std::string> ready_names, waiting_for_dep, deploying, failed;
  std::map<std::string, std::vector<std::string>> blockers;  // service → unready dependencies
  std::string failed_message;
  std::string deploying_message;
  // Not Failed but Degraded (e.g. NodeNotReady: pods on a node that is not Ready).
  std::vector<std::string> degraded_names;
  std::string degraded_reason;
  std::string degraded_message;
  for (const auto& planned : plan.services) {
    std::vector<std::string> unready;
    for (const auto& dep : planned.waits_for) {
      auto it = existing.find(dep);
      if (it == existing.end() || !service_ready(it->second)) unready.push_back(dep);
    }
    auto it = existing.find(planned.name);
    const bool exists = it != existing.end();
    if (exists || unready.empty() || options_.prepare) {
      // Create (dependencies Ready) or keep up to date; or, waiting, let it be prepared.
      json values = chart::service_values(spec, planned.name);
      json desired = {{"apiVersion", kServiceKind.api_version()},
                      {"kind", kServiceKind.kind},
                      {"metadata",
                       {{"name", planned.name},
                        {"namespace", ns},
                        {"labels",
                         {{kDeploymentLabel, name},
                          {"app.kubernetes.io/part-of", "openstack"},
                          {"app.kubernetes.io/managed-by", "kolla-operator"}}},
                        {"ownerReferences", json::array({owner_reference(deployment)})}}},
                      {"spec",
                       {{"service", planned.name},
                        {"chart", planned.name},
                        {"values", values},
                        {"dependencies", planned.waits_for}}}};
      if (!exists && !unready.empty()) {
        options_.prepare(desired);  // its dependencies are not Ready yet
      } else if (exists && up_to_date(it->second, desired)) {
        // Nothing to change.
      } else {
        existing[planned.name] = client_.apply(desired, kFieldManager, true);
      }
      if (!exists && unready.empty()) {
        spdlog::info("deployment {}: created service {}", key, planned.name);
        events_.normal(deployment, "ServiceCreated",
                       fmt::format("created {} (wave {})", planned.name, planned.wave));
      }
    }
    json entry = {{"name", planned.name}, {"wave", planned.wave}};
    const json& svc = exists || unready.empty() ? existing[planned.name] : json();
    const std::string phase = svc.is_null()
                                  ? "WaitingForDependency"
                                  : svc.value("/status/phase"_json_pointer, std::string{"Pending"});
    entry["phase"] = phase;
    const bool ready = !svc.is_null() && service_ready(svc);
    entry["ready"] = ready;
    entry["waitingOn"] = unready;
    const json conditions =
        svc.is_null() ? json::array() : svc.value("/status/conditions"_json_pointer, json::array());
    auto ready_condition = find_condition(conditions, condition::kReady);
    entry["message"] = svc.is_null() ? fmt::format("waiting for {}", joined(unready))
                                     : (ready_condition ? ready_condition->message : "");
    if (auto d = find_condition(conditions, condition::kDegraded);
        d && d->is_true() && phase != "Failed") {
      degraded_names.push_back(planned.name);
      entry["degraded"] = d->message;
      if (degraded_message.empty()) {
        degraded_reason = d->reason;
        degraded_message = fmt::format("{}: {}", planned.name, d->message);
      }
    }
    services_status.push_back(entry);
    if (ready) {
      ready_names.push_back(planned.name);
    } else if (svc.is_null()) {
      waiting_for_dep.push_back(planned.name);
      blockers[planned.name] = unready;
    } else if (phase == "Failed") {
      failed.push_back(planned.name);
      if (failed_message.empty()) {
        failed_message = fmt::format("{}: {}", planned.name, entry["message"].get<std::string>());
      }
    } else {
      deploying.push_back(planned.name);
      if (deploying_message.empty()) {
        deploying_message =
            fmt::format("{}: {}", planned.name, entry["message"].get<std::string>());
      }
    }
  }

  // Services no longer enabled: delete, dependents first.
  for (const auto& [sname, svc] : existing) {
    if (enabled.contains(sname) || is_being_deleted(svc)) continue;
    bool needed = false;
    for (const auto& [other, o] : existing) {
      if (other == sname) continue;
      for (const auto& d : o.value("/spec/dependencies"_json_pointer, json::array())) {
        if (d == sname) needed = true;
      }
    }
    if (needed) continue;
    spdlog::info("deployment {}: service {} is no longer enabled; deleting it", key, sname);
    client_.remove(kServiceKind, ns, sname, "Background");
    events_.normal(deployment, "ServiceRemoved", sname + " is no longer enabled");
  }

  // Aggregate (Ready / Progressing / Degraded).
  Aggregate agg;
  const std::size_t total = plan.services.size();
  if (ready_names.size() == total) {
    agg.ready = ConditionStatus::kTrue;
    agg.reason = "AllServicesReady";
    agg.message = fmt::format("{} services ready", total);
  } else if (!failed.empty()) {
    agg.degraded = ConditionStatus::kTrue;
    agg.progressing = ConditionStatus::kTrue;
    agg.reason = "ServiceFailed";
    agg.message = failed_message;
  } else if (!deploying.empty()) {
    agg.progressing = ConditionStatus::kTrue;
    agg.reason = "Deploying";
    agg.message = deploying_message;
  } else {
    // Nothing deploying and something waiting: the dependencies themselves are not ready.
    std::set<std::string> deps;
    for (const auto& [svc, unready] : blockers) deps.insert(unready.begin(), unready.end());
    agg.progressing = ConditionStatus::kTrue;
    agg.reason = "WaitingForDependency";
    agg.message = joined(std::vector<std::string>(deps.begin(), deps.end()));
  }
  if (agg.degraded != ConditionStatus::kTrue && !degraded_names.empty()) {
    agg.degraded = ConditionStatus::kTrue;
    agg.degraded_reason = degraded_reason.empty() ? "ServiceDegraded" : degraded_reason;
    agg.degraded_message = degraded_message;
    if (degraded_names.size() > 1) {
      agg.degraded_message +=
          fmt::format(" ({} services degraded: {})", degraded_names.size(), joined(degraded_names));
    }
  }
  if (agg.ready != ConditionStatus::kTrue && !waiting_for_dep.empty() &&
      agg.reason != "WaitingForDependency") {
    std::set<std::string> deps;
    for (const auto& [svc, unready] : blockers) deps.insert(unready.begin(), unready.end());
    agg.message += fmt::format("; {} waiting for {}", joined(waiting_for_dep),
                               joined(std::vector<std::string>(deps.begin(), deps.end())));
  }

  t_applied = Steady::now();
  const bool was_ready = is_condition_true(
      deployment.value("/status/conditions"_json_pointer, json::array()), condition::kReady);
  write_deployment_status(client_, deployment, clock_, [&](json& status, std::int64_t gen) {
    const auto now = clock_.wall();
    status["servicesReady"] = fmt::format("{}/{}", ready_names.size(), total);
    status["services"] = services_status;
    status["plan"] = {{"waves", plan.waves}, {"criticalPath", plan.critical_path}};
    json& c = status["conditions"];
    set_condition(c, {"Ready", agg.ready, agg.reason, agg.message, "", gen}, now);
    set_condition(c, {"Progressing", agg.progressing, agg.reason, agg.message, "", gen}, now);
    const bool degraded = agg.degraded == ConditionStatus::kTrue;
    set_condition(c,
                  {"Degraded", agg.degraded,
                   !degraded                      ? "AsExpected"
                   : !agg.degraded_reason.empty() ? agg.degraded_reason
                                                  : agg.reason,
                   !degraded                       ? ""
                   : !agg.degraded_message.empty() ? agg.degraded_message
                                                   : agg.message,
                   "", gen},
                  now);
    set_condition(c, {"InvalidSpec", ConditionStatus::kFalse, "Valid", "", "", gen}, now);
  });
  if (spdlog::should_log(spdlog::level::debug)) {
    const auto t_end = Steady::now();
    spdlog::debug(
        "deployment {}: reconcile {:.1f} ms: read and plan {:.1f}, list services {:.1f}, apply "
        "{:.1f}, status {:.1f}",
        key, ms(t_start, t_end), ms(t_start, t_planned), ms(t_planned, t_listed),
        ms(t_listed, t_applied), ms(t_applied, t_end));
  }
  if (agg.ready == ConditionStatus::kTrue) {
    if (!was_ready) events_.normal(deployment, "Ready", agg.message);
    return {};
  }
  return Result{false, options_.poll};
}

}  // namespace kolla::op
