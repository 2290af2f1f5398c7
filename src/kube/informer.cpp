#include "kube/informer.hpp"

#include <spdlog/spdlog.h>

#include <set>

#include "common/redact.hpp"

namespace kolla::kube {

// ---- Store ----

ObjectPtr Store::get(const std::string& key) const {
  std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

ObjectPtr Store::get(const std::string& ns, const std::string& name) const {
  return get(object_key(ns, name));
}

std::vector<ObjectPtr> Store::list() const {
  std::lock_guard lock(mutex_);
  std::vector<ObjectPtr> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

std::vector<ObjectPtr> Store::list(const std::string& ns) const {
  std::lock_guard lock(mutex_);
  std::vector<ObjectPtr> out;
  const std::string prefix = ns + "/";
  for (auto it = objects_.lower_bound(prefix);
       it != objects_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    out.push_back(it->second);
  }
  return out;
}

std::vector<std::string> Store::keys() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(key);
  return out;
}

std::size_t Store::size() const {
  std::lock_guard lock(mutex_);
  return objects_.size();
}

ObjectPtr Store::upsert(ObjectPtr object) {
  const auto key = object_key(*object);
  std::lock_guard lock(mutex_);
  auto& slot = objects_[key];
  ObjectPtr previous = std::move(slot);
  slot = std::move(object);
  return previous;
}

ObjectPtr Store::erase(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  ObjectPtr previous = std::move(it->second);
  objects_.erase(it);
  return previous;
}

std::vector<ObjectPtr> Store::replace(std::vector<ObjectPtr> objects) {
  std::map<std::string, ObjectPtr> fresh;
  for (auto& object : objects) fresh[object_key(*object)] = std::move(object);
  std::lock_guard lock(mutex_);
  std::vector<ObjectPtr> gone;
  for (const auto& [key, object] : objects_) {
    if (!fresh.contains(key)) gone.push_back(object);
  }
  objects_ = std::move(fresh);
  return gone;
}

// ---- Informer ----

namespace {
std::string rv_of(const ObjectPtr& object) {
  if (!object) return {};
  return object->value("metadata", json::object()).value("resourceVersion", "");
}
}  // namespace

Informer::Informer(std::shared_ptr<Client> client, GroupVersionKind gvk, InformerOptions options)
    : client_(std::move(client)), gvk_(std::move(gvk)), options_(std::move(options)) {}

Informer::~Informer() {
  stop();
}

void Informer::add_handlers(EventHandlers handlers) {
  std::lock_guard lock(dispatch_mutex_);
  handlers_.push_back(std::move(handlers));
}

void Informer::start() {
  if (started_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
  if (options_.resync_period.count() > 0) resync_thread_ = std::thread([this] { resync_loop(); });
}

void Informer::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_.store(true);
  }
  cancel_.cancel();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (resync_thread_.joinable()) resync_thread_.join();
}

bool Informer::wait_for_sync(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return cv_.wait_for(lock, timeout, [this] { return synced_.load() || stopping_.load(); }) &&
         synced_.load();
}

std::string Informer::last_resource_version() const {
  std::lock_guard lock(mutex_);
  return resource_version_;
}

void Informer::set_resource_version(const std::string& rv) {
  std::lock_guard lock(mutex_);
  resource_version_ = rv;
}

bool Informer::sleep_for(std::chrono::milliseconds delay) {
  std::unique_lock lock(mutex_);
  return !cv_.wait_for(lock, delay, [this] { return stopping_.load(); });
}

void Informer::dispatch_add(const ObjectPtr& object) {
  std::lock_guard lock(dispatch_mutex_);
  for (const auto& handlers : handlers_) {
    if (!handlers.on_add) continue;
    try {
      handlers.on_add(object);
    } catch (const std::exception& e) {
      spdlog::error("informer {}: add handler failed: {}", gvk_.str(), redact(e.what()));
    }
  }
}

void Informer::dispatch_update(const ObjectPtr& old_object, const ObjectPtr& new_object) {
  std::lock_guard lock(dispatch_mutex_);
  for (const auto& handlers : handlers_) {
    if (!handlers.on_update) continue;
    try {
      handlers.on_update(old_object, new_object);
    } catch (const std::exception& e) {
      spdlog::error("informer {}: update handler failed: {}", gvk_.str(), redact(e.what()));
    }
  }
}

void Informer::dispatch_delete(const ObjectPtr& object) {
  std::lock_guard lock(dispatch_mutex_);
  for (const auto& handlers : handlers_) {
    if (!handlers.on_delete) continue;
    try {
      handlers.on_delete(object);
    } catch (const std::exception& e) {
      spdlog::error("informer {}: delete handler failed: {}", gvk_.str(), redact(e.what()));
    }
  }
}

void Informer::relist() {
  ListOptions list_options;
  list_options.label_selector = options_.label_selector;
  list_options.field_selector = options_.field_selector;
  list_options.limit = options_.page_size;
  ListResult result;
  try {
    result = client_->list(gvk_, options_.namespace_, list_options);
  } catch (const ApiError& e) {
    if (!e.gone() || list_options.limit == 0) throw;
    // The continue token expired between pages: read everything in one answer.
    list_options.limit = 0;
    result = client_->list(gvk_, options_.namespace_, list_options);
  }
  std::vector<ObjectPtr> fresh;
  std::vector<std::pair<ObjectPtr, ObjectPtr>> changes;  // (old or null, new)
  fresh.reserve(result.items.size());
  for (auto& item : result.items) {
    if (options_.transform) options_.transform(item);
    auto object = std::make_shared<const json>(std::move(item));
    changes.emplace_back(store_.get(object_key(*object)), object);
    fresh.push_back(std::move(object));
  }
  const auto gone = store_.replace(std::move(fresh));
  set_resource_version(result.resource_version);
  if (synced_.load()) relists_.fetch_add(1);
  for (const auto& [old_object, new_object] : changes) {
    if (!old_object) {
      dispatch_add(new_object);
    } else if (rv_of(old_object) != rv_of(new_object)) {
      dispatch_update(old_object, new_object);
    }
  }
  for (const auto& object : gone) dispatch_delete(object);
  {
    std::lock_guard lock(mutex_);
    synced_.store(true);
  }
  cv_.notify_all();
}

json Informer::stored_form(const json& object) const {
  json copy = object;
  if (options_.transform) options_.transform(copy);
  return copy;
}

void Informer::run() {
  Backoff backoff(options_.backoff);
  bool need_list = true;
  const WatchHandler handler = [this](const WatchEvent& event) {
    switch (event.type) {
      case WatchEventType::kAdded:
      case WatchEventType::kModified: {
        auto object = std::make_shared<const json>(stored_form(event.object));
        auto previous = store_.upsert(object);
        if (previous) {
          dispatch_update(previous, object);
        } else {
          dispatch_add(object);
        }
        break;
      }
      case WatchEventType::kDeleted: {
        auto object = std::make_shared<const json>(stored_form(event.object));
        store_.erase(object_key(*object));
        dispatch_delete(object);
        break;
      }
      case WatchEventType::kBookmark:
      case WatchEventType::kError:
        break;
    }
    if (auto rv = event.resource_version(); !rv.empty()) set_resource_version(rv);
    return true;
  };
  while (!stopping_.load()) {
    try {
      if (need_list) {
        relist();
        need_list = false;
      }
      WatchOptions watch_options;
      watch_options.resource_version = last_resource_version();
      watch_options.label_selector = options_.label_selector;
      watch_options.field_selector = options_.field_selector;
      watch_options.timeout_seconds = options_.watch_timeout_seconds;
      watch_options.cancel = &cancel_;
      const auto result = client_->watch(gvk_, options_.namespace_, watch_options, handler);
      if (result.cancelled) break;
      backoff.reset();  // the server ended the stream normally: watch again at once
    } catch (const ApiError& e) {
      if (stopping_.load()) break;
      if (e.gone()) {
        spdlog::info("informer {}: {}; listing again", gvk_.str(), redact(e.what()));
        need_list = true;
        continue;
      }
      watch_restarts_.fetch_add(1);
      const auto delay = backoff.next();
      spdlog::warn("informer {}: {}; retrying in {} ms", gvk_.str(), redact(e.what()),
                   delay.count());
      if (!sleep_for(delay)) break;
    } catch (const std::exception& e) {
      if (stopping_.load()) break;
      watch_restarts_.fetch_add(1);
      const auto delay = backoff.next();
      spdlog::warn("informer {}: {}; retrying in {} ms", gvk_.str(), redact(e.what()),
                   delay.count());
      if (!sleep_for(delay)) break;
    }
  }
}

void Informer::resync_loop() {
  while (sleep_for(options_.resync_period)) {
    if (!synced_.load()) continue;
    for (const auto& object : store_.list()) dispatch_update(object, object);
  }
}

}  // namespace kolla::kube
