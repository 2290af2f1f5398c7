#include "operator/conditions.hpp"

#include "operator/clock.hpp"

namespace kolla::op {

std::string_view to_string(ConditionStatus status) {
  switch (status) {
    case ConditionStatus::kTrue:
      return "True";
    case ConditionStatus::kFalse:
      return "False";
    case ConditionStatus::kUnknown:
      break;
  }
  return "Unknown";
}

ConditionStatus condition_status_from(std::string_view text) {
  if (text == "True") return ConditionStatus::kTrue;
  if (text == "False") return ConditionStatus::kFalse;
  return ConditionStatus::kUnknown;
}

nlohmann::json Condition::to_json() const {
  nlohmann::json j = {{"type", type}, {"status", std::string(to_string(status))}};
  if (!reason.empty()) j["reason"] = reason;
  j["message"] = message;
  if (!last_transition_time.empty()) j["lastTransitionTime"] = last_transition_time;
  if (observed_generation > 0) j["observedGeneration"] = observed_generation;
  return j;
}

Condition Condition::from_json(const nlohmann::json& j) {
  Condition c;
  c.type = j.value("type", "");
  c.status = condition_status_from(j.value("status", "Unknown"));
  c.reason = j.value("reason", "");
  c.message = j.value("message", "");
  c.last_transition_time = j.value("lastTransitionTime", "");
  if (j.contains("observedGeneration") && j["observedGeneration"].is_number_integer()) {
    c.observed_generation = j["observedGeneration"].get<std::int64_t>();
  }
  return c;
}

std::optional<Condition> find_condition(const nlohmann::json& conditions, std::string_view type) {
  if (!conditions.is_array()) return std::nullopt;
  for (const auto& entry : conditions) {
    if (entry.is_object() && entry.value("type", "") == type) return Condition::from_json(entry);
  }
  return std::nullopt;
}

bool is_condition_true(const nlohmann::json& conditions, std::string_view type) {
  auto c = find_condition(conditions, type);
  return c && c->is_true();
}

bool set_condition(nlohmann::json& conditions, Condition c,
                   std::chrono::system_clock::time_point now) {
  if (!conditions.is_array()) conditions = nlohmann::json::array();
  for (auto& entry : conditions) {
    if (!entry.is_object() || entry.value("type", "") != c.type) continue;
    const Condition old = Condition::from_json(entry);
    if (old.status == c.status && !old.last_transition_time.empty()) {
      c.last_transition_time = old.last_transition_time;
    } else {
      c.last_transition_time = format_time(now);
    }
    const bool changed = old.status != c.status || old.reason != c.reason ||
                         old.message != c.message ||
                         old.observed_generation != c.observed_generation ||
                         old.last_transition_time != c.last_transition_time;
    entry = c.to_json();
    return changed;
  }
  c.last_transition_time = format_time(now);
  conditions.push_back(c.to_json());
  return true;
}

bool remove_condition(nlohmann::json& conditions, std::string_view type) {
  if (!conditions.is_array()) return false;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    if (it->is_object() && it->value("type", "") == type) {
      conditions.erase(it);
      return true;
    }
  }
  return false;
}

}  // namespace kolla::op
