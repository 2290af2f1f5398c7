#pragma once
// A work queue of object keys ("namespace/name") for controllers, after client-go's workqueue:
//  - a key is queued at most once (adding a queued key is a no-op);
//  - a key being processed is never handed to a second worker: adding it marks it dirty and it
//    is queued again when the worker calls done();
//  - delayed adds (add_after) keep the earliest due time per key;
//  - add_rate_limited delays by a per-key capped exponential backoff that never gives up and is
//    reset by forget() after a success;
//  - shutdown() wakes every waiting get(), which then returns nothing.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "operator/clock.hpp"

namespace kolla::op {

// base * 2^failures, capped at max.
struct RateLimit {
  std::chrono::milliseconds base{100};
  std::chrono::milliseconds max{60'000};
};

std::chrono::milliseconds rate_limit_delay(const RateLimit& limit, int failures);

class WorkQueue {
 public:
  explicit WorkQueue(const Clock& clock = SystemClock::instance(), RateLimit limit = {});
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void add(const std::string& key);
  void add_after(const std::string& key, std::chrono::milliseconds delay);
  // Delays by the key's backoff and counts one more failure for it.
  void add_rate_limited(const std::string& key);
  // Resets the key's backoff (after a successful reconcile).
  void forget(const std::string& key);
  int num_requeues(const std::string& key) const;

  // Blocks until a key is ready or the queue shuts down (then nullopt).
  std::optional<std::string> get();
  // Non-blocking: the next ready key (moving due delayed keys first), if any.
  std::optional<std::string> try_get();
  // The worker finished with the key; re-queues it when it was added meanwhile.
  void done(const std::string& key);

  void shutdown();
  bool shutting_down() const;
  // Wakes blocked get() calls so they re-read the clock (for fake clocks in tests).
  void wake();

  std::size_t len() const;          // keys ready now
  std::size_t delayed_len() const;  // keys waiting for their due time
  std::size_t processing_len() const;

 private:
  void add_locked(const std::string& key);
  void move_due_locked();
  std::optional<std::string> pop_locked();

  const Clock& clock_;
  RateLimit limit_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;  // queued (or to be re-queued after processing)
  std::set<std::string> processing_;
  std::map<std::string, std::chrono::steady_clock::time_point> delayed_;
  std::map<std::string, int> failures_;
  bool shutting_down_ = false;
};

}  // namespace kolla::op
