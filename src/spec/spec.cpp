#include "spec/spec.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "spec/yaml_json.hpp"

namespace kolla::spec {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& path, const std::string& message) {
  throw SpecError(path + ": " + message, path, 0);
}

std::string type_name(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "a mapping";
    case json::value_t::array:
      return "a list";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::null:
      return "empty";
    default:
      return "a number";
  }
}

std::string join(const std::set<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

// Checks that `object` (at `path`) is a mapping holding only `known` keys.
const json& mapping(const json& parent, const std::string& key, const std::string& path,
                    const std::set<std::string>& known) {
  static const json kEmpty = json::object();
  if (!parent.contains(key) || parent.at(key).is_null()) return kEmpty;
  const json& value = parent.at(key);
  if (!value.is_object()) fail(path, "must be a mapping, not " + type_name(value));
  if (!known.empty()) {
    for (const auto& [k, v] : value.items()) {
      if (!known.contains(k)) {
        fail(yaml::join_path(path, k), "unknown field (known: " + join(known) + ")");
      }
    }
  }
  return value;
}

// Reads an optional string field into out (keeps the default when absent).
void read_string(const json& parent, const std::string& key, const std::string& path,
                 std::string& out, const std::regex* pattern = nullptr,
                 const char* pattern_help = nullptr) {
  if (!parent.contains(key) || parent.at(key).is_null()) return;
  const json& value = parent.at(key);
  if (!value.is_string()) {
    fail(path, "must be a string, not " + type_name(value) +
                   (value.is_number() || value.is_boolean() ? " (quote it)" : ""));
  }
  const auto& text = value.get_ref<const std::string&>();
  if (pattern != nullptr && !std::regex_match(text, *pattern)) {
    fail(path, "'" + text + "' is not valid: " + pattern_help);
  }
  out = text;
}

const std::regex kDnsLabel{R"(^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$)"};
const std::regex kDnsSubdomain{
    R"(^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"};
const std::regex kServiceName{R"(^[a-z][a-z0-9-]{0,38}[a-z0-9]$)"};
const std::regex kRelease{R"(^[0-9]{4}\.[12]$|^[a-z]+$)"};
const std::regex kRegistry{R"(^[A-Za-z0-9.-]+(:[0-9]+)?$)"};
const std::regex kImageNamespace{R"(^[a-z0-9]+([._/-][a-z0-9]+)*$)"};
const std::regex kTag{R"(^[A-Za-z0-9_.-]*$)"};
const std::regex kPullPolicy{R"(^(Always|IfNotPresent|Never)$)"};
const std::regex kInterface{R"(^[A-Za-z0-9_.:@-]{1,15}$)"};
const std::regex kNotEmpty{R"(^.+$)"};
const std::regex kLabelKey{
    R"(^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$)"};
const std::regex kLabelValue{R"(^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$)"};

NodeSelector read_selector(const json& value, const std::string& path) {
  if (!value.is_object()) fail(path, "must be a mapping of node labels, not " + type_name(value));
  NodeSelector selector;
  for (const auto& [key, label] : value.items()) {
    const std::string label_path = yaml::join_path(path, key);
    if (!std::regex_match(key, kLabelKey)) fail(label_path, "'" + key + "' is not a label key");
    if (!label.is_string()) {
      fail(label_path,
           "must be a string, not " + type_name(label) + " (quote it: \"" +
               (label.is_boolean() ? (label.get<bool>() ? "true" : "false") : label.dump()) +
               "\")");
    }
    const auto& text = label.get_ref<const std::string&>();
    if (!std::regex_match(text, kLabelValue))
      fail(label_path, "'" + text + "' is not a label value");
    selector[key] = text;
  }
  return selector;
}

void read_services(const json& spec_json, Spec& spec) {
  if (!spec_json.contains("services") || spec_json.at("services").is_null()) {
    fail("spec.services", "is required: list at least one service");
  }
  const json& services = mapping(spec_json, "services", "spec.services", {});
  if (services.empty()) fail("spec.services", "is empty: list at least one service");
  for (const auto& [name, entry] : services.items()) {
    const std::string path = "spec.services." + name;
    if (!std::regex_match(name, kServiceName)) {
      fail(path, "'" + name +
                     "' is not a service name (chart directory names: lower case "
                     "letters, digits and '-')");
    }
    ServiceSpec service;
    if (!entry.is_null()) {
      if (!entry.is_object()) fail(path, "must be a mapping, not " + type_name(entry));
      const json& body = mapping(services, name, path, {"enabled", "values"});
      if (body.contains("enabled") && !body.at("enabled").is_null()) {
        if (!body.at("enabled").is_boolean()) {
          fail(path + ".enabled", "must be true or false, not " + type_name(body.at("enabled")));
        }
        service.enabled = body.at("enabled").get<bool>();
      }
      if (body.contains("values") && !body.at("values").is_null()) {
        if (!body.at("values").is_object()) {
          fail(path + ".values", "must be a mapping, not " + type_name(body.at("values")));
        }
        service.values = body.at("values");
      }
    }
    spec.services.emplace(name, std::move(service));
  }
}

}  // namespace

std::map<std::string, NodeSelector> Spec::default_nodes() {
  return {{"controller", {{"kolla.openstack.org/controller", "true"}}},
          {"compute", {{"kolla.openstack.org/compute", "true"}}},
          {"network", {{"kolla.openstack.org/network", "true"}}}};
}

std::vector<std::string> Spec::enabled_services() const {
  std::vector<std::string> names;
  for (const auto& [service_name, service] : services) {
    if (service.enabled) names.push_back(service_name);
  }
  return names;
}

bool Spec::is_enabled(const std::string& service) const {
  auto it = services.find(service);
  return it != services.end() && it->second.enabled;
}

Spec from_json(const json& document) {
  if (!document.is_object()) fail("(document)", "must be a mapping, not " + type_name(document));
  Spec spec;
  std::string api_version;
  std::string kind;
  read_string(document, "apiVersion", "apiVersion", api_version);
  read_string(document, "kind", "kind", kind);
  if (api_version != kApiVersion) {
    fail("apiVersion", api_version.empty() ? std::string("is required: ") + kApiVersion
                                           : "'" + api_version + "' is not " + kApiVersion);
  }
  if (kind != kKind) {
    fail("kind",
         kind.empty() ? std::string("is required: ") + kKind : "'" + kind + "' is not " + kKind);
  }
  for (const auto& [key, value] : document.items()) {
    static const std::set<std::string> kTop{"apiVersion", "kind", "metadata", "spec", "status"};
    if (!kTop.contains(key)) fail(key, "unknown field (known: " + join(kTop) + ")");
  }

  const json& metadata = mapping(document, "metadata", "metadata", {});
  read_string(metadata, "name", "metadata.name", spec.name, &kDnsSubdomain,
              "lower case letters, digits, '-' and '.'");
  if (spec.name.empty()) fail("metadata.name", "is required");
  read_string(metadata, "namespace", "metadata.namespace", spec.namespace_, &kDnsLabel,
              "a DNS label (lower case letters, digits and '-')");

  if (!document.contains("spec") || document.at("spec").is_null()) fail("spec", "is required");
  const json& s = mapping(document, "spec", "spec",
                          {"release", "images", "region", "passwordsSecret", "network", "nodes",
                           "services", "fencing"});
  read_string(s, "release", "spec.release", spec.release, &kRelease,
              "a release such as \"2025.1\" (quote it) or a series name");
  const json& images = mapping(s, "images", "spec.images",
                               {"registry", "namespace", "tag", "tagSuffix", "pullPolicy"});
  read_string(images, "registry", "spec.images.registry", spec.images.registry, &kRegistry,
              "a registry host[:port]");
  read_string(images, "namespace", "spec.images.namespace", spec.images.namespace_,
              &kImageNamespace, "an image namespace such as openstack.kolla");
  read_string(images, "tag", "spec.images.tag", spec.images.tag, &kTag,
              "letters, digits, '_', '.' and '-'");
  read_string(images, "tagSuffix", "spec.images.tagSuffix", spec.images.tag_suffix, &kTag,
              "letters, digits, '_', '.' and '-'");
  read_string(images, "pullPolicy", "spec.images.pullPolicy", spec.images.pull_policy, &kPullPolicy,
              "one of Always, IfNotPresent, Never");
  read_string(s, "region", "spec.region", spec.region, &kNotEmpty, "must not be empty");
  read_string(s, "passwordsSecret", "spec.passwordsSecret", spec.passwords_secret, &kDnsSubdomain,
              "a Secret name");
  const json& network =
      mapping(s, "network", "spec.network",
              {"internalAddress", "externalAddress", "interface", "externalInterface"});
  read_string(network, "internalAddress", "spec.network.internalAddress",
              spec.network.internal_address);
  read_string(network, "externalAddress", "spec.network.externalAddress",
              spec.network.external_address);
  read_string(network, "interface", "spec.network.interface", spec.network.interface_, &kInterface,
              "an interface name");
  read_string(network, "externalInterface", "spec.network.externalInterface",
              spec.network.external_interface, &kInterface, "an interface name");
  // Validated by the fencing controller (src/fencing/config.hpp) and the CRD schema.
  spec.fencing = mapping(s, "fencing", "spec.fencing", {});
  const json& nodes = mapping(s, "nodes", "spec.nodes", {});
  for (const auto& [role, selector] : nodes.items()) {
    const std::string path = "spec.nodes." + role;
    if (!std::regex_match(role, kServiceName)) fail(path, "'" + role + "' is not a role name");
    spec.nodes[role] = read_selector(selector, path);
  }
  read_services(s, spec);
  return spec;
}

Spec parse_yaml(std::string_view text, std::string_view source) {
  yaml::LineMap lines;
  json document;
  try {
    document = yaml::parse(text, source, &lines);
  } catch (const yaml::YamlError& e) {
    throw SpecError(e.what(), "", e.line);
  }
  if (document.is_null()) throw SpecError(std::string(source) + ": the file is empty", "", 0);
  try {
    return from_json(document);
  } catch (const SpecError& e) {
    // Point at the deepest part of the path the file has (a missing field: its parent).
    std::string path = e.path;
    int line = 0;
    while (true) {
      if (auto it = lines.find(path); it != lines.end()) {
        line = it->second;
        break;
      }
      auto dot = path.find_last_of('.');
      if (dot == std::string::npos) break;
      path.resize(dot);
    }
    std::string where = std::string(source) + (line > 0 ? ":" + std::to_string(line) : "");
    throw SpecError(where + ": " + e.what(), e.path, line);
  }
}

Spec load_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError(path.string() + ": cannot read the file", "", 0);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), path.string());
}

namespace {

// What to_json and global_values share: the node selectors by role, the images and the network.
json node_selectors(const Spec& spec) {
  json out = json::object();
  for (const auto& [role, selector] : spec.nodes) out[role] = selector;
  return out;
}

// `tag` is left out when empty unless `always_tag` (the charts' values always have the key).
json images_json(const ImageSettings& images, bool always_tag) {
  json out = {{"registry", images.registry},
              {"namespace", images.namespace_},
              {"tagSuffix", images.tag_suffix},
              {"pullPolicy", images.pull_policy}};
  if (always_tag || !images.tag.empty()) out["tag"] = images.tag;
  return out;
}

json network_json(const NetworkSettings& network) {
  return {{"internalAddress", network.internal_address},
          {"externalAddress", network.external_address},
          {"interface", network.interface_},
          {"externalInterface", network.external_interface}};
}

}  // namespace

json to_json(const Spec& spec) {
  json services = json::object();
  for (const auto& [name, service] : spec.services) {
    services[name] = {{"enabled", service.enabled}, {"values", service.values}};
  }
  json out = {{"apiVersion", kApiVersion},
              {"kind", kKind},
              {"metadata", {{"name", spec.name}, {"namespace", spec.namespace_}}},
              {"spec",
               {{"release", spec.release},
                {"images", images_json(spec.images, false)},
                {"region", spec.region},
                {"passwordsSecret", spec.passwords_secret},
                {"network", network_json(spec.network)},
                {"nodes", node_selectors(spec)},
                {"services", services}}}};
  if (!spec.fencing.empty()) out["spec"]["fencing"] = spec.fencing;
  return out;
}

json global_values(const Spec& spec) {
  return {{"release", spec.release},
          {"image", images_json(spec.images, true)},
          {"region", spec.region},
          {"passwordsSecret", spec.passwords_secret},
          {"network", network_json(spec.network)},
          {"nodeSelector", node_selectors(spec)}};
}

}  // namespace kolla::spec
