#include "operator/events.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common/redact.hpp"

namespace kolla::op {

EventRecorder::EventRecorder(ObjectClient& client, std::string component, std::string instance,
                             const Clock& clock)
    : client_(client),
      component_(std::move(component)),
      instance_(std::move(instance)),
      clock_(clock) {}

json EventRecorder::make_event(const json& object, EventType type, const std::string& reason,
                               const std::string& message, const std::string& name) const {
  const json& meta = object.at("metadata");
  const std::string ns = meta.value("namespace", "default");
  const std::string now = format_time(clock_.wall());
  json involved = {{"apiVersion", object.value("apiVersion", "")},
                   {"kind", object.value("kind", "")},
                   {"name", meta.value("name", "")},
                   {"namespace", ns}};
  if (meta.contains("uid")) involved["uid"] = meta["uid"];
  if (meta.contains("resourceVersion")) involved["resourceVersion"] = meta["resourceVersion"];
  std::string text = redact(message);
  if (text.size() > 1024) text = text.substr(0, 1021) + "...";
  return {{"apiVersion", "v1"},
          {"kind", "Event"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"involvedObject", involved},
          {"reason", reason},
          {"message", text},
          {"type", type == EventType::kWarning ? "Warning" : "Normal"},
          {"source", {{"component", component_}}},
          {"reportingComponent", component_},
          {"reportingInstance", instance_},
          {"firstTimestamp", now},
          {"lastTimestamp", now},
          {"count", 1}};
}

void EventRecorder::record(const json& object, EventType type, const std::string& reason,
                           const std::string& message) {
  try {
    const json& meta = object.at("metadata");
    const std::string uid = meta.value("uid", meta.value("name", ""));
    const auto key = std::make_tuple(uid, static_cast<int>(type), reason, message);
    std::unique_lock lock(mutex_);
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      Seen seen = it->second;
      ++it->second.count;
      lock.unlock();
      try {
        client_.merge_patch(
            kube::gvk::kEvent, seen.ns, seen.name,
            {{"count", seen.count + 1}, {"lastTimestamp", format_time(clock_.wall())}});
        return;
      } catch (const kube::ApiError& e) {
        if (!e.not_found()) throw;
        lock.lock();
        seen_.erase(key);  // the Event expired (TTL): create a new one
      }
    }
    // Events are named <object>.<unique suffix> like client-go (time-based hex + sequence).
    const auto nanos =
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.wall().time_since_epoch())
            .count();
    const std::string name =
        fmt::format("{}.{:x}{:04x}", meta.value("name", "object"), nanos, ++sequence_ & 0xffff);
    if (lock.owns_lock()) lock.unlock();
    json created = client_.create(make_event(object, type, reason, message, name));
    std::lock_guard relock(mutex_);
    seen_[key] = Seen{name, created.at("metadata").value("namespace", "default"), 1};
  } catch (const std::exception& e) {
    spdlog::warn("could not record event {} on {}: {}", reason,
                 object.value("/metadata/name"_json_pointer, std::string{}), redact(e.what()));
  }
}

}  // namespace kolla::op
