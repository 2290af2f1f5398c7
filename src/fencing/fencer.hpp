#pragma once
// The fencing controller (issue 8): watches Nodes; a node NotReady (or with a stale Lease) longer
// than the grace period is fenced through its agent, its storage released, the
// node.kubernetes.io/out-of-service taint added (Kubernetes then force-deletes its pods and
// detaches their volumes), and pods still stuck Terminating are force-deleted. Each step is
// recorded on the Node's annotations before and after it runs (decision.hpp), so a restarted
// controller resumes without fencing twice; each is also an Event on the Node.
//
// Safety: a candidate is re-read from the API server before anything happens; nothing happens
// while more than maxUnreadyShare of the nodes is NotReady, or on a node with the opt-out label;
// a power-off counts only once the agent reports the power state off — else no further step,
// a Warning Event, and a retry with capped exponential backoff. A node that comes back is
// unfenced only on request: the unfence label, or unfence() (kollakube node unfence NAME).

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "fencing/agent.hpp"
#include "fencing/config.hpp"
#include "fencing/decision.hpp"
#include "fencing/storage.hpp"
#include "operator/clock.hpp"
#include "operator/controller.hpp"
#include "operator/events.hpp"
#include "operator/object_client.hpp"

namespace kolla::kube {
class Informer;
}

namespace kolla::fencing {

using ConfigProvider = std::function<Config()>;
using AgentFactory =
    std::function<std::unique_ptr<FenceAgent>(const AgentConfig& config, Credentials credentials)>;
using StorageFactory = std::function<std::unique_ptr<StorageRelease>(const StorageConfig& config,
                                                                     Credentials credentials)>;
// Deletes a pod with grace period 0; NotFound is not an error.
using ForceDelete = std::function<void(const std::string& ns, const std::string& name)>;

struct FencingDeps {
  AgentFactory agents;       // null: make_agent
  StorageFactory storage;    // null: make_storage_release
  ForceDelete force_delete;  // null: force_delete_for(client)
};

// Over kube::Client (gracePeriodSeconds=0) for a KubeObjectClient, else ObjectClient::remove.
ForceDelete force_delete_for(op::ObjectClient& client);

// The agent chosen for a node: its agentLabel value, else the agentConfigMap's entry for the
// node, else defaultAgent, else the only agent configured. Empty when none (the reason in why).
std::string choose_agent(const json& node, const Config& config, const json& agent_configmap,
                         std::string& why);

inline constexpr const char* kNodeLeaseNamespace = "kube-node-lease";

class FencingReconciler {
 public:
  FencingReconciler(op::ObjectClient& client, op::EventRecorder& events, ConfigProvider config,
                    FencingDeps deps = {}, const op::Clock& clock = op::SystemClock::instance());

  // key: a Node name.
  op::Result reconcile(const std::string& node);

 private:
  op::Result power_off(json node, FenceRecord record, const Config& config);
  op::Result check_power(json node, FenceRecord record, const Config& config);
  op::Result release_storage(json node, FenceRecord record, const Config& config);
  op::Result taint(json node, FenceRecord record, const std::string& reason);
  op::Result force_delete(const json& node, const std::vector<json>& stuck);
  // Writes the record (and whatever else changed in node) with the node's resourceVersion.
  json save(json node, const FenceRecord& record);
  // The machine is off (confirmed or found so): record it, with a NodePoweredOff Event.
  op::Result record_powered_off(json node, FenceRecord record,
                                std::chrono::system_clock::time_point now,
                                const std::string& message, const std::string& event);
  std::unique_ptr<FenceAgent> agent_for(const FenceRecord& record, const Config& config,
                                        std::string& error);
  Credentials credentials(const std::string& secret, const Config& config);
  Target target_of(const json& node, const AgentConfig& agent) const;
  // Backs the attempt off after a failure: Warning Event, next attempt recorded.
  op::Result fail_attempt(json node, FenceRecord record, const Config& config,
                          const std::string& reason, const std::string& message);

  op::ObjectClient& client_;
  op::EventRecorder& events_;
  ConfigProvider config_;
  FencingDeps deps_;
  const op::Clock& clock_;
  std::mutex mutex_;
  std::set<std::string> warned_back_;  // fenced nodes seen Ready again (warned once)
};

// For the CLI (`kollakube node list-fenced`, `kollakube node unfence NAME`).
struct FencedNode {
  std::string name;
  std::string state;  // pending, powered-off, storage-released, tainted, done
  std::string agent;
  int attempts = 0;
  std::string started;
  std::string updated;
  std::string message;
  bool ready = false;
  bool tainted = false;  // carries node.kubernetes.io/out-of-service
};

// Nodes with a fence record or the out-of-service taint, by name.
std::vector<FencedNode> list_fenced(op::ObjectClient& client);

struct UnfenceResult {
  bool unfenced = false;
  std::string message;
};

// Removes the out-of-service taint, the fence annotations and the unfence label — only when the
// node is Ready (else refused with the reason). events may be null.
UnfenceResult unfence(op::ObjectClient& client, const std::string& node,
                      op::EventRecorder* events = nullptr,
                      const std::string& unfence_label = "kolla.openstack.org/unfence");

// Runs the reconciler: a Node informer feeding a Controller (one worker: fencing is rare and
// serial is safest). For kolla-operator's manager and the end-to-end tests.
class FencingController {
 public:
  FencingController(std::shared_ptr<kube::Client> client, op::ObjectClient& objects,
                    op::EventRecorder& events, ConfigProvider config, FencingDeps deps = {},
                    op::ControllerMetrics* metrics = nullptr);
  ~FencingController();
  FencingController(const FencingController&) = delete;
  FencingController& operator=(const FencingController&) = delete;

  void start();
  void stop();
  bool has_synced() const;
  op::Controller& controller() { return controller_; }

 private:
  FencingReconciler reconciler_;
  op::Controller controller_;
  std::unique_ptr<kube::Informer> informer_;
  bool started_ = false;
};

}  // namespace kolla::fencing
