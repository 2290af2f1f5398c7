#include "operator/leader_election.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>

namespace kolla::op {

namespace {
const GroupVersionKind& lease_gvk() {
  return kube::gvk::kLease;
}
}  // namespace

LeaseRecord LeaseRecord::from_lease(const json& lease) {
  LeaseRecord r;
  if (!lease.contains("spec") || !lease["spec"].is_object()) return r;
  const json& spec = lease["spec"];
  r.holder_identity = spec.value("holderIdentity", "");
  r.lease_duration_seconds = spec.value("leaseDurationSeconds", 0);
  r.acquire_time = spec.value("acquireTime", "");
  r.renew_time = spec.value("renewTime", "");
  r.lease_transitions = spec.value("leaseTransitions", 0);
  return r;
}

std::string_view to_string(LeaseAction action) {
  switch (action) {
    case LeaseAction::kCreate:
      return "create";
    case LeaseAction::kRenew:
      return "renew";
    case LeaseAction::kAcquire:
      return "acquire";
    case LeaseAction::kWait:
      break;
  }
  return "wait";
}

LeaseAction decide_lease_action(const std::optional<LeaseRecord>& current,
                                const std::string& identity,
                                std::chrono::steady_clock::time_point observed_at,
                                std::chrono::steady_clock::time_point now) {
  if (!current) return LeaseAction::kCreate;
  if (current->holder_identity == identity) return LeaseAction::kRenew;
  if (current->holder_identity.empty()) return LeaseAction::kAcquire;
  const auto duration = std::chrono::seconds(current->lease_duration_seconds);
  if (observed_at + duration <= now) return LeaseAction::kAcquire;
  return LeaseAction::kWait;
}

LeaderElector::LeaderElector(ObjectClient& client, LeaderElectionOptions options,
                             const Clock& clock)
    : client_(client), options_(std::move(options)), clock_(clock) {
  if (options_.identity.empty()) options_.identity = default_leader_identity();
}

LeaderElector::~LeaderElector() {
  stop();
}

json LeaderElector::lease_object(const LeaseRecord& record,
                                 const std::optional<json>& existing) const {
  json lease =
      existing ? *existing
               : json{{"apiVersion", "coordination.k8s.io/v1"},
                      {"kind", "Lease"},
                      {"metadata", {{"name", options_.name}, {"namespace", options_.namespace_}}}};
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  json spec = {{"holderIdentity", record.holder_identity},
               {"leaseDurationSeconds", record.lease_duration_seconds},
               {"leaseTransitions", record.lease_transitions}};
  if (!record.acquire_time.empty()) spec["acquireTime"] = record.acquire_time;
  if (!record.renew_time.empty()) spec["renewTime"] = record.renew_time;
  lease["spec"] = spec;
  return lease;
}

bool LeaderElector::try_acquire_or_renew() {
  std::lock_guard lock(mutex_);
  const auto now = clock_.now();
  const std::string now_text = format_micro_time(clock_.wall());
  try {
    std::optional<json> existing = client_.get(lease_gvk(), options_.namespace_, options_.name);
    std::optional<LeaseRecord> current;
    if (existing) current = LeaseRecord::from_lease(*existing);
    if (current != observed_) {
      observed_ = current;
      observed_at_ = now;
    }
    const LeaseAction action = decide_lease_action(current, options_.identity, observed_at_, now);
    LeaseRecord next;
    next.holder_identity = options_.identity;
    next.lease_duration_seconds = static_cast<int>(options_.lease_duration.count());
    next.renew_time = now_text;
    switch (action) {
      case LeaseAction::kWait:
        set_leader(false);
        return false;
      case LeaseAction::kCreate:
        next.acquire_time = now_text;
        client_.create(lease_object(next, std::nullopt));
        break;
      case LeaseAction::kRenew:
        next.acquire_time = current->acquire_time.empty() ? now_text : current->acquire_time;
        next.lease_transitions = current->lease_transitions;
        client_.update(lease_object(next, existing));
        break;
      case LeaseAction::kAcquire:
        next.acquire_time = now_text;
        next.lease_transitions = current->lease_transitions + 1;
        client_.update(lease_object(next, existing));
        spdlog::info("leader election: took over lease {}/{} from '{}'", options_.namespace_,
                     options_.name, current->holder_identity);
        break;
    }
    observed_ = next;
    observed_at_ = now;
    last_renew_ = now;
    set_leader(true);
    return true;
  } catch (const kube::ApiError& e) {
    // Conflict / AlreadyExists: another candidate wrote first. Anything else: the API is
    // unreachable. A leader keeps leading until the renew deadline passes.
    if (leader_.load() && now - last_renew_ < options_.renew_deadline) {
      spdlog::warn("leader election: renewing lease {}/{} failed: {}", options_.namespace_,
                   options_.name, e.what());
      return true;
    }
    if (leader_.load()) {
      spdlog::error("leader election: lease {}/{} not renewed within {}s: {}", options_.namespace_,
                    options_.name, options_.renew_deadline.count(), e.what());
    }
    set_leader(false);
    return false;
  }
}

void LeaderElector::set_leader(bool leader) {
  const bool was = leader_.exchange(leader);
  if (was == leader) return;
  if (leader) {
    spdlog::info("leader election: {} is now the leader ({}/{})", options_.identity,
                 options_.namespace_, options_.name);
    if (options_.on_started_leading) options_.on_started_leading();
  } else {
    spdlog::warn("leader election: {} stopped leading ({}/{})", options_.identity,
                 options_.namespace_, options_.name);
    if (options_.on_stopped_leading) options_.on_stopped_leading();
  }
}

void LeaderElector::release() {
  std::lock_guard lock(mutex_);
  if (!leader_.load()) return;
  try {
    std::optional<json> existing = client_.get(lease_gvk(), options_.namespace_, options_.name);
    if (existing && LeaseRecord::from_lease(*existing).holder_identity == options_.identity) {
      LeaseRecord released = LeaseRecord::from_lease(*existing);
      released.holder_identity.clear();
      released.lease_duration_seconds = 1;
      released.renew_time = format_micro_time(clock_.wall());
      client_.update(lease_object(released, existing));
    }
  } catch (const kube::ApiError& e) {
    spdlog::warn("leader election: releasing lease {}/{} failed: {}", options_.namespace_,
                 options_.name, e.what());
  }
  set_leader(false);
}

void LeaderElector::start() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void LeaderElector::run() {
  for (;;) {
    try_acquire_or_renew();
    std::unique_lock lock(wait_mutex_);
    if (cv_.wait_for(lock, options_.retry_period, [this] { return stopping_; })) return;
  }
}

void LeaderElector::stop() {
  {
    std::lock_guard lock(wait_mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  release();
}

std::string default_leader_identity() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
  return std::string(host.data()) + "_" + std::to_string(getpid());
}

}  // namespace kolla::op
