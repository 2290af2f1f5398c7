#pragma once
// Writes status through the status subresource: read the object (or take the caller's copy),
// let the caller compute the new status from it, PUT .../status with the read resourceVersion, and
// on Conflict read again and recompute (the computation sees the fresh object each time). Skips the
// write when the status did not change.

#include <functional>
#include <optional>
#include <string>

#include "operator/object_client.hpp"

namespace kolla::op {

struct StatusWriteResult {
  json object;           // the object after the write (or as read when nothing changed)
  bool written = false;  // a PUT happened
  int conflicts = 0;     // Conflict answers retried
};

// mutate(status, object): edit `status` (a copy of object.status, {} when absent) in place.
// Returns nullopt when the object does not exist. Throws the last Conflict after max_attempts.
// known: the object as the caller last read it (with its resourceVersion); the first attempt
// uses it instead of reading, and a Conflict (it changed meanwhile) falls back to reading.
std::optional<StatusWriteResult> write_status(
    ObjectClient& client, const GroupVersionKind& gvk, const std::string& ns,
    const std::string& name, const std::function<void(json& status, const json& object)>& mutate,
    int max_attempts = 5, const json* known = nullptr);

}  // namespace kolla::op
