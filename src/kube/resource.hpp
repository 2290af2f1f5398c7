#pragma once
// The resource model: which kind of object, which REST resource serves it, which object.
// Objects themselves are nlohmann::json, exactly as the API server sends them.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::kube {

using json = nlohmann::json;

// apiVersion + kind, e.g. {"apps", "v1", "Deployment"}; the core group is "".
struct GroupVersionKind {
  std::string group;
  std::string version;
  std::string kind;

  // "v1" for the core group, else "<group>/<version>".
  std::string api_version() const;
  // Splits "apps/v1" or "v1".
  static GroupVersionKind from_api_version(std::string_view api_version, std::string_view kind);
  // Reads apiVersion and kind of an object; throws std::invalid_argument when either is missing.
  static GroupVersionKind of(const json& object);
  std::string str() const;  // "apps/v1, Kind=Deployment"
  auto operator<=>(const GroupVersionKind&) const = default;
};

// A REST resource, e.g. {"apps", "v1", "deployments"}.
struct GroupVersionResource {
  std::string group;
  std::string version;
  std::string resource;
  std::string api_version() const;
  auto operator<=>(const GroupVersionResource&) const = default;
};

// What discovery knows about one resource.
struct ResourceInfo {
  GroupVersionResource gvr;
  std::string kind;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> subresources;  // e.g. "status", "scale"
};

// One object (or, with an empty name, a collection) of one kind.
struct ResourceRef {
  GroupVersionKind gvk;
  std::string namespace_;  // empty for cluster-scoped kinds or "all namespaces"
  std::string name;
  // The reference of an existing object (apiVersion, kind, metadata.namespace, metadata.name).
  static ResourceRef of(const json& object);
  std::string str() const;  // "apps/v1, Kind=Deployment ns/name"
};

// "namespace/name", or "name" for cluster-scoped objects (the informer store key).
std::string object_key(std::string_view namespace_, std::string_view name);
std::string object_key(const json& object);

// The URL path of a resource:
//   core group:   /api/v1[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
//   other groups: /apis/<group>/<version>[/namespaces/<ns>]/<resource>[/<name>[/<subresource>]]
// The namespace segment appears only when info.namespaced and ns is not empty.
// Names are percent-encoded.
std::string resource_path(const ResourceInfo& info, std::string_view namespace_,
                          std::string_view name = {}, std::string_view subresource = {});

// Percent-encodes a query value or path segment (RFC 3986 unreserved characters kept).
std::string url_encode(std::string_view text);
// "?a=1&b=x%20y" from the non-empty entries (in map order); "" when none.
std::string query_string(const std::map<std::string, std::string>& params);

// Convenience GVKs for kinds every component uses.
namespace gvk {
GroupVersionKind core(std::string_view kind);  // {"", "v1", kind}
inline const GroupVersionKind kNamespace{"", "v1", "Namespace"};
inline const GroupVersionKind kConfigMap{"", "v1", "ConfigMap"};
inline const GroupVersionKind kSecret{"", "v1", "Secret"};
inline const GroupVersionKind kPod{"", "v1", "Pod"};
inline const GroupVersionKind kService{"", "v1", "Service"};
inline const GroupVersionKind kServiceAccount{"", "v1", "ServiceAccount"};
inline const GroupVersionKind kEvent{"", "v1", "Event"};
inline const GroupVersionKind kNode{"", "v1", "Node"};
inline const GroupVersionKind kPersistentVolumeClaim{"", "v1", "PersistentVolumeClaim"};
inline const GroupVersionKind kDeployment{"apps", "v1", "Deployment"};
inline const GroupVersionKind kStatefulSet{"apps", "v1", "StatefulSet"};
inline const GroupVersionKind kDaemonSet{"apps", "v1", "DaemonSet"};
inline const GroupVersionKind kJob{"batch", "v1", "Job"};
inline const GroupVersionKind kRole{"rbac.authorization.k8s.io", "v1", "Role"};
inline const GroupVersionKind kRoleBinding{"rbac.authorization.k8s.io", "v1", "RoleBinding"};
inline const GroupVersionKind kLease{"coordination.k8s.io", "v1", "Lease"};
inline const GroupVersionKind kCustomResourceDefinition{"apiextensions.k8s.io", "v1",
                                                        "CustomResourceDefinition"};
}  // namespace gvk

}  // namespace kolla::kube
