#include "common/duration.hpp"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace kolla {
namespace {

using std::chrono::milliseconds;

TEST(Duration, SingleUnits) {
  EXPECT_EQ(parse_duration("500ms"), milliseconds(500));
  EXPECT_EQ(parse_duration("20s"), milliseconds(20'000));
  EXPECT_EQ(parse_duration("1.5s"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("2m"), milliseconds(120'000));
  EXPECT_EQ(parse_duration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parse_duration("0.5h"), milliseconds(1'800'000));
  EXPECT_EQ(parse_duration("0s"), milliseconds(0));
  EXPECT_EQ(parse_duration(".5s"), milliseconds(500));
  EXPECT_EQ(parse_duration("2.s"), milliseconds(2'000));
}

TEST(Duration, BareNumberIsSeconds) {
  EXPECT_EQ(parse_duration("3"), milliseconds(3'000));
  EXPECT_EQ(parse_duration("0.25"), milliseconds(250));
  EXPECT_EQ(parse_duration("0"), milliseconds(0));
}

TEST(Duration, WhitespaceAroundAndBeforeTheUnit) {
  EXPECT_EQ(parse_duration(" 0s "), milliseconds(0));
  EXPECT_EQ(parse_duration("\t10s\n"), milliseconds(10'000));
  EXPECT_EQ(parse_duration("10 s"), milliseconds(10'000));
  EXPECT_EQ(parse_duration(" 7 "), milliseconds(7'000));
}

TEST(Duration, GoStyleCompounds) {
  EXPECT_EQ(parse_duration("1m30s"), milliseconds(90'000));
  EXPECT_EQ(parse_duration("1h0m5.5s"), milliseconds(3'605'500));
  EXPECT_EQ(parse_duration("2h45m"), milliseconds(9'900'000));
  EXPECT_EQ(parse_duration("1s500ms"), milliseconds(1'500));
  EXPECT_EQ(parse_duration("1m 30s"), milliseconds(90'000));
}

TEST(Duration, RoundsToMilliseconds) {
  EXPECT_EQ(parse_duration("0.0004s"), milliseconds(0));
  EXPECT_EQ(parse_duration("0.0006s"), milliseconds(1));
  EXPECT_EQ(parse_duration("1.4ms"), milliseconds(1));
}

std::string message_of(std::string_view text) {
  try {
    parse_duration(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(Duration, Rejects) {
  for (const char* bad :
       {"",     "   ",  "abc",  "soon", "-1s",  "-1",    "3d",  "10 parsecs", "1.2.3s", "s",  ".s",
        "1m30", "30s1", "1e3s", "+5s",  "0x10", "1h-5m", "inf", "nan",        "5sec",   "1MS"}) {
    EXPECT_THROW(parse_duration(bad), std::invalid_argument) << "'" << bad << "'";
  }
  EXPECT_THROW(parse_duration("99999999999h"), std::invalid_argument);
  EXPECT_THROW(parse_duration(std::string(400, '9') + "s"), std::invalid_argument);
}

TEST(Duration, MessagesNameTheText) {
  EXPECT_EQ(message_of(""), "empty duration");
  EXPECT_EQ(message_of("-1s"), "duration must not be negative: '-1s'");
  EXPECT_EQ(message_of("3d"), "bad duration unit 'd' in '3d' (use ms, s, m or h)");
  EXPECT_EQ(message_of("soon"),
            "bad duration 'soon' (expected a number with a unit ms, s, m or h, e.g. 30s)");
  EXPECT_EQ(message_of("1m30"),
            "bad duration '1m30' (every part of a compound duration needs a unit)");
  EXPECT_EQ(message_of("99999999999h"), "duration too large: '99999999999h'");
}

}  // namespace
}  // namespace kolla
