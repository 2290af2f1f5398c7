#pragma once
// Time, injectable: the work queue, conditions and leader election read the clock through this
// interface so that tests drive time by hand.

#include <chrono>
#include <mutex>
#include <string>

namespace kolla::op {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time for delays and deadlines.
  virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall-clock time for timestamps written into objects.
  virtual std::chrono::system_clock::time_point wall() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() const override {
    return std::chrono::steady_clock::now();
  }
  std::chrono::system_clock::time_point wall() const override {
    return std::chrono::system_clock::now();
  }
  static SystemClock& instance();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock final : public Clock {
 public:
  FakeClock();
  std::chrono::steady_clock::time_point now() const override;
  std::chrono::system_clock::time_point wall() const override;
  void advance(std::chrono::nanoseconds by);

 private:
  mutable std::mutex mutex_;
  std::chrono::steady_clock::time_point steady_;
  std::chrono::system_clock::time_point wall_;
};

// RFC 3339 in UTC with second precision, "2025-01-02T03:04:05Z" (metav1.Time).
std::string format_time(std::chrono::system_clock::time_point t);
// RFC 3339 in UTC with microseconds, "2025-01-02T03:04:05.123456Z" (metav1.MicroTime).
std::string format_micro_time(std::chrono::system_clock::time_point t);
// Parses either form (and numeric offsets such as +02:00). Throws std::invalid_argument.
std::chrono::system_clock::time_point parse_time(const std::string& text);

}  // namespace kolla::op
