#include "operator/status_writer.hpp"

namespace kolla::op {

std::optional<StatusWriteResult> write_status(
    ObjectClient& client, const GroupVersionKind& gvk, const std::string& ns,
    const std::string& name, const std::function<void(json& status, const json& object)>& mutate,
    int max_attempts, const json* known) {
  StatusWriteResult result;
  const bool use_known =
      known != nullptr && known->is_object() &&
      !known->value("/metadata/resourceVersion"_json_pointer, std::string{}).empty();
  for (int attempt = 1;; ++attempt) {
    std::optional<json> object =
        attempt == 1 && use_known ? std::optional<json>(*known) : client.get(gvk, ns, name);
    if (!object) return std::nullopt;
    json status = object->contains("status") && (*object)["status"].is_object()
                      ? (*object)["status"]
                      : json::object();
    const json before = status;
    mutate(status, *object);
    if (status == before) {
      result.object = std::move(*object);
      return result;
    }
    (*object)["status"] = std::move(status);
    try {
      result.object = client.update_status(*object);
      result.written = true;
      return result;
    } catch (const kube::ApiError& e) {
      if (!e.conflict() || attempt >= max_attempts) throw;
      ++result.conflicts;
    }
  }
}

}  // namespace kolla::op
