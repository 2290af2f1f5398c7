#include "common/duration.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace kolla {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Milliseconds per unit; 0 for an unknown unit.
double unit_factor(std::string_view unit) {
  if (unit == "ms") return 1;
  if (unit == "s") return 1'000;
  if (unit == "m") return 60'000;
  if (unit == "h") return 3'600'000;
  return 0;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  const std::string quoted = "'" + std::string(text) + "'";
  if (text.empty()) throw std::invalid_argument("empty duration");
  if (text.front() == '-') {
    throw std::invalid_argument("duration must not be negative: " + quoted);
  }

  double total_ms = 0;
  int terms = 0;
  bool bare = false;  // the last term had no unit
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;  // between terms: "1m 30s"
    // The number: digits with at most one decimal point, at least one digit.
    const size_t start = i;
    int digits = 0;
    int points = 0;
    while (i < text.size() && (is_digit(text[i]) || text[i] == '.')) {
      if (text[i] == '.') {
        ++points;
      } else {
        ++digits;
      }
      ++i;
    }
    if (digits == 0 || points > 1) {
      throw std::invalid_argument("bad duration " + quoted +
                                  " (expected a number with a unit ms, s, m or h, e.g. 30s)");
    }
    double value = 0;
    try {
      value = std::stod(std::string(text.substr(start, i - start)));
    } catch (const std::out_of_range&) {
      throw std::invalid_argument("duration too large: " + quoted);
    }
    while (i < text.size() && is_space(text[i])) ++i;
    const size_t unit_start = i;
    while (i < text.size() && is_alpha(text[i])) ++i;
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    ++terms;
    if (unit.empty()) {
      if (i < text.size()) {
        throw std::invalid_argument("bad duration " + quoted +
                                    " (expected a number with a unit ms, s, m or h, e.g. 30s)");
      }
      bare = true;
      total_ms += value * 1'000;
      break;
    }
    const double factor = unit_factor(unit);
    if (factor == 0) {
      throw std::invalid_argument("bad duration unit '" + std::string(unit) + "' in " + quoted +
                                  " (use ms, s, m or h)");
    }
    total_ms += value * factor;
  }
  if (bare && terms > 1) {
    throw std::invalid_argument("bad duration " + quoted +
                                " (every part of a compound duration needs a unit)");
  }
  // std::chrono::milliseconds holds about 292 million years; stay far below any overflow.
  constexpr double kMaxMs = 1e13;  // ~317 years
  if (!std::isfinite(total_ms) || total_ms > kMaxMs) {
    throw std::invalid_argument("duration too large: " + quoted);
  }
  return std::chrono::milliseconds(std::llround(total_ms));
}

}  // namespace kolla
