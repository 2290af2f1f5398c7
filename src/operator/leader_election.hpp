#pragma once
// Leader election over a coordination.k8s.io/v1 Lease, after client-go's leaderelection:
//  - the leader renews spec.renewTime every retry period;
//  - a candidate takes the lease over when it is released (empty holderIdentity) or when the
//    record has not changed for leaseDurationSeconds as measured on the candidate's own
//    monotonic clock (so clock skew between machines does not matter);
//  - updates carry the resourceVersion read, so two candidates never both win;
//  - a leader that cannot renew within renew_deadline stops leading (and must stop acting);
//  - release() on shutdown empties holderIdentity so a successor need not wait.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "operator/clock.hpp"
#include "operator/object_client.hpp"

namespace kolla::op {

struct LeaseRecord {
  std::string holder_identity;
  int lease_duration_seconds = 0;
  std::string acquire_time;  // MicroTime text
  std::string renew_time;
  int lease_transitions = 0;

  static LeaseRecord from_lease(const json& lease);  // spec of a Lease object
  bool operator==(const LeaseRecord&) const = default;
};

enum class LeaseAction {
  kCreate,   // no lease exists: create it holding it
  kRenew,    // we hold it: renew
  kAcquire,  // someone else held it but it expired or was released: take it over
  kWait,     // someone else holds a live lease
};

std::string_view to_string(LeaseAction action);

// The pure decision. `current` is the lease's record (nullopt: no lease); `observed_at` is when
// this candidate first saw that exact record (its own monotonic clock).
LeaseAction decide_lease_action(const std::optional<LeaseRecord>& current,
                                const std::string& identity,
                                std::chrono::steady_clock::time_point observed_at,
                                std::chrono::steady_clock::time_point now);

struct LeaderElectionOptions {
  std::string namespace_;
  std::string name = "kolla-operator";
  std::string identity;  // unique per process, e.g. hostname_pid
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  std::function<void()> on_started_leading;
  std::function<void()> on_stopped_leading;  // leadership lost or released
};

class LeaderElector {
 public:
  LeaderElector(ObjectClient& client, LeaderElectionOptions options,
                const Clock& clock = SystemClock::instance());
  ~LeaderElector();
  LeaderElector(const LeaderElector&) = delete;
  LeaderElector& operator=(const LeaderElector&) = delete;

  // One step: read the lease, decide, write. Returns whether we hold the lease afterwards.
  // Calls the callbacks on transitions. Used by the loop and by tests.
  bool try_acquire_or_renew();

  void start();    // runs steps every retry period on a thread
  void stop();     // stops the thread and releases the lease when held
  void release();  // gives the lease up (holderIdentity emptied)
  bool is_leader() const { return leader_.load(); }
  const std::string& identity() const { return options_.identity; }

 private:
  void run();
  void set_leader(bool leader);
  json lease_object(const LeaseRecord& record, const std::optional<json>& existing) const;

  ObjectClient& client_;
  LeaderElectionOptions options_;
  const Clock& clock_;
  std::atomic<bool> leader_{false};
  std::optional<LeaseRecord> observed_;
  std::chrono::steady_clock::time_point observed_at_{};
  std::chrono::steady_clock::time_point last_renew_{};
  std::mutex mutex_;  // serializes steps
  std::mutex wait_mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

// hostname + "_" + pid, the default identity.
std::string default_leader_identity();

}  // namespace kolla::op
