#pragma once
// The slice of the Kubernetes API the controllers use, as an interface, so that controller logic
// is tested against an in-memory fake and runs against kube::Client in production. Errors are
// kube::ApiError in both (NotFound, Conflict, AlreadyExists, ...).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kube/client.hpp"
#include "kube/errors.hpp"
#include "kube/resource.hpp"

namespace kolla::op {

using kube::GroupVersionKind;
using kube::json;

class ObjectClient {
 public:
  virtual ~ObjectClient() = default;
  virtual std::optional<json> get(const GroupVersionKind& gvk, const std::string& ns,
                                  const std::string& name) = 0;
  // label_selector: "k=v[,k2=v2]" (equality only is enough for the controllers).
  virtual std::vector<json> list(const GroupVersionKind& gvk, const std::string& ns,
                                 const std::string& label_selector = {}) = 0;
  virtual json create(const json& object) = 0;
  // PUT with the object's resourceVersion; Conflict when stale.
  virtual json update(const json& object) = 0;
  virtual json update_status(const json& object) = 0;
  // Server-side apply with field manager `manager`.
  virtual json apply(const json& object, const std::string& manager, bool force) = 0;
  // JSON merge patch (RFC 7386) of the object (or its status with subresource "status").
  virtual json merge_patch(const GroupVersionKind& gvk, const std::string& ns,
                           const std::string& name, const json& patch,
                           const std::string& subresource = {}) = 0;
  // Returns false when it did not exist. propagation: "", "Background", "Foreground".
  virtual bool remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                      const std::string& propagation = "Background") = 0;
  // Whether objects of the kind live in a namespace (discovery).
  virtual bool is_namespaced(const GroupVersionKind& gvk) = 0;
};

// The production implementation over kube::Client.
class KubeObjectClient final : public ObjectClient {
 public:
  explicit KubeObjectClient(std::shared_ptr<kube::Client> client) : client_(std::move(client)) {}
  std::optional<json> get(const GroupVersionKind& gvk, const std::string& ns,
                          const std::string& name) override;
  std::vector<json> list(const GroupVersionKind& gvk, const std::string& ns,
                         const std::string& label_selector) override;
  json create(const json& object) override;
  json update(const json& object) override;
  json update_status(const json& object) override;
  json apply(const json& object, const std::string& manager, bool force) override;
  json merge_patch(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                   const json& patch, const std::string& subresource) override;
  bool remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
              const std::string& propagation) override;
  bool is_namespaced(const GroupVersionKind& gvk) override;
  kube::Client& client() { return *client_; }

 private:
  std::shared_ptr<kube::Client> client_;
};

}  // namespace kolla::op
