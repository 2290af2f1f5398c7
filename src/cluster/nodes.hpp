#pragma once
// The simulated nodes of the local cluster (their roles, labels, capacity and taints) and the
// storage that lets PersistentVolumeClaims bind.

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kolla::cluster {

struct Taint {
  std::string role;  // controller, compute, network
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
};

// "ROLE:KEY[=VALUE]:EFFECT", e.g. "controller:node-role.kubernetes.io/control-plane:NoSchedule".
Taint parse_taint(const std::string& text);

struct NodePlan {
  std::string name;
  std::string address;  // the node's InternalIP (unique; pods with hostNetwork take it)
  bool controller = false;
  bool compute = false;
  bool network = false;
  std::vector<Taint> taints;
};

// Lays out `nodes` nodes, node-<i> at 172.30.<i / 250>.<i % 250 + 1>. roles: "" for the default,
// else "controller=C,network=M,compute=K" (counts of distinct nodes, laid out in that order; nodes
// beyond the sum are compute nodes, and the node count grows to the sum when it is larger).
// Default: one node has every role (all-in-one); two or more nodes: 1 controller (3 from 5 nodes
// on) that also carries the network role, every other node a compute node.
// Throws std::invalid_argument on a bad roles string or a count below 1.
std::vector<NodePlan> plan_nodes(int nodes, const std::string& roles,
                                 const std::vector<Taint>& taints = {});

// The Node object of one plan (what `cluster up` applies server-side).
nlohmann::json node_object(const NodePlan& plan);
// Node manifests (multi-document YAML) for plans[begin, end).
std::string node_manifests(const std::vector<NodePlan>& plans, size_t begin, size_t end);

// The default StorageClass "standard" (kubernetes.io/no-provisioner, Immediate binding) and
// `volumes` hostPath PersistentVolumes under `host_dir` that the PV controller binds claims to:
// the objects (StorageClass first), and the same as multi-document YAML.
std::vector<nlohmann::json> storage_objects(int volumes, const std::string& host_dir);
std::string storage_manifests(int volumes, const std::string& host_dir);

inline constexpr const char* kStorageClass = "standard";

}  // namespace kolla::cluster
