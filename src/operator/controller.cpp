#include "operator/controller.hpp"

#include <spdlog/spdlog.h>

#include "common/redact.hpp"

namespace kolla::op {

ControllerMetrics::ControllerMetrics(Registry& registry)
    : reconciles(
          registry.counter("kolla_operator_reconcile_total",
                           "Reconciles by controller and result (success, requeue, error).")),
      errors(registry.counter("kolla_operator_reconcile_errors_total",
                              "Reconciles that failed with an error.")),
      duration(registry.histogram("kolla_operator_reconcile_duration_seconds",
                                  "Time spent in one reconcile.", default_duration_buckets())),
      depth(registry.gauge("kolla_operator_workqueue_depth", "Keys ready in the work queue.")),
      retries(registry.counter("kolla_operator_workqueue_retries_total",
                               "Keys re-queued with backoff.")) {}

Controller::Controller(std::string name, ReconcileFn reconcile, ControllerOptions options,
                       ControllerMetrics* metrics, const Clock& clock)
    : name_(std::move(name)),
      reconcile_(std::move(reconcile)),
      options_(options),
      metrics_(metrics),
      clock_(clock),
      queue_(clock, options.rate_limit) {}

Controller::~Controller() {
  stop();
}

void Controller::start() {
  for (int i = 0; i < std::max(1, options_.workers); ++i) {
    workers_.emplace_back([this] { worker(); });
  }
}

void Controller::stop() {
  queue_.shutdown();
  for (auto& t : workers_) {
    if (t.joinable()) t.join();
  }
  workers_.clear();
}

void Controller::worker() {
  while (auto key = queue_.get()) handle(*key);
}

bool Controller::process_one() {
  auto key = queue_.try_get();
  if (!key) return false;
  handle(*key);
  return true;
}

void Controller::handle(const std::string& key) {
  const Labels labels{{"controller", name_}};
  const auto start = clock_.now();
  std::string outcome = "success";
  try {
    const Result result = reconcile_(key);
    if (result.requeue_after > std::chrono::milliseconds::zero()) {
      queue_.forget(key);
      queue_.add_after(key, result.requeue_after);
      outcome = "requeue_after";
    } else if (result.requeue) {
      queue_.add_rate_limited(key);
      outcome = "requeue";
    } else {
      queue_.forget(key);
    }
  } catch (const std::exception& e) {
    outcome = "error";
    const int retries = queue_.num_requeues(key);
    spdlog::error("{}: reconcile {} failed (retry {}): {}", name_, key, retries + 1,
                  redact(e.what()));
    queue_.add_rate_limited(key);
  }
  queue_.done(key);
  ++reconciles_;
  const double seconds = std::chrono::duration<double>(clock_.now() - start).count();
  spdlog::debug("{}: reconciled {} in {:.1f} ms ({})", name_, key, seconds * 1000, outcome);
  if (metrics_) {
    metrics_->reconciles.inc({{"controller", name_}, {"result", outcome}});
    if (outcome == "error") metrics_->errors.inc(labels);
    if (outcome == "error" || outcome == "requeue") metrics_->retries.inc(labels);
    metrics_->duration.observe(labels, seconds);
    metrics_->depth.set(labels, static_cast<double>(queue_.len()));
  }
}

}  // namespace kolla::op
