#include "kube/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace kolla::kube {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, double random01) {
  const double max_ms = static_cast<double>(policy.max.count());
  const double base = static_cast<double>(policy.initial.count()) *
                      std::pow(std::max(policy.factor, 1.0), std::max(attempt, 0));
  const double capped = std::min(base, max_ms);
  const double jitter = std::clamp(policy.jitter, 0.0, 1.0);
  const double r = std::clamp(random01, 0.0, 1.0);
  const double spread = capped * (1.0 - jitter + 2.0 * jitter * r);
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::clamp(spread, 0.0, max_ms)));
}

Backoff::Backoff(BackoffPolicy policy) : policy_(policy), rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  std::uniform_real_distribution<double> dist(0.0, 1.0);
  const auto delay = backoff_delay(policy_, attempt_, dist(rng_));
  if (attempt_ < 64) ++attempt_;
  return delay;
}

}  // namespace kolla::kube
