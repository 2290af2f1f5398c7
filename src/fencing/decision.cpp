#include "fencing/decision.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "operator/clock.hpp"

namespace kolla::fencing {

namespace {

std::optional<TimePoint> time_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
  try {
    return op::parse_time(j[key].get<std::string>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

const json& annotations_of(const json& node) {
  static const json empty = json::object();
  const json* a = node.contains("metadata") ? &node["metadata"] : nullptr;
  if (a == nullptr || !a->contains("annotations") || !(*a)["annotations"].is_object()) return empty;
  return (*a)["annotations"];
}

Millis until(TimePoint deadline, TimePoint now) {
  auto left = std::chrono::duration_cast<Millis>(deadline - now);
  return std::max(left, Millis(1));
}

std::string fmt_ms(Millis d) {
  return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000);
}

const std::vector<const char*> kAllAnnotations = {
    kStateAnnotation,   kAgentAnnotation,     kAttemptsAnnotation,    kStartedAnnotation,
    kUpdatedAnnotation, kRequestedAnnotation, kNextAttemptAnnotation, kPoweredOffAnnotation,
    kTaintedAnnotation, kMessageAnnotation,   kStepFailuresAnnotation};

}  // namespace

std::string_view to_string(FenceState state) {
  switch (state) {
    case FenceState::kNone:
      return "";
    case FenceState::kPending:
      return "pending";
    case FenceState::kPoweredOff:
      return "powered-off";
    case FenceState::kStorageReleased:
      return "storage-released";
    case FenceState::kTainted:
      return "tainted";
    case FenceState::kDone:
      return "done";
  }
  return "";
}

std::optional<FenceState> parse_state(std::string_view text) {
  for (auto s : {FenceState::kNone, FenceState::kPending, FenceState::kPoweredOff,
                 FenceState::kStorageReleased, FenceState::kTainted, FenceState::kDone}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kNothing:
      return "Nothing";
    case Action::kWait:
      return "Wait";
    case Action::kSuppressed:
      return "Suppressed";
    case Action::kStart:
      return "Start";
    case Action::kCancel:
      return "Cancel";
    case Action::kCheckPower:
      return "CheckPower";
    case Action::kPowerOff:
      return "PowerOff";
    case Action::kReleaseStorage:
      return "ReleaseStorage";
    case Action::kTaint:
      return "Taint";
    case Action::kForceDelete:
      return "ForceDelete";
    case Action::kFinish:
      return "Finish";
    case Action::kUnfence:
      return "Unfence";
  }
  return "";
}

std::string node_name(const json& node) {
  return node.value("/metadata/name"_json_pointer, std::string{});
}

bool matches_selector(const json& node, const std::map<std::string, std::string>& selector) {
  const json labels = node.value("/metadata/labels"_json_pointer, json::object());
  for (const auto& [k, v] : selector) {
    if (!labels.contains(k) || !labels[k].is_string() || labels[k].get<std::string>() != v) {
      return false;
    }
  }
  return true;
}

bool label_true(const json& node, const std::string& label) {
  if (label.empty()) return false;
  const json labels = node.value("/metadata/labels"_json_pointer, json::object());
  if (!labels.contains(label) || !labels[label].is_string()) return false;
  std::string v = labels[label].get<std::string>();
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::tolower(c); });
  return v == "true" || v == "yes" || v == "1";
}

NodeHealth node_health(const json& node, const json& lease, bool use_lease) {
  NodeHealth h;
  const json conditions = node.value("/status/conditions"_json_pointer, json::array());
  const json* ready = nullptr;
  for (const auto& c : conditions) {
    if (c.value("type", "") == "Ready") ready = &c;
  }
  if (ready == nullptr) {
    h.ready = false;
    h.unready_since = time_of(node.value("metadata", json::object()), "creationTimestamp");
    h.reason = "no Ready condition";
    return h;
  }
  const std::string status = ready->value("status", "Unknown");
  if (status != "True") {
    h.ready = false;
    auto transition = time_of(*ready, "lastTransitionTime");
    auto heartbeat = time_of(*ready, "lastHeartbeatTime");
    if (transition && heartbeat) {
      h.unready_since = std::min(*transition, *heartbeat);
    } else {
      h.unready_since = transition ? transition : heartbeat;
    }
    h.reason = "Ready=" + status;
    if (!ready->value("reason", "").empty()) h.reason += " (" + ready->value("reason", "") + ")";
    return h;
  }
  if (use_lease && lease.is_object() && lease.contains("spec")) {
    const json& spec = lease["spec"];
    auto renew = time_of(spec, "renewTime");
    const int duration = spec.value("leaseDurationSeconds", 40);
    if (renew) {
      h.unready_since = *renew + std::chrono::seconds(duration);
      h.ready = false;  // tentatively; the caller compares with now
      h.reason = "Lease not renewed since " + op::format_time(*renew);
    }
  }
  return h;
}

namespace {
// node_health, but a lease only counts once it is actually expired at `now`.
NodeHealth health_at(const json& node, const json& lease, bool use_lease, TimePoint now) {
  NodeHealth h = node_health(node, lease, use_lease);
  if (!h.ready && h.reason.starts_with("Lease") && h.unready_since && *h.unready_since > now) {
    return NodeHealth{};
  }
  return h;
}
}  // namespace

Candidacy evaluate_candidate(const json& node, const json& lease, const Config& config,
                             TimePoint now) {
  Candidacy c;
  if (!config.enabled) {
    c.reason = "fencing is disabled";
    return c;
  }
  if (!matches_selector(node, config.node_selector)) {
    c.reason = "node does not match the fencing node selector";
    return c;
  }
  if (label_true(node, config.opt_out_label)) {
    c.reason = "node opted out (" + config.opt_out_label + ")";
    return c;
  }
  const NodeHealth h = health_at(node, lease, config.use_lease, now);
  if (h.ready) {
    c.reason = "node is Ready";
    return c;
  }
  const TimePoint since = h.unready_since.value_or(now);
  const auto deadline = since + config.grace_period;
  if (now < deadline) {
    c.wait = until(deadline, now);
    c.reason = h.reason + ", within the grace period (" + fmt_ms(c.wait) + " left)";
    return c;
  }
  c.candidate = true;
  c.reason = h.reason + " for " + fmt_ms(std::chrono::duration_cast<Millis>(now - since)) +
             " (grace period " + fmt_ms(config.grace_period) + ")";
  return c;
}

Guard partition_guard(const std::vector<json>& nodes, const std::vector<json>& leases,
                      const Config& config, TimePoint now) {
  std::map<std::string, const json*> lease_of;
  for (const auto& l : leases) lease_of[node_name(l)] = &l;
  Guard g;
  for (const auto& n : nodes) {
    if (!matches_selector(n, config.node_selector)) continue;
    ++g.total;
    auto it = lease_of.find(node_name(n));
    static const json none;
    const json& lease = it == lease_of.end() ? none : *it->second;
    if (!health_at(n, lease, config.use_lease, now).ready) ++g.unready;
  }
  if (g.total == 0) {
    g.allowed = false;
    g.message = "no node matches the fencing node selector";
    return g;
  }
  const double share = static_cast<double>(g.unready) / g.total;
  g.allowed = share <= config.max_unready_share + 1e-9;
  g.message = fmt::format("{} of {} nodes NotReady ({:.0f}%, limit {:.0f}%)", g.unready, g.total,
                          share * 100, config.max_unready_share * 100);
  return g;
}

FenceRecord read_record(const json& node) {
  FenceRecord r;
  const json& a = annotations_of(node);
  const std::string state = a.value(kStateAnnotation, std::string{});
  if (auto s = parse_state(state)) {
    r.state = *s;
  } else {
    r.state = FenceState::kPending;  // unknown: never forget that a fence may be under way
    r.valid = false;
  }
  r.agent = a.value(kAgentAnnotation, std::string{});
  try {
    r.attempts = std::stoi(a.value(kAttemptsAnnotation, std::string{"0"}));
  } catch (const std::exception&) {
    r.attempts = 0;
  }
  try {
    r.step_failures = std::stoi(a.value(kStepFailuresAnnotation, std::string{"0"}));
  } catch (const std::exception&) {
    r.step_failures = 0;
  }
  r.started = time_of(a, kStartedAnnotation);
  r.updated = time_of(a, kUpdatedAnnotation);
  r.requested = time_of(a, kRequestedAnnotation);
  r.next_attempt = time_of(a, kNextAttemptAnnotation);
  r.powered_off = time_of(a, kPoweredOffAnnotation);
  r.tainted = time_of(a, kTaintedAnnotation);
  r.message = a.value(kMessageAnnotation, std::string{});
  return r;
}

json record_annotations(const FenceRecord& r) {
  json out = json::object();
  for (const char* key : kAllAnnotations) out[key] = nullptr;
  if (r.state == FenceState::kNone) return out;
  auto put_time = [&](const char* key, const std::optional<TimePoint>& t) {
    if (t) out[key] = op::format_time(*t);
  };
  out[kStateAnnotation] = std::string(to_string(r.state));
  if (!r.agent.empty()) out[kAgentAnnotation] = r.agent;
  out[kAttemptsAnnotation] = std::to_string(r.attempts);
  if (r.step_failures > 0) out[kStepFailuresAnnotation] = std::to_string(r.step_failures);
  put_time(kStartedAnnotation, r.started);
  put_time(kUpdatedAnnotation, r.updated);
  put_time(kRequestedAnnotation, r.requested);
  put_time(kNextAttemptAnnotation, r.next_attempt);
  put_time(kPoweredOffAnnotation, r.powered_off);
  put_time(kTaintedAnnotation, r.tainted);
  if (!r.message.empty()) out[kMessageAnnotation] = r.message.substr(0, 512);
  return out;
}

void write_record(json& node, const FenceRecord& record) {
  json& meta = node["metadata"];
  if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
    meta["annotations"] = json::object();
  }
  const json annotations = record_annotations(record);
  for (const auto& [k, v] : annotations.items()) {
    if (v.is_null()) {
      meta["annotations"].erase(k);
    } else {
      meta["annotations"][k] = v;
    }
  }
}

bool has_out_of_service_taint(const json& node) {
  for (const auto& t : node.value("/spec/taints"_json_pointer, json::array())) {
    if (t.value("key", "") == kOutOfServiceTaint) return true;
  }
  return false;
}

bool add_out_of_service_taint(json& node, TimePoint now) {
  if (has_out_of_service_taint(node)) return false;
  json& spec = node["spec"];
  if (!spec.contains("taints") || !spec["taints"].is_array()) spec["taints"] = json::array();
  spec["taints"].push_back({{"key", kOutOfServiceTaint},
                            {"value", kOutOfServiceValue},
                            {"effect", "NoExecute"},
                            {"timeAdded", op::format_time(now)}});
  return true;
}

bool remove_out_of_service_taint(json& node) {
  if (!has_out_of_service_taint(node)) return false;
  json kept = json::array();
  for (const auto& t : node["spec"]["taints"]) {
    if (t.value("key", "") != kOutOfServiceTaint) kept.push_back(t);
  }
  if (kept.empty()) {
    node["spec"].erase("taints");
  } else {
    node["spec"]["taints"] = kept;
  }
  return true;
}

Millis retry_delay(const Config& config, int attempts) {
  const int exponent = std::clamp(attempts - 1, 0, 30);
  const double delay = static_cast<double>(config.retry_base.count()) * std::pow(2.0, exponent);
  if (delay >= static_cast<double>(config.retry_max.count())) return config.retry_max;
  return Millis(static_cast<long long>(delay));
}

Decision next_step(const NodeView& view, const Config& config, TimePoint now) {
  const FenceRecord r = read_record(view.node);
  const NodeHealth h = health_at(view.node, view.lease, config.use_lease, now);
  const bool unfence_asked = label_true(view.node, config.unfence_label);
  Decision d;

  if (r.state != FenceState::kNone && unfence_asked) {
    if (h.ready) return {Action::kUnfence, Millis(0), "unfence requested and the node is Ready"};
    // Asked too early: keep the fence, look again later.
    return {Action::kWait, config.confirm_interval,
            "unfence requested but the node is not Ready (" + h.reason + ")"};
  }

  switch (r.state) {
    case FenceState::kNone: {
      const Candidacy c = evaluate_candidate(view.node, view.lease, config, now);
      if (!c.candidate) {
        if (c.wait.count() > 0) return {Action::kWait, c.wait, c.reason};
        return {Action::kNothing, Millis(0), c.reason};
      }
      if (!view.guard.allowed) {
        return {Action::kSuppressed, config.grace_period, "partition guard: " + view.guard.message};
      }
      return {Action::kStart, Millis(0), c.reason};
    }
    case FenceState::kPending: {
      if (h.ready) return {Action::kCancel, Millis(0), "the node is Ready again"};
      if (label_true(view.node, config.opt_out_label)) {
        return {Action::kCancel, Millis(0), "the node opted out (" + config.opt_out_label + ")"};
      }
      if (r.requested) {
        return {Action::kCheckPower, Millis(0), "a power-off is awaiting confirmation"};
      }
      if (r.next_attempt && now < *r.next_attempt) {
        return {Action::kWait, until(*r.next_attempt, now),
                "retrying after backoff (attempt " + std::to_string(r.attempts + 1) + ")"};
      }
      if (!config.enabled) return {Action::kWait, config.grace_period, "fencing is disabled"};
      if (!view.guard.allowed) {
        return {Action::kSuppressed, config.grace_period, "partition guard: " + view.guard.message};
      }
      return {Action::kPowerOff, Millis(0), "power-off attempt " + std::to_string(r.attempts + 1)};
    }
    case FenceState::kPoweredOff:
      if (r.next_attempt && now < *r.next_attempt) {
        return {Action::kWait, until(*r.next_attempt, now), "retrying storage release"};
      }
      return {Action::kReleaseStorage, Millis(0), "the node is powered off"};
    case FenceState::kStorageReleased:
      return {Action::kTaint, Millis(0), "storage released"};
    case FenceState::kTainted: {
      if (!has_out_of_service_taint(view.node)) {
        return {Action::kTaint, Millis(0), "the out-of-service taint is missing"};
      }
      const TimePoint tainted = r.tainted.value_or(now);
      const TimePoint force_at = tainted + config.force_delete_after;
      if (view.pods_on_node == 0) return {Action::kFinish, Millis(0), "no pod left on the node"};
      if (now < force_at) {
        return {Action::kWait, std::min(until(force_at, now), config.confirm_interval),
                std::to_string(view.pods_on_node) + " pods still on the node"};
      }
      if (view.stuck_pods > 0) {
        return {Action::kForceDelete, Millis(0),
                std::to_string(view.stuck_pods) + " pods stuck Terminating"};
      }
      return {Action::kFinish, Millis(0),
              std::to_string(view.pods_on_node) + " pods tolerate the taint and stay"};
    }
    case FenceState::kDone:
      if (h.ready) {
        return {Action::kNothing, Millis(0),
                "fenced node is Ready again; unfence with the label " + config.unfence_label +
                    "=true or kollakube node unfence"};
      }
      return {Action::kNothing, Millis(0), "fenced"};
  }
  return d;
}

}  // namespace kolla::fencing
