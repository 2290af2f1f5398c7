#pragma once
// Fence agents: the ways to switch a node off and to ask whether it is off.
//   CommandAgent  an argv template ({node}, {action} = off|status, {address}); the Secret's keys
//                 reach it as FENCE_<KEY> environment variables. Status: the output's word "off"
//                 or "on", or exit code 2 meaning off (the fence-agents convention).
//   IpmiAgent     ipmitool -I lanplus -H <address> -U <username> -E chassis power off|status; the
//                 password only in the environment (IPMI_PASSWORD), never in argv.
//   RedfishAgent  POST <endpoint><system>/Actions/ComputerSystem.Reset {"ResetType":"ForceOff"},
//                 GET <endpoint><system> → PowerState, HTTP basic auth, over libcurl.
// Every credential is registered with kolla::register_secret, and every message an agent returns
// or throws passes through redact().

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/process.hpp"
#include "fencing/config.hpp"

namespace kolla::fencing {

enum class PowerState { kOn, kOff, kUnknown };
std::string_view to_string(PowerState state);

class AgentError : public std::runtime_error {
 public:
  explicit AgentError(const std::string& message);  // redacts
};

// Secret data, decoded. Values are registered as secrets.
struct Credentials {
  std::map<std::string, std::string> values;
  std::string get(const std::string& key) const;
  std::string username() const { return get("username"); }
  std::string password() const { return get("password"); }
};

// From a v1 Secret (data base64-decoded, stringData taken as is). Throws std::invalid_argument on
// bad base64.
Credentials credentials_from_secret(const json& secret);
std::string base64_decode(std::string_view text);

// The node an agent acts on.
struct Target {
  std::string node;
  std::string address;  // the BMC address: annotation kolla.openstack.org/bmc-address or template
};

// Replaces {node}, {action} and {address} (and any other {key} in vars) in text.
std::string expand(const std::string& text, const std::map<std::string, std::string>& vars);

// "Chassis Power is off" → kOff; the words "off"/"on" decide; else kUnknown.
PowerState parse_power_output(std::string_view text);

class FenceAgent {
 public:
  virtual ~FenceAgent() = default;
  virtual std::string kind() const = 0;  // command, ipmi, redfish
  // Sends the power-off. Throws AgentError when the agent says it failed.
  virtual void power_off(const Target& target) = 0;
  // Queries the power state; kUnknown when the agent cannot tell. Throws AgentError when the
  // agent cannot be reached at all.
  virtual PowerState power_status(const Target& target) = 0;
};

using CommandRunner =
    std::function<ProcessResult(const std::vector<std::string>& argv, const RunOptions& options)>;
CommandRunner default_runner();

class CommandAgent final : public FenceAgent {
 public:
  CommandAgent(AgentConfig config, Credentials credentials,
               CommandRunner runner = default_runner());
  std::string kind() const override { return "command"; }
  void power_off(const Target& target) override;
  PowerState power_status(const Target& target) override;
  // The argv and environment of one action (for tests).
  std::vector<std::string> argv_for(const Target& target, const std::string& action) const;
  std::map<std::string, std::string> env() const;

 private:
  ProcessResult run(const Target& target, const std::string& action);
  AgentConfig config_;
  Credentials credentials_;
  CommandRunner runner_;
};

class IpmiAgent final : public FenceAgent {
 public:
  IpmiAgent(AgentConfig config, Credentials credentials, CommandRunner runner = default_runner());
  std::string kind() const override { return "ipmi"; }
  void power_off(const Target& target) override;
  PowerState power_status(const Target& target) override;
  std::vector<std::string> argv_for(const Target& target, const std::string& action) const;

 private:
  ProcessResult run(const Target& target, const std::string& action);
  AgentConfig config_;
  Credentials credentials_;
  CommandRunner runner_;
};

class RedfishAgent final : public FenceAgent {
 public:
  RedfishAgent(AgentConfig config, Credentials credentials);
  std::string kind() const override { return "redfish"; }
  void power_off(const Target& target) override;
  PowerState power_status(const Target& target) override;
  std::string system_url(const Target& target) const;

 private:
  AgentConfig config_;
  Credentials credentials_;
};

std::unique_ptr<FenceAgent> make_agent(const AgentConfig& config, Credentials credentials,
                                       CommandRunner runner = default_runner());

}  // namespace kolla::fencing
