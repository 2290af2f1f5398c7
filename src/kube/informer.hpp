#pragma once
// A reflector/informer: lists and watches one kind into a thread-safe store and calls handlers.
// On 410 Gone it re-lists (and reports deletions that happened meanwhile); after a cut watch it
// restarts from the last resourceVersion with backoff. Controllers read from store().

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "kube/backoff.hpp"
#include "kube/client.hpp"
#include "kube/resource.hpp"
#include "kube/watch.hpp"

namespace kolla::kube {

using ObjectPtr = std::shared_ptr<const json>;

// key ("namespace/name" or "name") → object. Thread-safe.
class Store {
 public:
  ObjectPtr get(const std::string& key) const;
  ObjectPtr get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> list() const;
  std::vector<ObjectPtr> list(const std::string& ns) const;  // one namespace
  std::vector<std::string> keys() const;
  std::size_t size() const;

  // Used by the informer. upsert returns the previous object (nullptr when new).
  ObjectPtr upsert(ObjectPtr object);
  ObjectPtr erase(const std::string& key);
  // Replaces everything; returns the objects that disappeared.
  std::vector<ObjectPtr> replace(std::vector<ObjectPtr> objects);

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ObjectPtr> objects_;
};

struct EventHandlers {
  std::function<void(const ObjectPtr&)> on_add;
  std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
  std::function<void(const ObjectPtr&)> on_delete;  // the last known state
};

struct InformerOptions {
  std::string namespace_;  // "" all namespaces (or cluster-scoped kinds)
  std::string label_selector;
  std::string field_selector;
  int page_size = 500;
  int watch_timeout_seconds = 300;  // the watch is renewed after this
  BackoffPolicy backoff{std::chrono::milliseconds(200), std::chrono::milliseconds(30'000), 2.0,
                        0.2};
  // When non-zero, on_update is called for every object with old == new this often.
  std::chrono::milliseconds resync_period{0};
  // Applied to every object before it is stored and handed to the handlers, to drop what the
  // controller never reads (a Node is kilobytes; its readiness a few bytes). It must keep
  // metadata.name, namespace, uid and resourceVersion.
  std::function<void(json&)> transform;
};

class Informer {
 public:
  Informer(std::shared_ptr<Client> client, GroupVersionKind gvk, InformerOptions options = {});
  ~Informer();  // stops
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  // Handlers must be added before start(). They run on the informer's thread, one at a time.
  void add_handlers(EventHandlers handlers);
  void start();  // starts the list+watch thread
  void stop();   // cancels the watch and joins the thread

  bool has_synced() const { return synced_.load(); }  // the first list is in the store
  bool wait_for_sync(std::chrono::milliseconds timeout) const;
  const Store& store() const { return store_; }
  const GroupVersionKind& gvk() const { return gvk_; }

  // For tests and metrics.
  std::uint64_t relists() const { return relists_.load(); }
  std::uint64_t watch_restarts() const { return watch_restarts_.load(); }
  std::string last_resource_version() const;

 private:
  void run();
  json stored_form(const json& object) const;  // object after options.transform
  void relist();
  void dispatch_add(const ObjectPtr& object);
  void dispatch_update(const ObjectPtr& old_object, const ObjectPtr& new_object);
  void dispatch_delete(const ObjectPtr& object);
  bool sleep_for(std::chrono::milliseconds delay);  // false when stopping
  void resync_loop();
  void set_resource_version(const std::string& rv);

  std::shared_ptr<Client> client_;
  GroupVersionKind gvk_;
  InformerOptions options_;
  Store store_;
  std::vector<EventHandlers> handlers_;
  CancelToken cancel_;
  std::thread thread_;
  std::thread resync_thread_;
  std::mutex dispatch_mutex_;  // handlers run one at a time
  bool started_ = false;
  std::atomic<bool> synced_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> relists_{0};
  std::atomic<std::uint64_t> watch_restarts_{0};
  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::string resource_version_;
};

}  // namespace kolla::kube
