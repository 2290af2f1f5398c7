#include "operator/finalizers.hpp"

namespace kolla::op {

bool has_finalizer(const json& object, const std::string& finalizer) {
  const auto ptr = "/metadata/finalizers"_json_pointer;
  if (!object.contains(ptr) || !object.at(ptr).is_array()) return false;
  for (const auto& f : object.at(ptr)) {
    if (f == finalizer) return true;
  }
  return false;
}

bool is_being_deleted(const json& object) {
  return object.contains("/metadata/deletionTimestamp"_json_pointer);
}

json add_finalizer(ObjectClient& client, const json& object, const std::string& finalizer) {
  if (has_finalizer(object, finalizer)) return object;
  json updated = object;
  if (!updated["metadata"].contains("finalizers") ||
      !updated["metadata"]["finalizers"].is_array()) {
    updated["metadata"]["finalizers"] = json::array();
  }
  updated["metadata"]["finalizers"].push_back(finalizer);
  return client.update(updated);
}

json remove_finalizer(ObjectClient& client, const json& object, const std::string& finalizer) {
  if (!has_finalizer(object, finalizer)) return object;
  json updated = object;
  json kept = json::array();
  for (const auto& f : object["metadata"]["finalizers"]) {
    if (f != finalizer) kept.push_back(f);
  }
  updated["metadata"]["finalizers"] = kept;
  return client.update(updated);
}

json owner_reference(const json& owner) {
  return {{"apiVersion", owner.at("apiVersion")},
          {"kind", owner.at("kind")},
          {"name", owner.at("metadata").at("name")},
          {"uid", owner.at("metadata").at("uid")},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

}  // namespace kolla::op
