#pragma once
// Kubernetes Events (core/v1 Event) about our objects, visible in `kubectl describe`.
// Repeated events (same object, type, reason and message) are aggregated like client-go's
// correlator: the existing Event's count and lastTimestamp are patched instead of creating a new
// one. Messages pass through redact(). Failures to record are logged, never thrown.

#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include "operator/clock.hpp"
#include "operator/object_client.hpp"

namespace kolla::op {

enum class EventType { kNormal, kWarning };

class EventRecorder {
 public:
  EventRecorder(ObjectClient& client, std::string component, std::string instance,
                const Clock& clock = SystemClock::instance());

  // `object` is the involved object as read from the API server (needs kind, apiVersion,
  // metadata.name/namespace/uid).
  void record(const json& object, EventType type, const std::string& reason,
              const std::string& message);
  void normal(const json& object, const std::string& reason, const std::string& message) {
    record(object, EventType::kNormal, reason, message);
  }
  void warning(const json& object, const std::string& reason, const std::string& message) {
    record(object, EventType::kWarning, reason, message);
  }

  // The Event object that would be created (pure, for tests).
  json make_event(const json& object, EventType type, const std::string& reason,
                  const std::string& message, const std::string& name) const;

 private:
  struct Seen {
    std::string name;
    std::string ns;
    int count = 0;
  };
  ObjectClient& client_;
  std::string component_;
  std::string instance_;
  const Clock& clock_;
  std::mutex mutex_;
  // (uid, type, reason, message) → the Event created for it.
  std::map<std::tuple<std::string, int, std::string, std::string>, Seen> seen_;
  std::uint64_t sequence_ = 0;
};

}  // namespace kolla::op
