#pragma once
// The fencing controller's decisions as pure functions over JSON objects and a time, so that
// they are tested with fixtures and a fake clock:
//   node_health      Ready? since when not (Ready condition, or a stale kube-node-lease Lease)
//   evaluate_candidate  NotReady longer than the grace period, selected, not opted out
//   partition_guard  refuses when more than maxUnreadyShare of the selected nodes is NotReady
//   read_record      the fencing progress recorded on the Node's annotations
//   next_step        what to do next for one node
//
// Progress lives on the Node (annotations kolla.openstack.org/fence-*), written before and after
// every step, so that a restarted controller resumes where it stopped and never fences twice:
//   (none) → pending → powered-off → storage-released → tainted → done
// Unfencing (label or CLI) removes the annotations and the out-of-service taint, and only when
// the node is Ready again.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fencing/config.hpp"

namespace kolla::fencing {

using TimePoint = std::chrono::system_clock::time_point;

inline constexpr const char* kStateAnnotation = "kolla.openstack.org/fence-state";
inline constexpr const char* kAgentAnnotation = "kolla.openstack.org/fence-agent";
inline constexpr const char* kAttemptsAnnotation = "kolla.openstack.org/fence-attempts";
inline constexpr const char* kStartedAnnotation = "kolla.openstack.org/fence-started";
inline constexpr const char* kUpdatedAnnotation = "kolla.openstack.org/fence-updated";
inline constexpr const char* kRequestedAnnotation = "kolla.openstack.org/fence-requested";
inline constexpr const char* kNextAttemptAnnotation = "kolla.openstack.org/fence-next-attempt";
inline constexpr const char* kPoweredOffAnnotation = "kolla.openstack.org/fence-powered-off";
inline constexpr const char* kTaintedAnnotation = "kolla.openstack.org/fence-tainted";
inline constexpr const char* kMessageAnnotation = "kolla.openstack.org/fence-message";
// Failures of the current post-power-off step (storage release), for its backoff.
inline constexpr const char* kStepFailuresAnnotation = "kolla.openstack.org/fence-step-failures";
// Per-node BMC address for the ipmi and redfish agents ({address} in templates).
inline constexpr const char* kBmcAddressAnnotation = "kolla.openstack.org/bmc-address";
// Kubernetes' non-graceful node shutdown taint: the pod GC force-deletes the node's terminating
// pods and the attach-detach controller detaches their volumes.
inline constexpr const char* kOutOfServiceTaint = "node.kubernetes.io/out-of-service";
inline constexpr const char* kOutOfServiceValue = "nodeshutdown";

enum class FenceState { kNone, kPending, kPoweredOff, kStorageReleased, kTainted, kDone };

std::string_view to_string(FenceState state);
// "" → kNone; an unknown value → nullopt.
std::optional<FenceState> parse_state(std::string_view text);

struct NodeHealth {
  bool ready = true;
  std::optional<TimePoint> unready_since;  // set when not ready
  std::string reason;                      // e.g. "Ready=False (HeartbeatStopped)"
};

// Ready condition True → ready, unless use_lease and the node's Lease (may be null) was not
// renewed for longer than its leaseDurationSeconds (then unready since renewTime + duration).
// Not ready since: min(lastTransitionTime, lastHeartbeatTime) of the Ready condition (the node
// lifecycle controller moves False → Unknown later, which must not restart the clock).
// A node without a Ready condition is unready since its creation.
NodeHealth node_health(const json& node, const json& lease, bool use_lease);

bool matches_selector(const json& node, const std::map<std::string, std::string>& selector);
bool label_true(const json& node, const std::string& label);
std::string node_name(const json& node);

struct Candidacy {
  bool candidate = false;
  Millis wait{0};      // not yet a candidate but unready: time left in the grace period
  std::string reason;  // why (not)
};

Candidacy evaluate_candidate(const json& node, const json& lease, const Config& config,
                             TimePoint now);

struct Guard {
  bool allowed = true;
  int unready = 0;
  int total = 0;
  std::string message;
};

// Over the nodes matching config.node_selector (leases by node name, may be missing): allowed
// when unready / total <= max_unready_share.
Guard partition_guard(const std::vector<json>& nodes, const std::vector<json>& leases,
                      const Config& config, TimePoint now);

struct FenceRecord {
  FenceState state = FenceState::kNone;
  bool valid = true;  // false when the state annotation holds an unknown value
  std::string agent;
  int attempts = 0;       // power-off attempts sent
  int step_failures = 0;  // failures of the current later step
  std::optional<TimePoint> started;
  std::optional<TimePoint> updated;
  std::optional<TimePoint> requested;  // an unconfirmed power-off was sent at
  std::optional<TimePoint> next_attempt;
  std::optional<TimePoint> powered_off;
  std::optional<TimePoint> tainted;
  std::string message;
};

FenceRecord read_record(const json& node);
// The annotations of `record` (state kNone → every fence annotation removed), as the
// metadata.annotations entries to merge into the Node (null values remove).
json record_annotations(const FenceRecord& record);
// Applies record_annotations to node (in place) for an update.
void write_record(json& node, const FenceRecord& record);

bool has_out_of_service_taint(const json& node);
// Adds / removes the taint in node.spec.taints; returns whether anything changed.
bool add_out_of_service_taint(json& node, TimePoint now);
bool remove_out_of_service_taint(json& node);

// capped exponential backoff: base * 2^(attempts-1), at most max.
Millis retry_delay(const Config& config, int attempts);

enum class Action {
  kNothing,         // nothing to do (healthy, not selected, or done and waiting for unfence)
  kWait,            // check again after requeue_after
  kSuppressed,      // a candidate, but the partition guard refuses
  kStart,           // record pending
  kCancel,          // the node recovered before it was powered off: forget the attempt
  kCheckPower,      // a power-off is outstanding: query the power state
  kPowerOff,        // query the state, then send a power-off (a new attempt)
  kReleaseStorage,  // run the storage hooks
  kTaint,           // add the out-of-service taint
  kForceDelete,     // force-delete pods still Terminating on the node
  kFinish,          // record done
  kUnfence,         // the node is Ready and unfencing was asked for
};

std::string_view to_string(Action action);

struct NodeView {
  json node;
  json lease;  // null when none
  Guard guard;
  int pods_on_node = 0;  // pods bound to the node that are not yet gone
  int stuck_pods = 0;    // of them, with a deletionTimestamp
};

struct Decision {
  Action action = Action::kNothing;
  Millis requeue_after{0};  // 0: no timed re-check needed (events will trigger)
  std::string reason;
};

Decision next_step(const NodeView& view, const Config& config, TimePoint now);

}  // namespace kolla::fencing
