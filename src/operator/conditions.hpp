#pragma once
// status.conditions[] helpers following the Kubernetes API conventions: one entry per type,
// lastTransitionTime changes only when status changes, observedGeneration records the spec
// generation the condition was computed from.

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::op {

enum class ConditionStatus { kTrue, kFalse, kUnknown };

std::string_view to_string(ConditionStatus status);
ConditionStatus condition_status_from(std::string_view text);  // anything else: kUnknown

// Well-known condition types and reasons used by both controllers.
namespace condition {
inline constexpr std::string_view kReady = "Ready";
inline constexpr std::string_view kProgressing = "Progressing";
inline constexpr std::string_view kDegraded = "Degraded";
inline constexpr std::string_view kInvalidSpec = "InvalidSpec";
}  // namespace condition

struct Condition {
  std::string type;
  ConditionStatus status = ConditionStatus::kUnknown;
  std::string reason;   // CamelCase, e.g. WaitingForDependency
  std::string message;  // human-readable, never a secret
  std::string last_transition_time;
  std::int64_t observed_generation = 0;

  nlohmann::json to_json() const;
  static Condition from_json(const nlohmann::json& j);
  bool is_true() const { return status == ConditionStatus::kTrue; }
};

// Finds a condition by type in a conditions array (json array or null).
std::optional<Condition> find_condition(const nlohmann::json& conditions, std::string_view type);
bool is_condition_true(const nlohmann::json& conditions, std::string_view type);

// Sets `c` in `conditions` (a json array; null becomes an empty array). lastTransitionTime is
// kept from the existing entry when the status did not change, else set to `now`. Returns true
// when anything (status, reason, message, observedGeneration) changed.
bool set_condition(nlohmann::json& conditions, Condition c,
                   std::chrono::system_clock::time_point now);

// Removes the condition of that type; returns true when one was removed.
bool remove_condition(nlohmann::json& conditions, std::string_view type);

}  // namespace kolla::op
