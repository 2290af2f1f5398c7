#pragma once
// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4 (# HELP / # TYPE lines, label values escaped, histogram buckets
// cumulative with le="+Inf", _sum and _count). Thread-safe; no global instance.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::op {

using Labels = std::map<std::string, std::string>;

class MetricFamily;

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Returns the family, creating it on first use. Throws std::invalid_argument for a bad name
  // or when the name is already registered with another type.
  MetricFamily& counter(const std::string& name, const std::string& help);
  MetricFamily& gauge(const std::string& name, const std::string& help);
  // Buckets: upper bounds, ascending; +Inf is implicit.
  MetricFamily& histogram(const std::string& name, const std::string& help,
                          std::vector<double> buckets);

  // Called, in the order added, at the start of every render(): brings families whose values
  // live elsewhere up to date (e.g. the kube client's request counts, with set_total). A
  // collector may register and update families; it must not call render().
  void add_collector(std::function<void()> collect);

  // The whole registry in the text format, families sorted by name.
  std::string render() const;

 private:
  mutable std::mutex collectors_mutex_;  // held while collecting: one render collects at a time
  std::vector<std::function<void()>> collectors_;
  MetricFamily& family(const std::string& name, const std::string& help, std::string_view type,
                       std::vector<double> buckets);
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<MetricFamily>> families_;
};

class MetricFamily {
 public:
  MetricFamily(std::string name, std::string help, std::string type, std::vector<double> buckets);

  // Counters: value += by (by must be >= 0).
  void inc(const Labels& labels = {}, double by = 1.0);
  // Counters mirrored from a running total kept elsewhere: value = total, never lower (a smaller
  // total is ignored, so the counter stays monotonic).
  void set_total(const Labels& labels, double total);
  // Gauges.
  void set(const Labels& labels, double value);
  void add(const Labels& labels, double by);
  // Removes every series (for gauges recomputed from scratch, e.g. services by phase).
  void clear();
  // Histograms.
  void observe(const Labels& labels, double value);

  // The current value of a counter or gauge series (0 when absent), for tests and readiness.
  double value(const Labels& labels = {}) const;
  std::uint64_t count(const Labels& labels = {}) const;  // histogram observations

  const std::string& name() const { return name_; }
  const std::string& type() const { return type_; }
  void render(std::string& out) const;

 private:
  struct Series {
    double value = 0;                    // counter/gauge
    std::vector<std::uint64_t> buckets;  // histogram: per bucket (not cumulative)
    std::uint64_t count = 0;
    double sum = 0;
  };
  std::string name_;
  std::string help_;
  std::string type_;
  std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::map<Labels, Series> series_;
};

// Escapes a label value for the text format (backslash, double quote, newline).
std::string escape_label_value(std::string_view value);
// Formats a sample value the way Prometheus clients do ("+Inf", "NaN", integers without ".0").
std::string format_sample(double value);

// Buckets for reconcile durations in seconds.
std::vector<double> default_duration_buckets();

// kolla_operator_kube_requests_total{verb}: the requests sent to the API server (every attempt,
// retries included), read from counts() (kube::Client::request_counts) at each render.
inline constexpr const char* kKubeRequestsMetric = "kolla_operator_kube_requests_total";
void register_request_counter(Registry& registry,
                              std::function<std::map<std::string, std::uint64_t>()> counts);

}  // namespace kolla::op
