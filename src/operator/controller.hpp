#pragma once
// A controller runner after controller-runtime: N workers take keys from a WorkQueue and call
// reconcile(key). Reconciles are level-triggered: they read the current state and converge, so
// any number of events for a key collapse into one reconcile, and a crash loses nothing.
//   - reconcile returns Result{}                 → done, backoff reset
//   - Result{.requeue = true}                    → again after the key's backoff
//   - Result{.requeue_after = d}                 → again after d, backoff reset
//   - it throws                                  → error counted, again after the key's backoff

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "operator/clock.hpp"
#include "operator/metrics.hpp"
#include "operator/work_queue.hpp"

namespace kolla::op {

struct Result {
  bool requeue = false;
  std::chrono::milliseconds requeue_after{0};
};

using ReconcileFn = std::function<Result(const std::string& key)>;

// The metrics every controller exports, labelled controller="<name>".
struct ControllerMetrics {
  explicit ControllerMetrics(Registry& registry);
  MetricFamily& reconciles;  // kolla_operator_reconcile_total{controller,result}
  MetricFamily& errors;      // kolla_operator_reconcile_errors_total{controller}
  MetricFamily& duration;    // kolla_operator_reconcile_duration_seconds{controller}
  MetricFamily& depth;       // kolla_operator_workqueue_depth{controller}
  MetricFamily& retries;     // kolla_operator_workqueue_retries_total{controller}
};

struct ControllerOptions {
  int workers = 2;
  RateLimit rate_limit{};
};

class Controller {
 public:
  Controller(std::string name, ReconcileFn reconcile, ControllerOptions options = {},
             ControllerMetrics* metrics = nullptr, const Clock& clock = SystemClock::instance());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  void enqueue(const std::string& key) { queue_.add(key); }
  void enqueue_after(const std::string& key, std::chrono::milliseconds delay) {
    queue_.add_after(key, delay);
  }

  void start();  // starts the workers
  void stop();   // shuts the queue down and joins the workers (a running reconcile finishes)

  // Processes one ready key on the calling thread; false when none was ready. For tests.
  bool process_one();

  WorkQueue& queue() { return queue_; }
  const std::string& name() const { return name_; }
  std::uint64_t reconciles() const { return reconciles_.load(); }

 private:
  void worker();
  void handle(const std::string& key);

  std::string name_;
  ReconcileFn reconcile_;
  ControllerOptions options_;
  ControllerMetrics* metrics_;
  const Clock& clock_;
  WorkQueue queue_;
  std::vector<std::thread> workers_;
  std::atomic<std::uint64_t> reconciles_{0};
};

}  // namespace kolla::op
