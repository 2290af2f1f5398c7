#pragma once
// Watch events: the API server streams one JSON object per line.

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kube/resource.hpp"

namespace kolla::kube {

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };
std::string_view to_string(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  json object;                           // the object; for kError a Status object
  std::string resource_version() const;  // object.metadata.resourceVersion or ""
};

// Parses one line {"type":"ADDED","object":{...}}. Throws std::invalid_argument on a bad line.
// An empty (or whitespace) line yields std::nullopt.
std::optional<WatchEvent> parse_watch_line(std::string_view line);

// Splits a byte stream into lines; feed() calls on_line for each complete line.
class LineSplitter {
 public:
  void feed(std::string_view data, const std::function<void(std::string_view)>& on_line);
  const std::string& pending() const { return buffer_; }

 private:
  std::string buffer_;
};

// Cancels watches (and their waits) from another thread. Shared by any number of watches.
class CancelToken {
 public:
  void cancel();
  bool cancelled() const { return cancelled_.load(); }
  // Wakers are called by cancel(); used by the client to interrupt a blocking transfer.
  int add_waker(std::function<void()> waker);
  void remove_waker(int id);

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  int next_id_ = 0;
  std::vector<std::pair<int, std::function<void()>>> wakers_;
};

}  // namespace kolla::kube
