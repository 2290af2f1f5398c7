#include "operator/work_queue.hpp"

#include <algorithm>
#include <vector>

namespace kolla::op {

std::chrono::milliseconds rate_limit_delay(const RateLimit& limit, int failures) {
  if (failures <= 0) return limit.base;
  std::chrono::milliseconds delay = limit.base;
  for (int i = 0; i < failures; ++i) {
    if (delay >= limit.max / 2) return limit.max;
    delay *= 2;
  }
  return std::min(delay, limit.max);
}

WorkQueue::WorkQueue(const Clock& clock, RateLimit limit) : clock_(clock), limit_(limit) {}

void WorkQueue::add_locked(const std::string& key) {
  if (shutting_down_) return;
  if (dirty_.contains(key)) return;
  dirty_.insert(key);
  if (processing_.contains(key)) return;  // re-queued by done()
  queue_.push_back(key);
  cv_.notify_one();
}

void WorkQueue::add(const std::string& key) {
  std::lock_guard lock(mutex_);
  delayed_.erase(key);
  add_locked(key);
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return;
  if (delay <= std::chrono::milliseconds::zero()) {
    delayed_.erase(key);
    add_locked(key);
    return;
  }
  const auto due = clock_.now() + delay;
  auto [it, inserted] = delayed_.try_emplace(key, due);
  if (!inserted && due < it->second) it->second = due;
  cv_.notify_all();  // a sleeping get() may need to wake earlier
}

void WorkQueue::add_rate_limited(const std::string& key) {
  std::chrono::milliseconds delay;
  {
    std::lock_guard lock(mutex_);
    delay = rate_limit_delay(limit_, failures_[key]++);
  }
  add_after(key, delay);
}

void WorkQueue::forget(const std::string& key) {
  std::lock_guard lock(mutex_);
  failures_.erase(key);
}

int WorkQueue::num_requeues(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::move_due_locked() {
  const auto now = clock_.now();
  // Earliest first, so that keys due at the same time keep a stable order.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> due;
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second <= now) {
      due.emplace_back(it->second, it->first);
      it = delayed_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(due.begin(), due.end());
  for (auto& entry : due) add_locked(entry.second);
}

std::optional<std::string> WorkQueue::pop_locked() {
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  dirty_.erase(key);
  processing_.insert(key);
  return key;
}

std::optional<std::string> WorkQueue::get() {
  std::unique_lock lock(mutex_);
  for (;;) {
    if (shutting_down_) return std::nullopt;
    move_due_locked();
    if (auto key = pop_locked()) return key;
    if (delayed_.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto next = std::min_element(delayed_.begin(), delayed_.end(), [](auto& a, auto& b) {
                  return a.second < b.second;
                })->second;
    // Sleep until the earliest due time, but wake at least every 100 ms: the clock may be a
    // fake one that moves without notifying us.
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - clock_.now());
    wait = std::clamp(wait, std::chrono::milliseconds(1), std::chrono::milliseconds(100));
    cv_.wait_for(lock, wait);
  }
}

std::optional<std::string> WorkQueue::try_get() {
  std::lock_guard lock(mutex_);
  if (shutting_down_) return std::nullopt;
  move_due_locked();
  return pop_locked();
}

void WorkQueue::done(const std::string& key) {
  std::lock_guard lock(mutex_);
  processing_.erase(key);
  if (dirty_.contains(key) && !shutting_down_) {
    queue_.push_back(key);
    cv_.notify_one();
  }
}

void WorkQueue::shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
  cv_.notify_all();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard lock(mutex_);
  return shutting_down_;
}

void WorkQueue::wake() {
  std::lock_guard lock(mutex_);
  cv_.notify_all();
}

std::size_t WorkQueue::len() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::size_t WorkQueue::delayed_len() const {
  std::lock_guard lock(mutex_);
  return delayed_.size();
}

std::size_t WorkQueue::processing_len() const {
  std::lock_guard lock(mutex_);
  return processing_.size();
}

}  // namespace kolla::op
