#include "operator/clock.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace kolla::op {

SystemClock& SystemClock::instance() {
  static SystemClock clock;
  return clock;
}

FakeClock::FakeClock()
    : steady_(std::chrono::steady_clock::time_point{} + std::chrono::hours(1)),
      wall_(std::chrono::sys_days{std::chrono::year{2025} / 1 / 1}) {}

std::chrono::steady_clock::time_point FakeClock::now() const {
  std::lock_guard lock(mutex_);
  return steady_;
}

std::chrono::system_clock::time_point FakeClock::wall() const {
  std::lock_guard lock(mutex_);
  return wall_;
}

void FakeClock::advance(std::chrono::nanoseconds by) {
  std::lock_guard lock(mutex_);
  steady_ += by;
  wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(by);
}

namespace {

std::tm to_utc(std::chrono::system_clock::time_point t) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return tm;
}

}  // namespace

std::string format_time(std::chrono::system_clock::time_point t) {
  const std::tm tm = to_utc(std::chrono::floor<std::chrono::seconds>(t));
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_micro_time(std::chrono::system_clock::time_point t) {
  const auto seconds = std::chrono::floor<std::chrono::seconds>(t);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t - seconds).count();
  const std::tm tm = to_utc(seconds);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, micros);
}

std::chrono::system_clock::time_point parse_time(const std::string& text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                  &second, &consumed) != 6) {
    throw std::invalid_argument("not an RFC 3339 time: " + text);
  }
  std::size_t pos = static_cast<std::size_t>(consumed);
  long long micros = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 6) {
        micros = micros * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    for (; digits < 6; ++digits) micros *= 10;
  }
  long offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh = 0, om = 0;
    if (std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
      throw std::invalid_argument("bad time zone offset: " + text);
    }
    offset_seconds = (text[pos] == '+' ? 1 : -1) * (oh * 3600L + om * 60L);
    pos += 6;
  } else {
    throw std::invalid_argument("time without zone: " + text);
  }
  if (pos != text.size()) throw std::invalid_argument("trailing characters in time: " + text);
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) throw std::invalid_argument("invalid date: " + text);
  return std::chrono::sys_days{ymd} + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         std::chrono::seconds(second) + std::chrono::microseconds(micros) -
         std::chrono::seconds(offset_seconds);
}

}  // namespace kolla::op
