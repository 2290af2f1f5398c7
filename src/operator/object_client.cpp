#include "operator/object_client.hpp"

namespace kolla::op {

std::optional<json> KubeObjectClient::get(const GroupVersionKind& gvk, const std::string& ns,
                                          const std::string& name) {
  return client_->get_optional(gvk, ns, name);
}

std::vector<json> KubeObjectClient::list(const GroupVersionKind& gvk, const std::string& ns,
                                         const std::string& label_selector) {
  kube::ListOptions options;
  options.label_selector = label_selector;
  return client_->list(gvk, ns, options).items;
}

json KubeObjectClient::create(const json& object) {
  return client_->create(object);
}

json KubeObjectClient::update(const json& object) {
  return client_->update(object);
}

json KubeObjectClient::update_status(const json& object) {
  return client_->update_status(object);
}

json KubeObjectClient::apply(const json& object, const std::string& manager, bool force) {
  kube::ApplyOptions options;
  options.field_manager = manager;
  options.force = force;
  return client_->apply(object, options);
}

json KubeObjectClient::merge_patch(const GroupVersionKind& gvk, const std::string& ns,
                                   const std::string& name, const json& patch,
                                   const std::string& subresource) {
  return client_->merge_patch(gvk, ns, name, patch, {}, subresource);
}

bool KubeObjectClient::remove(const GroupVersionKind& gvk, const std::string& ns,
                              const std::string& name, const std::string& propagation) {
  kube::DeleteOptions options;
  options.propagation_policy = propagation;
  return client_->remove_if_exists(gvk, ns, name, options);
}

bool KubeObjectClient::is_namespaced(const GroupVersionKind& gvk) {
  return client_->resolve(gvk).namespaced;
}

}  // namespace kolla::op
