#include "operator/clock.hpp"

#include <gtest/gtest.h>

namespace kolla::op {
namespace {

TEST(ClockTest, FormatsAndParsesRfc3339) {
  const auto t = std::chrono::sys_days{std::chrono::year{2025} / 3 / 4} + std::chrono::hours(5) +
                 std::chrono::minutes(6) + std::chrono::seconds(7) +
                 std::chrono::microseconds(890123);
  EXPECT_EQ(format_time(t), "2025-03-04T05:06:07Z");
  EXPECT_EQ(format_micro_time(t), "2025-03-04T05:06:07.890123Z");
  EXPECT_EQ(parse_time("2025-03-04T05:06:07.890123Z"), t);
  EXPECT_EQ(parse_time("2025-03-04T07:06:07.890123+02:00"), t);
  EXPECT_EQ(format_time(parse_time("2025-03-04T05:06:07Z")), "2025-03-04T05:06:07Z");
  EXPECT_THROW(parse_time("yesterday"), std::invalid_argument);
  EXPECT_THROW(parse_time("2025-03-04T05:06:07"), std::invalid_argument);
  EXPECT_THROW(parse_time("2025-02-30T05:06:07Z"), std::invalid_argument);
}

TEST(ClockTest, FakeClockMovesOnlyWhenAdvanced) {
  FakeClock clock;
  const auto steady = clock.now();
  const auto wall = clock.wall();
  EXPECT_EQ(clock.now(), steady);
  clock.advance(std::chrono::seconds(90));
  EXPECT_EQ(clock.now() - steady, std::chrono::seconds(90));
  EXPECT_EQ(clock.wall() - wall, std::chrono::seconds(90));
  EXPECT_EQ(format_time(clock.wall()), "2025-01-01T00:01:30Z");
}

}  // namespace
}  // namespace kolla::op
