#include "operator/conditions.hpp"

#include <gtest/gtest.h>

#include "operator/clock.hpp"

namespace kolla::op {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

Condition ready(ConditionStatus s, std::string reason, std::string message, int gen = 1) {
  return Condition{"Ready", s, std::move(reason), std::move(message), "", gen};
}

TEST(ConditionsTest, SetAddsWithTransitionTime) {
  FakeClock clock;
  json conditions;  // null
  EXPECT_TRUE(
      set_condition(conditions, ready(ConditionStatus::kFalse, "Deploying", "x"), clock.wall()));
  ASSERT_TRUE(conditions.is_array());
  ASSERT_EQ(conditions.size(), 1u);
  EXPECT_EQ(conditions[0]["type"], "Ready");
  EXPECT_EQ(conditions[0]["status"], "False");
  EXPECT_EQ(conditions[0]["reason"], "Deploying");
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2025-01-01T00:00:00Z");
  EXPECT_EQ(conditions[0]["observedGeneration"], 1);
}

TEST(ConditionsTest, TransitionTimeChangesOnlyWithStatus) {
  FakeClock clock;
  json conditions = json::array();
  set_condition(conditions, ready(ConditionStatus::kFalse, "A", "waiting"), clock.wall());
  clock.advance(10s);
  // Same status, new message: changed, but the transition time stays.
  EXPECT_TRUE(set_condition(conditions, ready(ConditionStatus::kFalse, "B", "still waiting"),
                            clock.wall()));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2025-01-01T00:00:00Z");
  EXPECT_EQ(conditions[0]["reason"], "B");
  // Identical: nothing changed.
  clock.advance(10s);
  EXPECT_FALSE(set_condition(conditions, ready(ConditionStatus::kFalse, "B", "still waiting"),
                             clock.wall()));
  // Status flips: new transition time.
  EXPECT_TRUE(
      set_condition(conditions, ready(ConditionStatus::kTrue, "Ready", "ok"), clock.wall()));
  EXPECT_EQ(conditions[0]["lastTransitionTime"], "2025-01-01T00:00:20Z");
  EXPECT_EQ(conditions.size(), 1u);
}

TEST(ConditionsTest, ObservedGenerationChangeCounts) {
  FakeClock clock;
  json conditions;
  set_condition(conditions, ready(ConditionStatus::kTrue, "Ready", "ok", 1), clock.wall());
  EXPECT_TRUE(
      set_condition(conditions, ready(ConditionStatus::kTrue, "Ready", "ok", 2), clock.wall()));
  EXPECT_EQ(conditions[0]["observedGeneration"], 2);
}

TEST(ConditionsTest, FindIsTrueRemove) {
  FakeClock clock;
  json conditions;
  set_condition(conditions, ready(ConditionStatus::kTrue, "Ready", "ok"), clock.wall());
  set_condition(conditions, Condition{"Degraded", ConditionStatus::kFalse, "AsExpected", "", "", 1},
                clock.wall());
  EXPECT_TRUE(is_condition_true(conditions, "Ready"));
  EXPECT_FALSE(is_condition_true(conditions, "Degraded"));
  EXPECT_FALSE(is_condition_true(conditions, "Progressing"));
  auto c = find_condition(conditions, "Degraded");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, "AsExpected");
  EXPECT_TRUE(remove_condition(conditions, "Degraded"));
  EXPECT_FALSE(remove_condition(conditions, "Degraded"));
  EXPECT_FALSE(find_condition(conditions, "Degraded"));
  EXPECT_FALSE(find_condition(json(), "Ready"));
}

TEST(ConditionsTest, StatusStrings) {
  EXPECT_EQ(to_string(ConditionStatus::kTrue), "True");
  EXPECT_EQ(to_string(ConditionStatus::kFalse), "False");
  EXPECT_EQ(to_string(ConditionStatus::kUnknown), "Unknown");
  EXPECT_EQ(condition_status_from("True"), ConditionStatus::kTrue);
  EXPECT_EQ(condition_status_from("bogus"), ConditionStatus::kUnknown);
}

}  // namespace
}  // namespace kolla::op
