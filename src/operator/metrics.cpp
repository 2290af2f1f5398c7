#include "operator/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kolla::op {

namespace {

bool valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

std::string escape_help(std::string_view help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string label_text(const Labels& labels, const std::string& extra_name = {},
                       const std::string& extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    out += k;
    out += "=\"";
    out += escape_label_value(v);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name + "=\"" + escape_label_value(extra_value) + "\"";
  }
  out += '}';
  return out;
}

void check_labels(const Labels& labels) {
  for (const auto& [k, v] : labels) {
    if (!valid_label_name(k) || k == "le") {
      throw std::invalid_argument("invalid metric label name: " + k);
    }
  }
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_sample(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return fmt::format("{}", static_cast<long long>(value));
  }
  return fmt::format("{}", value);
}

std::vector<double> default_duration_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

void register_request_counter(Registry& registry,
                              std::function<std::map<std::string, std::uint64_t>()> counts) {
  MetricFamily& family = registry.counter(
      kKubeRequestsMetric,
      "Requests sent to the Kubernetes API server by verb, retries included (watch = watch "
      "starts).");
  registry.add_collector([&family, counts = std::move(counts)] {
    for (const auto& [verb, n] : counts())
      family.set_total({{"verb", verb}}, static_cast<double>(n));
  });
}

MetricFamily& Registry::family(const std::string& name, const std::string& help,
                               std::string_view type, std::vector<double> buckets) {
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it != families_.end()) {
    if (it->second->type() != type) {
      throw std::invalid_argument("metric " + name + " already registered with another type");
    }
    return *it->second;
  }
  auto created = std::make_unique<MetricFamily>(name, help, std::string(type), std::move(buckets));
  auto& ref = *created;
  families_.emplace(name, std::move(created));
  return ref;
}

MetricFamily& Registry::counter(const std::string& name, const std::string& help) {
  return family(name, help, "counter", {});
}

MetricFamily& Registry::gauge(const std::string& name, const std::string& help) {
  return family(name, help, "gauge", {});
}

MetricFamily& Registry::histogram(const std::string& name, const std::string& help,
                                  std::vector<double> buckets) {
  if (!std::is_sorted(buckets.begin(), buckets.end()) ||
      std::adjacent_find(buckets.begin(), buckets.end()) != buckets.end()) {
    throw std::invalid_argument("histogram buckets must ascend strictly: " + name);
  }
  return family(name, help, "histogram", std::move(buckets));
}

void Registry::add_collector(std::function<void()> collect) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::render() const {
  {
    // Outside mutex_: collectors register and update families.
    std::lock_guard lock(collectors_mutex_);
    for (const auto& collect : collectors_) collect();
  }
  std::string out;
  std::lock_guard lock(mutex_);
  for (const auto& [name, fam] : families_) fam->render(out);
  return out;
}

MetricFamily::MetricFamily(std::string name, std::string help, std::string type,
                           std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(std::move(type)),
      bounds_(std::move(buckets)) {}

void MetricFamily::inc(const Labels& labels, double by) {
  if (type_ != "counter") throw std::logic_error("inc() on " + type_ + " " + name_);
  if (by < 0) throw std::invalid_argument("counter " + name_ + " cannot decrease");
  check_labels(labels);
  std::lock_guard lock(mutex_);
  series_[labels].value += by;
}

void MetricFamily::set_total(const Labels& labels, double total) {
  if (type_ != "counter") throw std::logic_error("set_total() on " + type_ + " " + name_);
  check_labels(labels);
  std::lock_guard lock(mutex_);
  double& value = series_[labels].value;
  if (total > value) value = total;
}

void MetricFamily::set(const Labels& labels, double value) {
  if (type_ != "gauge") throw std::logic_error("set() on " + type_ + " " + name_);
  check_labels(labels);
  std::lock_guard lock(mutex_);
  series_[labels].value = value;
}

void MetricFamily::add(const Labels& labels, double by) {
  if (type_ != "gauge") throw std::logic_error("add() on " + type_ + " " + name_);
  check_labels(labels);
  std::lock_guard lock(mutex_);
  series_[labels].value += by;
}

void MetricFamily::clear() {
  std::lock_guard lock(mutex_);
  series_.clear();
}

void MetricFamily::observe(const Labels& labels, double value) {
  if (type_ != "histogram") throw std::logic_error("observe() on " + type_ + " " + name_);
  check_labels(labels);
  std::lock_guard lock(mutex_);
  Series& s = series_[labels];
  if (s.buckets.empty()) s.buckets.assign(bounds_.size(), 0);
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    if (value <= bounds_[i]) {
      ++s.buckets[i];
      break;
    }
  }
  ++s.count;
  s.sum += value;
}

double MetricFamily::value(const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0.0 : it->second.value;
}

std::uint64_t MetricFamily::count(const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = series_.find(labels);
  return it == series_.end() ? 0 : it->second.count;
}

void MetricFamily::render(std::string& out) const {
  std::lock_guard lock(mutex_);
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name_, escape_help(help_), name_, type_);
  for (const auto& [labels, s] : series_) {
    if (type_ != "histogram") {
      out += fmt::format("{}{} {}\n", name_, label_text(labels), format_sample(s.value));
      continue;
    }
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
      cumulative += s.buckets.empty() ? 0 : s.buckets[i];
      out += fmt::format("{}_bucket{} {}\n", name_,
                         label_text(labels, "le", format_sample(bounds_[i])), cumulative);
    }
    out += fmt::format("{}_bucket{} {}\n", name_, label_text(labels, "le", "+Inf"), s.count);
    out += fmt::format("{}_sum{} {}\n", name_, label_text(labels), format_sample(s.sum));
    out += fmt::format("{}_count{} {}\n", name_, label_text(labels), s.count);
  }
}

}  // namespace kolla::op
