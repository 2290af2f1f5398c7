#include "kube/watch.hpp"

#include <stdexcept>

namespace kolla::kube {

std::string_view to_string(WatchEventType type) {
  switch (type) {
    case WatchEventType::kAdded:
      return "ADDED";
    case WatchEventType::kModified:
      return "MODIFIED";
    case WatchEventType::kDeleted:
      return "DELETED";
    case WatchEventType::kBookmark:
      return "BOOKMARK";
    case WatchEventType::kError:
      return "ERROR";
  }
  return "ERROR";
}

std::string WatchEvent::resource_version() const {
  if (!object.is_object()) return {};
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  return meta->value("resourceVersion", "");
}

std::optional<WatchEvent> parse_watch_line(std::string_view line) {
  if (line.find_first_not_of(" \t\r\n") == std::string_view::npos) return std::nullopt;
  auto parsed = json::parse(line, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    throw std::invalid_argument("watch: a line is not a JSON object");
  }
  const auto type = parsed.find("type");
  if (type == parsed.end() || !type->is_string()) {
    throw std::invalid_argument("watch: an event has no type");
  }
  const auto& name = type->get_ref<const std::string&>();
  WatchEvent event;
  if (name == "ADDED") {
    event.type = WatchEventType::kAdded;
  } else if (name == "MODIFIED") {
    event.type = WatchEventType::kModified;
  } else if (name == "DELETED") {
    event.type = WatchEventType::kDeleted;
  } else if (name == "BOOKMARK") {
    event.type = WatchEventType::kBookmark;
  } else if (name == "ERROR") {
    event.type = WatchEventType::kError;
  } else {
    throw std::invalid_argument("watch: unknown event type '" + name + "'");
  }
  const auto object = parsed.find("object");
  if (object == parsed.end() || !object->is_object()) {
    throw std::invalid_argument("watch: a " + name + " event has no object");
  }
  event.object = std::move(*object);
  return event;
}

void LineSplitter::feed(std::string_view data,
                        const std::function<void(std::string_view)>& on_line) {
  buffer_.append(data);
  std::size_t start = 0;
  for (;;) {
    const auto newline = buffer_.find('\n', start);
    if (newline == std::string::npos) break;
    on_line(std::string_view(buffer_).substr(start, newline - start));
    start = newline + 1;
  }
  buffer_.erase(0, start);
}

void CancelToken::cancel() {
  cancelled_.store(true);
  // Called under the lock so that remove_waker() cannot return while a waker runs (the waker's
  // target may be destroyed right after).
  std::lock_guard lock(mutex_);
  for (const auto& entry : wakers_) entry.second();
}

int CancelToken::add_waker(std::function<void()> waker) {
  std::lock_guard lock(mutex_);
  const int id = next_id_++;
  wakers_.emplace_back(id, std::move(waker));
  return id;
}

void CancelToken::remove_waker(int id) {
  std::lock_guard lock(mutex_);
  std::erase_if(wakers_, [id](const auto& entry) { return entry.first == id; });
}

}  // namespace kolla::kube
