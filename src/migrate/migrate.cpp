#include "migrate/migrate.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <sstream>

#include "common/redact.hpp"
#include "spec/spec.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::migrate {

namespace {

using nlohmann::json;

json parse_mapping(std::string_view text, std::string_view source) {
  json doc;
  try {
    doc = yaml::parse(text, source);
  } catch (const yaml::YamlError& e) {
    throw MigrateError(e.what());
  }
  if (doc.is_null()) doc = json::object();  // an empty or all-comment file
  if (!doc.is_object()) throw MigrateError(std::string(source) + ": must be a mapping of keys");
  return doc;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The value of a scalar as text (numbers and booleans as YAML writes them).
std::optional<std::string> scalar_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return std::to_string(value.get<long long>());
  if (value.is_number()) return value.dump();
  return std::nullopt;
}

// "{{ name }}" or "{{ name | bool }}": the variable a simple Jinja reference names.
std::optional<std::string> simple_reference(const std::string& text) {
  static const std::regex kRef(R"(^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(\|\s*bool\s*)?\}\}\s*$)");
  std::smatch m;
  if (std::regex_match(text, m, kRef)) return m[1].str();
  return std::nullopt;
}

bool is_template(const std::string& text) {
  return text.find("{{") != std::string::npos;
}

class Globals {
 public:
  explicit Globals(json doc) : doc_(std::move(doc)) {}

  bool has(const std::string& key) const { return doc_.contains(key) && !doc_[key].is_null(); }
  void use(const std::string& key) { used_.insert(key); }
  const std::set<std::string>& used() const { return used_; }
  const json& doc() const { return doc_; }
  std::vector<std::string>& warnings() { return warnings_; }

  void warn(const std::string& key, const std::string& message) {
    warnings_.push_back(key + ": " + message);
  }

  // A string setting: absent → nullopt; a template → warning and nullopt.
  std::optional<std::string> string(const std::string& key) {
    if (!has(key)) return std::nullopt;
    use(key);
    auto text = scalar_text(doc_[key]);
    if (!text) throw MigrateError(key + ": must be a string");
    if (is_template(*text)) {
      if (auto ref = simple_reference(*text); ref && ref != key) {
        if (auto resolved = string(*ref)) return resolved;
      }
      warn(key, "a Jinja expression is not evaluated; kolla-ansible's default is used");
      return std::nullopt;
    }
    return text;
  }

  // Ansible's `| bool`: yes/on/true/1 → true, no/off/false/0 → false.
  std::optional<bool> boolean(const std::string& key, int depth = 0) {
    if (!has(key)) return std::nullopt;
    use(key);
    const json& value = doc_[key];
    if (value.is_boolean()) return value.get<bool>();
    auto text = scalar_text(value);
    if (!text) throw MigrateError(key + ": must be yes or no");
    if (is_template(*text)) {
      auto ref = simple_reference(*text);
      if (ref && depth < 8 && *ref != key) {
        if (auto resolved = boolean(*ref, depth + 1)) return resolved;
        return resolve_default_(*ref);
      }
      warn(key, "a Jinja expression is not evaluated; kolla-ansible's default is used");
      return std::nullopt;
    }
    const std::string v = lower(*text);
    if (v == "yes" || v == "on" || v == "true" || v == "1" || v == "y") return true;
    if (v == "no" || v == "off" || v == "false" || v == "0" || v == "n" || v.empty()) return false;
    throw MigrateError(key + ": '" + *text + "' is not yes or no");
  }

  std::function<bool(const std::string&)> resolve_default_;

 private:
  json doc_;
  std::set<std::string> used_;
  std::vector<std::string> warnings_;
};

// kolla-ansible's kolla_base_distro_version defaults per distribution.
std::string default_distro_version(const std::string& distro, const std::string& release) {
  if (distro == "ubuntu") return release >= "2025.1" || release == "master" ? "noble" : "jammy";
  if (distro == "debian") return "bookworm";
  if (distro == "rocky" || distro == "centos") return "9";
  return "";
}

}  // namespace

const std::vector<std::string>& supported_services() {
  static const std::vector<std::string> services = {
      "cinder",    "glance",  "heat", "horizon",     "keystone",  "mariadb",
      "memcached", "neutron", "nova", "openvswitch", "placement", "rabbitmq"};
  return services;
}

GlobalsImport import_globals(std::string_view text, std::string_view source,
                             const ImportOptions& options) {
  Globals g(parse_mapping(text, source));
  GlobalsImport result;

  // enable_* with kolla-ansible's defaults, following simple references between them.
  std::map<std::string, bool> memo;
  std::set<std::string> resolving;
  std::function<bool(const std::string&)> enabled_var;
  auto plugin_agent = [&g]() {
    return g.has("neutron_plugin_agent") ? g.string("neutron_plugin_agent").value_or("openvswitch")
                                         : std::string("openvswitch");
  };
  // The default of a variable as kolla-ansible's group_vars/all.yml defines it.
  std::function<bool(const std::string&)> default_of = [&](const std::string& var) -> bool {
    if (var == "enable_openstack_core" || var == "enable_mariadb" || var == "enable_memcached" ||
        var == "enable_rabbitmq") {
      return true;
    }
    if (var == "enable_keystone" || var == "enable_glance" || var == "enable_nova" ||
        var == "enable_neutron" || var == "enable_heat" || var == "enable_horizon") {
      return enabled_var("enable_openstack_core");
    }
    if (var == "enable_placement") return enabled_var("enable_nova");
    if (var == "enable_openvswitch") {
      return enabled_var("enable_neutron") && plugin_agent() != "linuxbridge";
    }
    return false;  // enable_cinder and every other optional service
  };
  enabled_var = [&](const std::string& var) -> bool {
    if (auto it = memo.find(var); it != memo.end()) return it->second;
    if (!resolving.insert(var).second) return default_of(var);  // a reference loop
    std::optional<bool> value = g.boolean(var);
    bool out = value.value_or(default_of(var));
    resolving.erase(var);
    memo[var] = out;
    return out;
  };
  g.resolve_default_ = [&](const std::string& var) { return enabled_var(var); };

  json services = json::object();
  for (const auto& service : supported_services()) {
    if (enabled_var("enable_" + service)) {
      services[service] = json::object();
      result.enabled.push_back(service);
    } else {
      result.disabled.push_back(service);
    }
  }
  g.use("enable_openstack_core");
  if (result.enabled.empty()) {
    throw MigrateError(std::string(source) +
                       ": no supported service is enabled (supported: "
                       "mariadb, rabbitmq, memcached, keystone, glance, placement, nova, "
                       "openvswitch, neutron, cinder, heat, horizon)");
  }

  const std::string agent = plugin_agent();
  g.use("neutron_plugin_agent");
  if (g.has("neutron_plugin_agent") && agent != "openvswitch") {
    g.warn("neutron_plugin_agent",
           "'" + agent + "' is not supported; the neutron chart runs the Open vSwitch agent");
  }

  json spec = json::object();
  const std::string release = g.string("openstack_release").value_or("2025.1");
  if (!g.has("openstack_release")) {
    result.warnings.push_back("openstack_release: not set; using 2025.1");
  }
  spec["release"] = release;

  json images = json::object();
  images["registry"] = g.string("docker_registry").value_or("quay.io");
  images["namespace"] = g.string("docker_namespace").value_or("openstack.kolla");
  if (auto suffix = g.string("openstack_tag_suffix")) {
    std::string s = *suffix;
    if (!s.empty() && s.front() == '-') s.erase(0, 1);
    images["tagSuffix"] = s;
  } else {
    const std::string distro = g.string("kolla_base_distro").value_or("rocky");
    std::string version = g.string("kolla_base_distro_version").value_or("");
    if (version.empty()) version = default_distro_version(distro, release);
    if (version.empty()) {
      g.warn("kolla_base_distro", "'" + distro +
                                      "' has no known default version; set "
                                      "kolla_base_distro_version");
      images["tagSuffix"] = distro;
    } else {
      images["tagSuffix"] = distro + "-" + version;
    }
  }
  if (auto tag = g.string("openstack_tag")) images["tag"] = *tag;
  images["pullPolicy"] = "IfNotPresent";
  spec["images"] = images;

  spec["region"] = g.string("openstack_region_name").value_or("RegionOne");
  spec["passwordsSecret"] = "openstack-passwords";

  json network = json::object();
  const auto internal = g.string("kolla_internal_vip_address");
  if (internal) network["internalAddress"] = *internal;
  // kolla-ansible: kolla_external_vip_address defaults to kolla_internal_vip_address.
  if (auto external = g.string("kolla_external_vip_address")) {
    network["externalAddress"] = *external;
  } else if (internal) {
    network["externalAddress"] = *internal;
  }
  network["interface"] = g.string("network_interface").value_or("eth0");
  std::string external_interface = g.string("neutron_external_interface").value_or("eth1");
  if (auto comma = external_interface.find(','); comma != std::string::npos) {
    g.warn("neutron_external_interface", "several interfaces given; only the first (" +
                                             external_interface.substr(0, comma) + ") is used");
    external_interface = external_interface.substr(0, comma);
  }
  network["externalInterface"] = external_interface;
  spec["network"] = network;
  spec["services"] = services;

  // Everything not mapped, in key order.
  for (const auto& [key, value] : g.doc().items()) {
    if (g.used().contains(key)) continue;
    static const std::regex kEnable("^enable_([a-z0-9_]+)$");
    std::smatch m;
    if (std::regex_match(key, m, kEnable)) {
      std::optional<bool> on;
      try {
        on = g.boolean(key);
      } catch (const MigrateError&) {
        on = std::nullopt;
      }
      g.warn(key, on.value_or(false)
                      ? "'" + m[1].str() + "' is not supported by kolla-kubernetes; not deployed"
                      : "not supported by kolla-kubernetes; ignored");
    } else {
      g.warn(key, "not supported by kolla-kubernetes; ignored");
    }
  }
  for (auto& w : g.warnings()) result.warnings.push_back(std::move(w));
  std::stable_sort(result.warnings.begin(), result.warnings.end());

  result.deployment = {{"apiVersion", spec::kApiVersion},
                       {"kind", spec::kKind},
                       {"metadata", {{"name", options.name}, {"namespace", options.namespace_}}},
                       {"spec", spec}};
  try {
    (void)spec::from_json(result.deployment);
  } catch (const spec::SpecError& e) {
    throw MigrateError(std::string(source) + ": the imported deployment is invalid: " + e.what());
  }
  return result;
}

std::string GlobalsImport::to_yaml(std::string_view source) const {
  std::ostringstream out;
  out << "# Imported from kolla-ansible's " << source << " by kollakube import.\n";
  if (!disabled.empty()) {
    out << "# Not enabled there (add them under services: to deploy them):";
    for (const auto& s : disabled) out << ' ' << s;
    out << "\n";
  }
  out << yaml::emit(deployment);
  return out.str();
}

PasswordsImport import_passwords(std::string_view text, std::string_view source,
                                 const std::set<std::string>& wanted,
                                 const std::string& secret_name, const std::string& namespace_) {
  json doc;
  try {
    doc = yaml::parse(text, source);
  } catch (const yaml::YamlError& e) {
    // Only the position: a YAML error message may quote the line, i.e. a password.
    throw MigrateError(std::string(source) + ":" + std::to_string(e.line) + ":" +
                       std::to_string(e.column) + ": malformed YAML");
  }
  if (doc.is_null()) doc = json::object();
  if (!doc.is_object()) throw MigrateError(std::string(source) + ": must be a mapping of keys");
  PasswordsImport result;
  result.secret.name = secret_name;
  result.secret.namespace_ = namespace_;
  for (const auto& [key, value] : doc.items()) {
    if (value.is_string() || value.is_number() || value.is_boolean()) {
      // Numbers and booleans: as written in the file (YAML readers turn "0123" into 123 only
      // when unquoted; kolla-genpwd writes strings).
      std::string v = value.is_string() ? value.get<std::string>() : *scalar_text(value);
      if (!v.empty()) register_secret(v);
      if (!wanted.contains(key)) {
        result.unused.push_back(key);
      } else if (v.empty()) {
        result.empty.push_back(key);
      } else {
        result.secret.values[key] = v;
      }
    } else if (value.is_null()) {
      if (wanted.contains(key)) {
        result.empty.push_back(key);
      } else {
        result.unused.push_back(key);
      }
    } else {
      // Mappings (ssh keys: private_key/public_key) are not passwords the charts read.
      if (value.is_object()) {
        for (const auto& [sub, subvalue] : value.items()) {
          if (subvalue.is_string() && !subvalue.get<std::string>().empty()) {
            register_secret(subvalue.get<std::string>());
          }
        }
      }
      result.unused.push_back(key);
    }
  }
  for (const auto& key : wanted) {
    if (!doc.contains(key)) result.missing.push_back(key);
  }
  std::sort(result.unused.begin(), result.unused.end());
  std::sort(result.empty.begin(), result.empty.end());
  for (const auto& key : result.unused) {
    result.warnings.push_back(key + ": no kolla-kubernetes chart uses it; not copied");
  }
  for (const auto& key : result.empty) {
    result.warnings.push_back(key + ": has no value in " + std::string(source) +
                              "; kollakube genpwd generates one");
  }
  return result;
}

}  // namespace kolla::migrate
