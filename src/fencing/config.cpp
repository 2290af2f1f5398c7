#include "fencing/config.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "common/duration.hpp"

namespace kolla::fencing {

namespace {

std::string where(const std::string& field) {
  return "spec.fencing." + field;
}

std::string string_of(const json& j, const char* key, const std::string& fallback,
                      const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_string()) throw ConfigError(where(path + key) + ": must be a string");
  return j[key].get<std::string>();
}

bool bool_of(const json& j, const char* key, bool fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) throw ConfigError(where(path + key) + ": must be true or false");
  return j[key].get<bool>();
}

Millis duration_of(const json& j, const char* key, Millis fallback, const std::string& path) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return parse_duration(j[key]);
  } catch (const ConfigError& e) {
    throw ConfigError(where(path + key) + ": " + e.what());
  }
}

std::vector<std::string> strings_of(const json& j, const char* key, const std::string& path) {
  std::vector<std::string> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) throw ConfigError(where(path + key) + ": must be a list of strings");
  for (const auto& item : j[key]) {
    if (!item.is_string()) throw ConfigError(where(path + key) + ": must be a list of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

AgentConfig parse_agent(const std::string& name, const json& j) {
  const std::string path = "agents." + name + ".";
  if (!j.is_object()) throw ConfigError(where("agents." + name) + ": must be a mapping");
  AgentConfig a;
  a.name = name;
  const std::string type = string_of(j, "type", "", path);
  if (type == "command") {
    a.type = AgentType::kCommand;
  } else if (type == "ipmi") {
    a.type = AgentType::kIpmi;
  } else if (type == "redfish") {
    a.type = AgentType::kRedfish;
  } else {
    throw ConfigError(where(path + "type") + ": must be command, ipmi or redfish, not \"" + type +
                      "\"");
  }
  a.command = strings_of(j, "command", path);
  a.address = string_of(j, "address", "", path);
  a.interface = string_of(j, "interface", a.interface, path);
  a.ipmitool = string_of(j, "ipmitool", a.ipmitool, path);
  a.endpoint = string_of(j, "endpoint", "", path);
  a.system_path = string_of(j, "systemPath", a.system_path, path);
  a.insecure = bool_of(j, "insecure", false, path);
  a.ca_file = string_of(j, "caFile", "", path);
  a.credentials_secret = string_of(j, "credentialsSecret", "", path);
  a.timeout = duration_of(j, "timeout", a.timeout, path);
  switch (a.type) {
    case AgentType::kCommand:
      if (a.command.empty()) throw ConfigError(where(path + "command") + ": required");
      break;
    case AgentType::kIpmi:
      if (a.credentials_secret.empty()) {
        throw ConfigError(where(path + "credentialsSecret") + ": required for ipmi");
      }
      break;
    case AgentType::kRedfish:
      if (a.endpoint.empty()) throw ConfigError(where(path + "endpoint") + ": required");
      if (a.credentials_secret.empty()) {
        throw ConfigError(where(path + "credentialsSecret") + ": required for redfish");
      }
      break;
  }
  return a;
}

StorageConfig parse_storage(std::size_t index, const json& j) {
  const std::string path = "storage[" + std::to_string(index) + "].";
  if (!j.is_object()) throw ConfigError(where(path.substr(0, path.size() - 1)) + ": mapping");
  StorageConfig s;
  const std::string type = string_of(j, "type", "", path);
  if (type == "ceph-rbd") {
    s.type = StorageType::kCephRbd;
  } else if (type == "command") {
    s.type = StorageType::kCommand;
  } else {
    throw ConfigError(where(path + "type") + ": must be ceph-rbd or command, not \"" + type + "\"");
  }
  s.name = string_of(j, "name", type, path);
  s.command = strings_of(j, "command", path);
  s.pools = strings_of(j, "pools", path);
  if (j.contains("pool")) s.pools.push_back(string_of(j, "pool", "", path));
  s.rbd = string_of(j, "rbd", s.rbd, path);
  s.ceph = string_of(j, "ceph", s.ceph, path);
  s.ceph_user = string_of(j, "cephUser", s.ceph_user, path);
  s.credentials_secret = string_of(j, "credentialsSecret", "", path);
  s.monitors = string_of(j, "monitors", "", path);
  s.timeout = duration_of(j, "timeout", s.timeout, path);
  if (s.type == StorageType::kCommand && s.command.empty()) {
    throw ConfigError(where(path + "command") + ": required");
  }
  if (s.type == StorageType::kCephRbd && s.pools.empty()) {
    throw ConfigError(where(path + "pools") + ": at least one pool is required");
  }
  return s;
}

}  // namespace

Millis parse_duration(const json& value) {
  if (value.is_number()) {
    const double seconds = value.get<double>();
    if (!(seconds >= 0) || !std::isfinite(seconds)) throw ConfigError("must not be negative");
    return Millis(static_cast<long long>(std::llround(seconds * 1000.0)));
  }
  if (!value.is_string()) throw ConfigError("must be a duration such as \"30s\"");
  try {
    return kolla::parse_duration(value.get<std::string>());
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
}

Config parse_config(const json& j) {
  Config c;
  if (j.is_null()) return c;
  if (!j.is_object()) throw ConfigError("spec.fencing: must be a mapping");
  c.enabled = bool_of(j, "enabled", true, "");
  c.grace_period = duration_of(j, "gracePeriod", c.grace_period, "");
  if (j.contains("maxUnreadyShare")) {
    if (!j["maxUnreadyShare"].is_number()) {
      throw ConfigError(where("maxUnreadyShare") + ": must be a number");
    }
    c.max_unready_share = j["maxUnreadyShare"].get<double>();
    if (!(c.max_unready_share > 0 && c.max_unready_share <= 1)) {
      throw ConfigError(where("maxUnreadyShare") + ": must be in (0, 1]");
    }
  }
  if (j.contains("nodeSelector") && !j["nodeSelector"].is_null()) {
    if (!j["nodeSelector"].is_object()) {
      throw ConfigError(where("nodeSelector") + ": must be a mapping");
    }
    for (const auto& [k, v] : j["nodeSelector"].items()) {
      if (!v.is_string()) throw ConfigError(where("nodeSelector." + k) + ": must be a string");
      c.node_selector[k] = v.get<std::string>();
    }
  }
  c.opt_out_label = string_of(j, "optOutLabel", c.opt_out_label, "");
  c.unfence_label = string_of(j, "unfenceLabel", c.unfence_label, "");
  c.agent_label = string_of(j, "agentLabel", c.agent_label, "");
  if (j.contains("agentConfigMap") && !j["agentConfigMap"].is_null()) {
    const json& cm = j["agentConfigMap"];
    if (!cm.is_object()) throw ConfigError(where("agentConfigMap") + ": must be a mapping");
    c.agent_configmap_namespace = string_of(cm, "namespace", "", "agentConfigMap.");
    c.agent_configmap_name = string_of(cm, "name", "", "agentConfigMap.");
    if (c.agent_configmap_name.empty()) {
      throw ConfigError(where("agentConfigMap.name") + ": required");
    }
  }
  c.default_agent = string_of(j, "defaultAgent", "", "");
  c.credentials_namespace = string_of(j, "credentialsNamespace", c.credentials_namespace, "");
  if (c.agent_configmap_namespace.empty()) c.agent_configmap_namespace = c.credentials_namespace;
  if (j.contains("agents") && !j["agents"].is_null()) {
    if (!j["agents"].is_object()) throw ConfigError(where("agents") + ": must be a mapping");
    for (const auto& [name, agent] : j["agents"].items()) {
      c.agents[name] = parse_agent(name, agent);
    }
  }
  if (!c.default_agent.empty() && !c.agents.contains(c.default_agent)) {
    throw ConfigError(where("defaultAgent") + ": no agent named \"" + c.default_agent + "\"");
  }
  if (j.contains("storage") && !j["storage"].is_null()) {
    if (!j["storage"].is_array()) throw ConfigError(where("storage") + ": must be a list");
    for (std::size_t i = 0; i < j["storage"].size(); ++i) {
      c.storage.push_back(parse_storage(i, j["storage"][i]));
    }
  }
  if (j.contains("retry") && !j["retry"].is_null()) {
    c.retry_base = duration_of(j["retry"], "base", c.retry_base, "retry.");
    c.retry_max = duration_of(j["retry"], "max", c.retry_max, "retry.");
  }
  if (c.retry_base.count() <= 0) throw ConfigError(where("retry.base") + ": must be positive");
  if (c.retry_max < c.retry_base) throw ConfigError(where("retry.max") + ": below retry.base");
  if (j.contains("confirm") && !j["confirm"].is_null()) {
    c.confirm_timeout = duration_of(j["confirm"], "timeout", c.confirm_timeout, "confirm.");
    c.confirm_interval = duration_of(j["confirm"], "interval", c.confirm_interval, "confirm.");
  }
  c.force_delete_after = duration_of(j, "forceDeleteAfter", c.force_delete_after, "");
  c.use_lease = bool_of(j, "useLease", c.use_lease, "");
  if (c.enabled && c.agents.empty()) {
    throw ConfigError(where("agents") + ": at least one agent is required when enabled");
  }
  return c;
}

std::optional<json> fencing_block(const std::vector<json>& deployments) {
  std::vector<const json*> sorted;
  for (const auto& d : deployments) {
    if (d.contains("spec") && d["spec"].contains("fencing") && !d["spec"]["fencing"].is_null()) {
      sorted.push_back(&d);
    }
  }
  if (sorted.empty()) return std::nullopt;
  auto key = [](const json* d) {
    const json& m = (*d)["metadata"];
    return m.value("namespace", "") + "/" + m.value("name", "");
  };
  std::sort(sorted.begin(), sorted.end(),
            [&](const json* a, const json* b) { return key(a) < key(b); });
  return (*sorted.front())["spec"]["fencing"];
}

}  // namespace kolla::fencing
