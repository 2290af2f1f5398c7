#include "operator/testing/fake_client.hpp"

#include <fmt/format.h>

#include <set>
#include <sstream>

namespace kolla::op::testing {

namespace {

bool matches_selector(const json& object, const std::string& selector) {
  if (selector.empty()) return true;
  const json labels = object.value("/metadata/labels"_json_pointer, json::object());
  std::stringstream in(selector);
  std::string term;
  while (std::getline(in, term, ',')) {
    const auto ne = term.find("!=");
    const auto eq = term.find('=');
    if (ne != std::string::npos) {
      const std::string k = term.substr(0, ne), v = term.substr(ne + 2);
      if (labels.contains(k) && labels[k] == v) return false;
    } else if (eq != std::string::npos) {
      const std::string k = term.substr(0, eq);
      std::string v = term.substr(eq + 1);
      if (!v.empty() && v[0] == '=') v = v.substr(1);
      if (!labels.contains(k) || labels[k] != v) return false;
    } else if (!labels.contains(term)) {
      return false;
    }
  }
  return true;
}

json without(json object, const char* field) {
  object.erase(field);
  return object;
}

}  // namespace

kube::ApiError conflict_error(const std::string& what) {
  return kube::ApiError(kube::ErrorCode::kConflict, 409, what, "Conflict");
}
kube::ApiError not_found_error(const std::string& what) {
  return kube::ApiError(kube::ErrorCode::kNotFound, 404, what, "NotFound");
}
kube::ApiError server_error(const std::string& what) {
  return kube::ApiError(kube::ErrorCode::kServerError, 500, what, "InternalError");
}

FakeClient::Key FakeClient::key_of(const GroupVersionKind& gvk, const std::string& ns,
                                   const std::string& name) {
  return {gvk.api_version(), gvk.kind, ns, name};
}

FakeClient::Key FakeClient::key_of(const json& object) {
  return {object.at("apiVersion").get<std::string>(), object.at("kind").get<std::string>(),
          object.value("/metadata/namespace"_json_pointer, std::string{}),
          object.at("metadata").at("name").get<std::string>()};
}

void FakeClient::maybe_fail(const std::string& verb) {
  auto it = failures_.find(verb);
  if (it == failures_.end() || it->second.empty()) return;
  kube::ApiError error = it->second.front();
  it->second.pop_front();
  throw error;
}

void FakeClient::record(const std::string& verb, const json& object) {
  calls_.push_back(fmt::format("{} {} {}/{}", verb, object.value("kind", ""),
                               object.value("/metadata/namespace"_json_pointer, std::string{}),
                               object.value("/metadata/name"_json_pointer, std::string{})));
}

void FakeClient::record(const std::string& verb, const GroupVersionKind& gvk, const std::string& ns,
                        const std::string& name) {
  calls_.push_back(fmt::format("{} {} {}/{}", verb, gvk.kind, ns, name));
}

json FakeClient::store_locked(json object, const json* previous) {
  json& meta = object["metadata"];
  if (previous) {
    const json& pm = (*previous)["metadata"];
    meta["uid"] = pm["uid"];
    meta["creationTimestamp"] = pm["creationTimestamp"];
    std::int64_t generation = pm.value("generation", 1);
    if (without(without(object, "status"), "metadata") !=
        without(without(*previous, "status"), "metadata")) {
      ++generation;
    }
    meta["generation"] = generation;
    if (pm.contains("deletionTimestamp")) meta["deletionTimestamp"] = pm["deletionTimestamp"];
  } else {
    meta["uid"] = fmt::format("uid-{}", ++uid_);
    meta["creationTimestamp"] = "2025-01-01T00:00:00Z";
    meta["generation"] = 1;
  }
  meta["resourceVersion"] = std::to_string(++version_);
  const Key key = key_of(object);
  objects_[key] = object;
  delete_if_finalized_locked(key);
  return object;
}

void FakeClient::delete_if_finalized_locked(const Key& key) {
  auto it = objects_.find(key);
  if (it == objects_.end()) return;
  const json& meta = it->second["metadata"];
  const bool deleting = meta.contains("deletionTimestamp");
  const bool finalizers = meta.contains("finalizers") && !meta["finalizers"].empty();
  if (deleting && !finalizers) objects_.erase(it);
}

std::optional<json> FakeClient::get(const GroupVersionKind& gvk, const std::string& ns,
                                    const std::string& name) {
  std::lock_guard lock(mutex_);
  record("get", gvk, ns, name);
  maybe_fail("get");
  auto it = objects_.find(key_of(gvk, ns, name));
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<json> FakeClient::list(const GroupVersionKind& gvk, const std::string& ns,
                                   const std::string& label_selector) {
  std::lock_guard lock(mutex_);
  record("list", gvk, ns, "");
  maybe_fail("list");
  std::vector<json> out;
  for (const auto& [key, object] : objects_) {
    if (std::get<0>(key) != gvk.api_version() || std::get<1>(key) != gvk.kind) continue;
    if (!ns.empty() && std::get<2>(key) != ns) continue;
    if (matches_selector(object, label_selector)) out.push_back(object);
  }
  return out;
}

json FakeClient::create(const json& object) {
  std::lock_guard lock(mutex_);
  record("create", object);
  maybe_fail("create");
  const Key key = key_of(object);
  if (objects_.contains(key)) {
    throw kube::ApiError(kube::ErrorCode::kAlreadyExists, 409,
                         fmt::format("{} {} already exists", std::get<1>(key), std::get<3>(key)),
                         "AlreadyExists");
  }
  json copy = object;
  copy["metadata"].erase("resourceVersion");
  return store_locked(std::move(copy), nullptr);
}

json FakeClient::stored_for_update_locked(const std::string& verb, const json& object) {
  record(verb, object);
  maybe_fail(verb);
  const Key key = key_of(object);
  auto it = objects_.find(key);
  if (it == objects_.end()) throw not_found_error(std::get<3>(key) + " not found");
  const std::string rv = object.value("/metadata/resourceVersion"_json_pointer, std::string{});
  if (!rv.empty() && rv != it->second["metadata"]["resourceVersion"]) throw conflict_error();
  return it->second;
}

json FakeClient::update(const json& object) {
  std::lock_guard lock(mutex_);
  json previous = stored_for_update_locked("update", object);
  json copy = object;
  if (previous.contains("status")) {
    copy["status"] = previous["status"];
  } else {
    copy.erase("status");
  }
  return store_locked(std::move(copy), &previous);
}

json FakeClient::update_status(const json& object) {
  std::lock_guard lock(mutex_);
  json previous = stored_for_update_locked("update_status", object);
  json copy = previous;
  copy["status"] = object.value("status", json::object());
  return store_locked(std::move(copy), &previous);
}

json FakeClient::apply(const json& object, const std::string& manager, bool force) {
  std::lock_guard lock(mutex_);
  record("apply", object);
  maybe_fail("apply");
  (void)manager;
  (void)force;
  const Key key = key_of(object);
  auto it = objects_.find(key);
  if (it == objects_.end()) return store_locked(object, nullptr);
  json previous = it->second;
  json merged = previous;
  // Our fields replace theirs; status stays the server's.
  for (auto& [k, v] : object.items()) {
    if (k == "status") continue;
    if (k == "metadata") {
      for (auto& [mk, mv] : v.items()) merged["metadata"][mk] = mv;
    } else {
      merged[k] = v;
    }
  }
  return store_locked(std::move(merged), &previous);
}

json FakeClient::merge_patch(const GroupVersionKind& gvk, const std::string& ns,
                             const std::string& name, const json& patch,
                             const std::string& subresource) {
  std::lock_guard lock(mutex_);
  record(subresource.empty() ? "merge_patch" : "merge_patch_" + subresource, gvk, ns, name);
  maybe_fail("merge_patch");
  auto it = objects_.find(key_of(gvk, ns, name));
  if (it == objects_.end()) throw not_found_error(name + " not found");
  json previous = it->second;
  json patched = previous;
  if (subresource == "status") {
    json status = patched.value("status", json::object());
    if (patch.contains("status")) status.merge_patch(patch["status"]);
    patched["status"] = status;
  } else {
    patched.merge_patch(without(patch, "status"));
  }
  return store_locked(std::move(patched), &previous);
}

bool FakeClient::remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                        const std::string& propagation) {
  std::lock_guard lock(mutex_);
  record("remove", gvk, ns, name);
  maybe_fail("remove");
  (void)propagation;
  const Key key = key_of(gvk, ns, name);
  auto it = objects_.find(key);
  if (it == objects_.end()) return false;
  json& meta = it->second["metadata"];
  if (!meta.contains("deletionTimestamp")) {
    meta["deletionTimestamp"] = "2025-01-01T00:00:00Z";
    meta["resourceVersion"] = std::to_string(++version_);
  }
  delete_if_finalized_locked(key);
  return true;
}

bool FakeClient::is_namespaced(const GroupVersionKind& gvk) {
  static const std::set<std::string> cluster_scoped = {
      "Namespace",          "Node",         "PersistentVolume",        "ClusterRole",
      "ClusterRoleBinding", "StorageClass", "CustomResourceDefinition"};
  return !cluster_scoped.contains(gvk.kind);
}

json FakeClient::put(json object) {
  std::lock_guard lock(mutex_);
  const Key key = key_of(object);
  auto it = objects_.find(key);
  if (it == objects_.end()) return store_locked(std::move(object), nullptr);
  json previous = it->second;
  return store_locked(std::move(object), &previous);
}

void FakeClient::set_status(const GroupVersionKind& gvk, const std::string& ns,
                            const std::string& name, const json& status) {
  std::lock_guard lock(mutex_);
  auto it = objects_.find(key_of(gvk, ns, name));
  if (it == objects_.end()) throw not_found_error(name + " not found");
  it->second["status"] = status;
  it->second["metadata"]["resourceVersion"] = std::to_string(++version_);
}

void FakeClient::fail_next(const std::string& verb, kube::ApiError error) {
  std::lock_guard lock(mutex_);
  failures_[verb].push_back(std::move(error));
}

std::vector<std::string> FakeClient::calls() const {
  std::lock_guard lock(mutex_);
  return calls_;
}

void FakeClient::clear_calls() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

std::size_t FakeClient::size() const {
  std::lock_guard lock(mutex_);
  return objects_.size();
}

}  // namespace kolla::op::testing
