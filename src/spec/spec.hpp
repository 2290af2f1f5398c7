#pragma once
// The OpenStackDeployment spec (docs/design/contracts.md §1): parsing, validation, defaults, and
// the `global:` chart values derived from it (§2).
//
// The same spec arrives as a YAML file (kollakube) or as the custom resource's JSON (operator):
// parse_yaml() and from_json() apply identical validation. Errors name the field path
// ("spec.services.nova.values: must be a mapping") and, for YAML, the file and line.

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::spec {

inline constexpr const char* kApiVersion = "kolla.openstack.org/v1alpha1";
inline constexpr const char* kKind = "OpenStackDeployment";

// An invalid or malformed spec. path is the field ("spec.services.nova.values"), empty for
// malformed YAML; line is 1-based when known, else 0. what() is the full one-line message.
struct SpecError : std::runtime_error {
  SpecError(const std::string& message, std::string field_path, int line_number)
      : std::runtime_error(message), path(std::move(field_path)), line(line_number) {}
  std::string path;
  int line;
};

struct ImageSettings {
  std::string registry = "quay.io";
  std::string namespace_ = "openstack.kolla";
  std::string tag;  // empty: <release>-<tagSuffix>
  std::string tag_suffix = "ubuntu-noble";
  std::string pull_policy = "IfNotPresent";  // Always, IfNotPresent or Never
};

struct NetworkSettings {
  std::string internal_address;  // kolla_internal_vip_address
  std::string external_address;  // kolla_external_vip_address
  std::string interface_ = "eth0";
  std::string external_interface = "eth1";
};

using NodeSelector = std::map<std::string, std::string>;

struct ServiceSpec {
  bool enabled = true;
  nlohmann::json values = nlohmann::json::object();  // merged over the chart's values.yaml
};

struct Spec {
  std::string name;                      // metadata.name (required)
  std::string namespace_ = "openstack";  // metadata.namespace
  std::string release = "2025.1";
  ImageSettings images;
  std::string region = "RegionOne";
  std::string passwords_secret = "openstack-passwords";
  NetworkSettings network;
  // Role → node selector. Defaults for controller, compute and network; a role given in the
  // spec replaces its default selector as a whole.
  std::map<std::string, NodeSelector> nodes = default_nodes();
  std::map<std::string, ServiceSpec> services;        // by chart name; at least one
  nlohmann::json fencing = nlohmann::json::object();  // spec.fencing, as given (see src/fencing)

  // Names of the enabled services, sorted.
  std::vector<std::string> enabled_services() const;
  bool is_enabled(const std::string& service) const;

  static std::map<std::string, NodeSelector> default_nodes();
};

// Parses and validates a spec document. source names the input in messages.
Spec parse_yaml(std::string_view text, std::string_view source = "<spec>");
// Reads a file and parses it; a missing/unreadable file is a SpecError too.
Spec load_file(const std::filesystem::path& path);

// From/to the custom resource's JSON (apiVersion, kind, metadata, spec; status is ignored).
Spec from_json(const nlohmann::json& document);
nlohmann::json to_json(const Spec& spec);

// The `global:` block every chart accepts (contracts §2), without the `global` key itself.
nlohmann::json global_values(const Spec& spec);

}  // namespace kolla::spec
