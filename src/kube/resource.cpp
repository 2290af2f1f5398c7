#include "kube/resource.hpp"

#include <stdexcept>

namespace kolla::kube {

namespace {
std::string api_version_of(const std::string& group, const std::string& version) {
  return group.empty() ? version : group + "/" + version;
}
}  // namespace

std::string GroupVersionKind::api_version() const {
  return api_version_of(group, version);
}

GroupVersionKind GroupVersionKind::from_api_version(std::string_view api_version,
                                                    std::string_view kind) {
  GroupVersionKind gvk;
  const auto slash = api_version.find('/');
  if (slash == std::string_view::npos) {
    gvk.version = std::string(api_version);
  } else {
    gvk.group = std::string(api_version.substr(0, slash));
    gvk.version = std::string(api_version.substr(slash + 1));
  }
  gvk.kind = std::string(kind);
  return gvk;
}

GroupVersionKind GroupVersionKind::of(const json& object) {
  if (!object.is_object()) throw std::invalid_argument("object is not a JSON object");
  const auto api = object.find("apiVersion");
  const auto kind = object.find("kind");
  if (api == object.end() || !api->is_string() || api->get_ref<const std::string&>().empty()) {
    throw std::invalid_argument("object has no apiVersion");
  }
  if (kind == object.end() || !kind->is_string() || kind->get_ref<const std::string&>().empty()) {
    throw std::invalid_argument("object has no kind");
  }
  return from_api_version(api->get_ref<const std::string&>(), kind->get_ref<const std::string&>());
}

std::string GroupVersionKind::str() const {
  return api_version() + ", Kind=" + kind;
}

std::string GroupVersionResource::api_version() const {
  return api_version_of(group, version);
}

ResourceRef ResourceRef::of(const json& object) {
  ResourceRef ref;
  ref.gvk = GroupVersionKind::of(object);
  const auto& meta = object.value("metadata", json::object());
  ref.namespace_ = meta.value("namespace", "");
  ref.name = meta.value("name", "");
  return ref;
}

std::string ResourceRef::str() const {
  return gvk.str() + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

std::string object_key(std::string_view namespace_, std::string_view name) {
  if (namespace_.empty()) return std::string(name);
  std::string key(namespace_);
  key += '/';
  key += name;
  return key;
}

std::string object_key(const json& object) {
  const auto& meta = object.value("metadata", json::object());
  return object_key(meta.value("namespace", ""), meta.value("name", ""));
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
                            (u >= '0' && u <= '9') || u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0f];
    }
  }
  return out;
}

std::string query_string(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (value.empty()) continue;
    out += out.empty() ? '?' : '&';
    out += url_encode(key);
    out += '=';
    out += url_encode(value);
  }
  return out;
}

std::string resource_path(const ResourceInfo& info, std::string_view namespace_,
                          std::string_view name, std::string_view subresource) {
  std::string path = info.gvr.group.empty() ? "/api/" + info.gvr.version
                                            : "/apis/" + info.gvr.group + "/" + info.gvr.version;
  if (info.namespaced && !namespace_.empty()) {
    path += "/namespaces/";
    path += url_encode(namespace_);
  }
  path += '/';
  path += info.gvr.resource;
  if (!name.empty()) {
    path += '/';
    path += url_encode(name);
    if (!subresource.empty()) {
      path += '/';
      path += subresource;
    }
  }
  return path;
}

namespace gvk {
GroupVersionKind core(std::string_view kind) {
  return {"", "v1", std::string(kind)};
}
}  // namespace gvk

}  // namespace kolla::kube
