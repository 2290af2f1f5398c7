#pragma once
// The local cluster: a real etcd, kube-apiserver, kube-controller-manager and kube-scheduler plus
// kwok simulating nodes and pods, each a detached process of its own, with its state in
// ${XDG_STATE_HOME:-~/.local/state}/kolla-kubernetes/clusters/<name>/ (contracts §8):
//   cluster.json  ports, options and what was started
//   kubeconfig    admin kubeconfig (client certificate in group system:masters)
//   kubeconfig-faulty  the same through the fault-injecting proxy (when asked for)
//   pki/          CA, serving and client certificates, the service-account key
//   logs/<component>.log, <component>.pid, etcd/ (data), kwok.yaml (Stages), volumes/

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cluster/nodes.hpp"

namespace kolla::cluster {

// ${XDG_STATE_HOME:-~/.local/state}/kolla-kubernetes/clusters
std::string clusters_root();
std::string cluster_dir(const std::string& name);

// The directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok:
// $KOLLA_K8S_BIN_DIR, else <tools>/k8s, else the cache scripts/build-k8s.sh fills. Throws
// std::runtime_error naming scripts/build-k8s.sh when a binary is missing.
std::string find_k8s_bin_dir();

struct UpOptions {
  std::optional<int> nodes;          // default 1 (all-in-one)
  std::optional<std::string> roles;  // see plan_nodes()
  std::vector<Taint> taints;
  std::optional<std::string> profile;      // profile file; default: <source>/profiles/default.yaml
  std::optional<double> time_scale;        // default 1
  std::string kubeconfig_out;              // also write the admin kubeconfig here
  std::optional<std::string> fault_proxy;  // fault spec; starts the proxy
  int volumes = 64;                        // pre-created PersistentVolumes
  std::chrono::seconds timeout{300};
};

struct UpResult {
  std::string kubeconfig;
  std::string faulty_kubeconfig;  // empty without a fault proxy
  bool reused = false;
  double seconds = 0;
  int nodes = 0;
};

struct ComponentStatus {
  std::string name;
  int pid = 0;
  bool running = false;
  std::string health;  // "ok", or what the probe answered
};

struct ClusterStatus {
  bool exists = false;
  std::string dir;
  std::string server;
  std::vector<ComponentStatus> components;
  int nodes = -1;  // -1: unknown (API server down)
  int nodes_ready = -1;
  std::vector<std::string> not_ready;  // names of nodes that are not Ready (up to 20)
};

class LocalCluster {
 public:
  explicit LocalCluster(std::string name);
  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }

  // Starts the cluster, or reuses the running one of this name (restarting a component that
  // died, adding nodes when asked for more). Throws std::runtime_error with the failing
  // component's log tail.
  UpResult up(const UpOptions& options);
  // Stops every process and removes the state directory. Idempotent.
  void down();
  ClusterStatus status() const;

 private:
  void remove_state();  // down() without the lock
  std::string name_;
  std::string dir_;
};

}  // namespace kolla::cluster
