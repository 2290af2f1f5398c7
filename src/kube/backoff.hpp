#pragma once
// Capped exponential backoff with jitter, for retries and watch restarts.

#include <chrono>
#include <random>

namespace kolla::kube {

struct BackoffPolicy {
  std::chrono::milliseconds initial{200};
  std::chrono::milliseconds max{10'000};
  double factor = 2.0;
  double jitter = 0.2;  // the delay is spread uniformly over [d*(1-jitter), d*(1+jitter)], capped
};

// The delay before retry number `attempt` (0 for the first retry): min(max, initial*factor^attempt)
// moved by jitter; `random01` in [0,1) picks the point in the jitter window. Never above max.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double random01);

// A stateful backoff: next() grows the delay, reset() after a success. Not thread-safe.
class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {});
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  int attempt_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace kolla::kube
