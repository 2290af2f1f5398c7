#pragma once
// Durations written by people: "500ms", "20s", "1.5s", "2m", "1h", Go-style compounds such as
// "1m30s" or "1h0m5.5s", and a bare number meaning seconds ("3", "0.25").

#include <chrono>
#include <string_view>

namespace kolla {

// Parses a duration; surrounding whitespace is ignored, and so is whitespace between a number and
// its unit ("10 s"). Units: ms, s, m, h. A bare number (no unit at all) is seconds; in a compound
// every term needs a unit. The result is rounded to the nearest millisecond.
// Throws std::invalid_argument naming the text: empty, negative, unknown unit, bad number, too
// large (over about 290 years).
std::chrono::milliseconds parse_duration(std::string_view text);

}  // namespace kolla
