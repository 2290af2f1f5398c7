#pragma once
// Lost nodes: a node whose Ready condition is not True (kubelet heartbeats stopped, or on the
// local cluster the label kolla.openstack.org/heartbeat=stopped) still has pods bound to it that
// the API reports as Ready for a while (or, on a simulated cluster, forever), so workload health
// alone does not notice. The service controller asks a NodeView which nodes are not Ready and
// which of its pods run there, and reports them (Degraded=True, reason NodeNotReady).
//
//   - NodeTracker: the production view. A Node informer feeds it (node_event_handlers); it keeps
//     the set of unready nodes, so asking costs nothing while every node is Ready (no API
//     request); the pods on an unready node are listed on demand (field selector
//     spec.nodeName).
//   - ClientNodeView: the same answers from an ObjectClient (lists Nodes and Pods on each call),
//     for tests.
//   - node_event_handlers: a node turning unready or Ready again (or an unready node deleted)
//     enqueues the OpenStackServices with pods on it, at once; heartbeats (status updates that
//     keep readiness) enqueue nothing.

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kube/informer.hpp"
#include "kube/resource.hpp"
#include "operator/controller.hpp"
#include "operator/object_client.hpp"

namespace kolla::op {

using kube::json;

// Whether the node's Ready condition is True.
bool node_ready(const json& node);
// Why the node is not Ready, e.g. "Ready=False (HeartbeatStopped)"; no condition message (it
// is free text from the kubelet).
std::string node_unready_reason(const json& node);

// Keeps of a Node only what the tracker reads (name, uid, resourceVersion and the Ready
// condition's type, status and reason): an informer transform, so a thousand cached nodes cost
// kilobytes, not megabytes.
void keep_node_readiness(json& node);

// The workload that owns a pod, as "Kind/name": Deployment (through its ReplicaSet and the
// pod-template-hash label), StatefulSet, DaemonSet, Job, else the owner itself; nullopt when the
// pod has no controller owner.
std::optional<std::string> pod_workload(const json& pod);
// Whether a pod has finished (Succeeded or Failed): it no longer needs its node.
bool pod_terminal(const json& pod);

class NodeView {
 public:
  virtual ~NodeView() = default;
  // Nodes not Ready: name → why (node_unready_reason). Usually empty.
  virtual std::map<std::string, std::string> unready_nodes() = 0;
  // Pods in namespace ns ("" every namespace) bound to node.
  virtual std::vector<json> pods_on(const std::string& ns, const std::string& node) = 0;
};

// One unready node and the workloads of a service that have pods on it.
struct LostNode {
  std::string node;
  std::string why;
  std::vector<std::string> workloads;  // "Kind/name", sorted, unique
};

// The unready nodes that run non-terminal pods of the given workloads ("Kind/name") in ns.
std::vector<LostNode> lost_nodes(NodeView& view, const std::string& ns,
                                 const std::set<std::string>& workloads);
// "node n1 not ready (Ready=False (HeartbeatStopped)): Deployment/keystone-api; node n2 ..."
std::string lost_nodes_message(const std::vector<LostNode>& lost);

class ClientNodeView final : public NodeView {
 public:
  explicit ClientNodeView(ObjectClient& client) : client_(client) {}
  std::map<std::string, std::string> unready_nodes() override;
  std::vector<json> pods_on(const std::string& ns, const std::string& node) override;

 private:
  ObjectClient& client_;
};

class NodeTracker final : public NodeView {
 public:
  using PodLister =
      std::function<std::vector<json>(const std::string& ns, const std::string& node)>;
  explicit NodeTracker(PodLister pods) : pods_(std::move(pods)) {}

  // Records a node as seen by the informer; true when its readiness changed (a new unready node,
  // a node turning unready or Ready again).
  bool observe(const json& node);
  // Forgets a deleted node; true when it was unready.
  bool forget(const json& node);

  std::map<std::string, std::string> unready_nodes() override;
  std::vector<json> pods_on(const std::string& ns, const std::string& node) override;

 private:
  PodLister pods_;
  std::mutex mutex_;
  std::map<std::string, std::string> unready_;
};

// Node informer events → the tracker, and on a readiness change the services with pods on the
// node are enqueued: the pods in ns ("" all) bound to it, each mapped by service_of_pod.
kube::EventHandlers node_event_handlers(
    Controller& services, NodeTracker& tracker, std::string ns,
    std::function<std::optional<std::string>(const json& pod)> service_of_pod);

}  // namespace kolla::op
