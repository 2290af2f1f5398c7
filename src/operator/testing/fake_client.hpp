#pragma once
// An in-memory ObjectClient for controller tests, behaving like the API server where the
// controllers depend on it: resourceVersion on every write and Conflict on a stale update,
// metadata.generation bumped on spec changes (not on status writes), status only written through
// update_status, finalizers deferring deletion (deletionTimestamp) until they are removed,
// AlreadyExists on create, equality label selectors. Failures can be injected per verb.

#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "operator/object_client.hpp"

namespace kolla::op::testing {

class FakeClient final : public ObjectClient {
 public:
  std::optional<json> get(const GroupVersionKind& gvk, const std::string& ns,
                          const std::string& name) override;
  std::vector<json> list(const GroupVersionKind& gvk, const std::string& ns,
                         const std::string& label_selector = {}) override;
  json create(const json& object) override;
  json update(const json& object) override;
  json update_status(const json& object) override;
  json apply(const json& object, const std::string& manager, bool force) override;
  json merge_patch(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                   const json& patch, const std::string& subresource = {}) override;
  bool remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
              const std::string& propagation = "Background") override;
  bool is_namespaced(const GroupVersionKind& gvk) override;

  // Stores an object as is (tests setting up state, or simulating other controllers).
  json put(json object);
  // Edits an object's status as another controller would (no resourceVersion check).
  void set_status(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                  const json& status);
  // The next call of `verb` (get, list, create, update, update_status, apply, merge_patch,
  // remove) throws `error`; several may be queued.
  void fail_next(const std::string& verb, kube::ApiError error);
  // Calls made, as "verb kind ns/name".
  std::vector<std::string> calls() const;
  void clear_calls();
  std::size_t size() const;

 private:
  using Key = std::tuple<std::string, std::string, std::string, std::string>;  // gv, kind, ns, name
  static Key key_of(const GroupVersionKind& gvk, const std::string& ns, const std::string& name);
  static Key key_of(const json& object);
  void maybe_fail(const std::string& verb);
  void record(const std::string& verb, const json& object);
  void record(const std::string& verb, const GroupVersionKind& gvk, const std::string& ns,
              const std::string& name);
  json store_locked(json object, const json* previous);
  // What update and update_status do first: record the call, throw an injected failure, then
  // return the stored object `object` is to replace (NotFound if none, Conflict if `object` has
  // another resourceVersion). The caller holds mutex_.
  json stored_for_update_locked(const std::string& verb, const json& object);
  void delete_if_finalized_locked(const Key& key);

  mutable std::mutex mutex_;
  std::map<Key, json> objects_;
  std::map<std::string, std::deque<kube::ApiError>> failures_;
  std::vector<std::string> calls_;
  std::uint64_t version_ = 0;
  std::uint64_t uid_ = 0;
};

// ApiError helpers for tests.
kube::ApiError conflict_error(const std::string& what = "the object has been modified");
kube::ApiError not_found_error(const std::string& what = "not found");
kube::ApiError server_error(const std::string& what = "internal error");

}  // namespace kolla::op::testing
