#pragma once
// Finalizer helpers (after kube-rs's finalizer()): add before doing anything that needs cleanup,
// remove only when cleanup is complete. Both write with the object's resourceVersion, so a
// stale read fails with Conflict and the reconcile is retried.

#include <string>

#include "operator/object_client.hpp"

namespace kolla::op {

bool has_finalizer(const json& object, const std::string& finalizer);
bool is_being_deleted(const json& object);
// Returns the updated object (unchanged when already present/absent).
json add_finalizer(ObjectClient& client, const json& object, const std::string& finalizer);
json remove_finalizer(ObjectClient& client, const json& object, const std::string& finalizer);

// An ownerReference to `owner` (controller, blockOwnerDeletion).
json owner_reference(const json& owner);

}  // namespace kolla::op
