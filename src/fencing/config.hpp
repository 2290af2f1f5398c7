#pragma once
// Configuration of the fencing controller: the `spec.fencing` block of an OpenStackDeployment
// (see docs in fencing/README.md and the CRD fragment proposed with issue 8).
//
//   fencing:
//     enabled: true
//     gracePeriod: 60s            # NotReady (or Lease stale) this long → candidate
//     maxUnreadyShare: 0.4        # refuse to act when more than this share of nodes is NotReady
//     nodeSelector: {kolla.openstack.org/compute: "true"}   # nodes considered (guard counts these)
//     optOutLabel: kolla.openstack.org/fencing-opt-out      # node label "true": never fenced
//     unfenceLabel: kolla.openstack.org/unfence             # node label "true": unfence when Ready
//     agentLabel: kolla.openstack.org/fence-agent           # node label value: agent name
//     agentConfigMap: {namespace: openstack, name: fencing-agents}  # data: <node>: <agent>
//     defaultAgent: ipmi
//     credentialsNamespace: openstack
//     agents:
//       ipmi:    {type: ipmi, address: "{node}-bmc.example", credentialsSecret: bmc}
//       redfish: {type: redfish, endpoint: "https://{node}-bmc", systemPath: /redfish/v1/Systems/1,
//                 credentialsSecret: bmc, insecure: false}
//       script:  {type: command, command: ["/usr/local/bin/fence", "{node}", "{action}"],
//                 credentialsSecret: fence-script}
//     storage:
//       - {type: ceph-rbd, pool: volumes, credentialsSecret: ceph-fencing}
//       - {type: command, name: nfs, command: ["/usr/local/bin/release", "{node}"]}
//     retry: {base: 10s, max: 5m}
//     confirm: {timeout: 60s, interval: 5s}
//     forceDeleteAfter: 30s       # after the taint, force-delete pods still Terminating
//     useLease: true              # a stale kube-node-lease Lease counts like NotReady

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kolla::fencing {

using json = nlohmann::json;
using Millis = std::chrono::milliseconds;

class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

enum class AgentType { kCommand, kIpmi, kRedfish };

struct AgentConfig {
  std::string name;
  AgentType type = AgentType::kCommand;
  // command: argv template; {node}, {action} (off|status) and {address} are substituted.
  std::vector<std::string> command;
  // ipmi: BMC host template ({node}); a node annotation kolla.openstack.org/bmc-address wins.
  std::string address;
  std::string interface = "lanplus";  // ipmitool -I
  std::string ipmitool = "ipmitool";
  // redfish: base URL template ({node}, {address}), and the ComputerSystem's path.
  std::string endpoint;
  std::string system_path = "/redfish/v1/Systems/1";
  bool insecure = false;  // skip TLS verification (BMCs with self-signed certificates)
  std::string ca_file;    // CA bundle for the BMC
  // Secret (in credentialsNamespace) holding username/password (ipmi, redfish) or any keys,
  // handed to a command as FENCE_<KEY> environment variables.
  std::string credentials_secret;
  Millis timeout{30'000};  // one agent call
};

enum class StorageType { kCephRbd, kCommand };

struct StorageConfig {
  std::string name;
  StorageType type = StorageType::kCommand;
  std::vector<std::string> command;  // {node}, {address}
  // ceph-rbd: pools whose images' locks held by the node are broken.
  std::vector<std::string> pools;
  std::string rbd = "rbd";
  std::string ceph = "ceph";
  std::string ceph_user = "admin";  // --id
  std::string credentials_secret;   // key "keyring" (file contents) or "key"
  std::string monitors;             // -m, optional
  Millis timeout{60'000};
};

struct Config {
  bool enabled = false;
  Millis grace_period{60'000};
  double max_unready_share = 0.4;
  std::map<std::string, std::string> node_selector;
  std::string opt_out_label = "kolla.openstack.org/fencing-opt-out";
  std::string unfence_label = "kolla.openstack.org/unfence";
  std::string agent_label = "kolla.openstack.org/fence-agent";
  std::string agent_configmap_namespace;
  std::string agent_configmap_name;
  std::string default_agent;
  std::string credentials_namespace = "openstack";
  std::map<std::string, AgentConfig> agents;
  std::vector<StorageConfig> storage;
  Millis retry_base{10'000};
  Millis retry_max{300'000};
  Millis confirm_timeout{60'000};
  Millis confirm_interval{5'000};
  Millis force_delete_after{30'000};
  bool use_lease = true;
};

// Parses a JSON number of seconds, or a string kolla::parse_duration reads ("30s", "1.5s",
// "500ms", "2m", "1h", "1m30s", "3"). Throws ConfigError.
Millis parse_duration(const json& value);

// Parses the spec.fencing block (null → defaults, disabled). Throws ConfigError naming the field.
// Unknown agent types, agents without a command/address/endpoint, a defaultAgent that is not
// defined, and a share outside (0, 1] are errors.
Config parse_config(const json& fencing);

// The block of the first OpenStackDeployment (by namespace/name order) that has spec.fencing.
// nullopt when none has one.
std::optional<json> fencing_block(const std::vector<json>& deployments);

}  // namespace kolla::fencing
