#pragma once
// Latency profiles of the local cluster: how long simulated pods take to become Ready, how long
// Jobs' pods run before they succeed, and how pods marked to fail fail. A profile is YAML of our
// own (profiles/default.yaml documents the format); it turns into kwok Stage objects.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/duration.hpp"

namespace kolla::cluster {

using Millis = std::chrono::milliseconds;

// The annotation that makes a pod fail (a Job's pod ends Failed, any other pod crash-loops).
inline constexpr std::string_view kFailAnnotation = "kolla.openstack.org/fail";
// The node label that stops a node's heartbeat: the node turns NotReady and stays so.
// The InternalIP kwok reports for a node (set on each node at creation; kwok's own --node-ip
// would give every node the same address, and none at all when unset).
inline constexpr std::string_view kNodeAddressAnnotation = "kolla.openstack.org/node-ip";
inline constexpr std::string_view kHeartbeatLabel = "kolla.openstack.org/heartbeat";
inline constexpr std::string_view kHeartbeatStopped = "stopped";
// The annotation kwok selects the nodes it manages by.
inline constexpr std::string_view kKwokNodeAnnotation = "kwok.x-k8s.io/node";

// Parses "20s", "1.5s", "500ms", "2m", "1m30s" or a bare number of seconds (kolla::parse_duration).
// Throws std::invalid_argument.
using kolla::parse_duration;

// Which pods a rule applies to. Every given condition must hold; an empty match matches nothing.
struct PodMatch {
  std::string image;                          // substring of any container's image
  std::map<std::string, std::string> labels;  // pod labels, all equal
  bool empty() const { return image.empty() && labels.empty(); }
};

struct LatencyRule {
  std::string name;  // [a-z0-9-]; names the generated Stages
  PodMatch match;
  std::optional<Millis> ready;     // non-Job pods: scheduled → Ready
  std::optional<Millis> complete;  // Jobs' pods: running → Succeeded
};

struct LatencyProfile {
  Millis pod_create{500};          // scheduled → Pending with an IP (containers creating)
  Millis ready{2000};              // non-Job pods no rule matches: → Ready
  Millis job_start{500};           // Jobs' pods: → Running
  Millis complete{5000};           // Jobs' pods no rule matches: Running → Succeeded
  Millis fail{3000};               // pods annotated to fail: → Failed / CrashLoopBackOff
  Millis delete_grace{0};          // terminating pods: → gone
  double jitter = 0.2;             // each delay grows by a random share in [0, jitter]
  std::vector<LatencyRule> rules;  // first match wins
};

// Parses a profile document. Throws std::invalid_argument with the offending key on bad input.
LatencyProfile parse_profile(std::string_view yaml_text);
LatencyProfile load_profile(const std::string& path);

// Node facts put into the simulated nodes' status by the node stages.
struct NodeCapacity {
  std::string cpu = "32";
  std::string memory = "128Gi";
  std::string pods = "250";
};

struct StageOptions {
  double time_scale = 1.0;  // multiplies every pod delay (not the node heartbeat)
  NodeCapacity capacity;
};

// The kwok Stage documents (kwok.x-k8s.io/v1alpha1) for nodes and pods, as one multi-document
// YAML stream usable as kwok's --config file. Deterministic for equal inputs.
std::string generate_stages(const LatencyProfile& profile, const StageOptions& options);

// The CEL expression that selects pods matching `match` (exposed for tests).
std::string cel_for_match(const PodMatch& match);

}  // namespace kolla::cluster
