#include "fencing/fencer.hpp"

#include <gtest/gtest.h>

#include "fencing/test_util.hpp"
#include "operator/testing/fake_client.hpp"

namespace kolla::fencing {
namespace {

using namespace std::chrono_literals;
using op::testing::FakeClient;
using testing::make_node;

// Simulated machines behind a fake agent.
struct Machines {
  std::map<std::string, bool> on;
  std::map<std::string, int> off_calls;
  int status_calls = 0;
  bool fail_off = false;         // the agent reports an error
  bool ignore_off = false;       // the agent says yes but the machine stays on
  bool crash_after_off = false;  // the machine goes off, then the controller "crashes"
};

struct Crash : std::runtime_error {
  Crash() : std::runtime_error("simulated crash") {}
};

class FakeAgent final : public FenceAgent {
 public:
  explicit FakeAgent(Machines& m) : m_(m) {}
  std::string kind() const override { return "fake"; }
  void power_off(const Target& t) override {
    ++m_.off_calls[t.node];
    if (m_.fail_off) throw AgentError("BMC refused the login");
    if (!m_.ignore_off) m_.on[t.node] = false;
    if (m_.crash_after_off) throw Crash();
  }
  PowerState power_status(const Target& t) override {
    ++m_.status_calls;
    auto it = m_.on.find(t.node);
    if (it == m_.on.end()) return PowerState::kUnknown;
    return it->second ? PowerState::kOn : PowerState::kOff;
  }

 private:
  Machines& m_;
};

class FencingReconcilerTest : public ::testing::Test {
 protected:
  FencingReconcilerTest() : events_(client_, "kolla-operator", "test", clock_) {
    config_.enabled = true;
    config_.grace_period = 60s;
    config_.max_unready_share = 0.4;
    config_.confirm_interval = 2s;
    config_.confirm_timeout = 10s;
    config_.retry_base = 10s;
    config_.retry_max = 60s;
    config_.force_delete_after = 30s;
    config_.use_lease = false;
    AgentConfig agent;
    agent.name = "fake";
    agent.credentials_secret = "fence-creds";
    config_.agents["fake"] = agent;
    StorageConfig storage;
    storage.name = "test-storage";
    config_.storage.push_back(storage);
    client_.put({{"apiVersion", "v1"},
                 {"kind", "Secret"},
                 {"metadata", {{"name", "fence-creds"}, {"namespace", "openstack"}}},
                 {"data", {{"password", "ZmFrZS1wYXNzd29yZA=="}}}});
    for (const std::string n : {"n1", "n2", "n3", "n4"}) {
      client_.put(make_node(n, "True", "2024-12-01T00:00:00Z"));
      machines_.on[n] = true;
    }
  }

  FencingDeps deps() {
    FencingDeps d;
    d.agents = [this](const AgentConfig&, Credentials c) {
      seen_password_ = c.password();
      return std::make_unique<FakeAgent>(machines_);
    };
    d.storage = [this](const StorageConfig& s, Credentials) {
      struct Hook final : StorageRelease {
        Hook(std::string n, std::vector<std::string>& log, bool& fail)
            : name_(std::move(n)), log_(log), fail_(fail) {}
        std::string name() const override { return name_; }
        std::string release(const NodeInfo& node) override {
          if (fail_) throw StorageError("rbd: connection refused");
          log_.push_back(node.name);
          return "released";
        }
        std::string name_;
        std::vector<std::string>& log_;
        bool& fail_;
      };
      return std::make_unique<Hook>(s.name, released_, fail_storage_);
    };
    d.force_delete = [this](const std::string& ns, const std::string& name) {
      force_deleted_.push_back(ns + "/" + name);
      json pod = *client_.get(kube::gvk::kPod, ns, name);
      pod["metadata"].erase("finalizers");  // gracePeriodSeconds=0: gone whatever holds it
      client_.put(pod);
    };
    return d;
  }

  std::unique_ptr<FencingReconciler> make_reconciler() {
    return std::make_unique<FencingReconciler>(
        client_, events_, [this] { return config_; }, deps(), clock_);
  }

  void stop_heartbeat(const std::string& node) {
    client_.put(make_node(node, "False", op::format_time(clock_.wall())));
  }
  void set_ready_keep_meta(const std::string& name) {
    json node = *client_.get(kube::gvk::kNode, "", name);
    node["status"]["conditions"][0]["status"] = "True";
    node["status"]["conditions"][0]["lastTransitionTime"] = op::format_time(clock_.wall());
    client_.put(node);
  }
  json node(const std::string& name) { return *client_.get(kube::gvk::kNode, "", name); }
  std::string state(const std::string& name) {
    return std::string(to_string(read_record(node(name)).state));
  }
  std::vector<std::string> event_reasons(const std::string& type = {}) {
    std::vector<std::string> out;
    for (const auto& e : client_.list(kube::gvk::kEvent, "", "")) {
      if (type.empty() || e.value("type", "") == type) out.push_back(e.value("reason", ""));
    }
    return out;
  }
  bool has_event(const std::string& reason, const std::string& type = {}) {
    auto r = event_reasons(type);
    return std::find(r.begin(), r.end(), reason) != r.end();
  }
  void add_pod(const std::string& name, const std::string& node_name, bool terminating) {
    json pod = {{"apiVersion", "v1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"namespace", "openstack"}}},
                {"spec", {{"nodeName", node_name}}}};
    if (terminating) {
      // The fake API server deletes a terminating object without finalizers at once; a kubelet
      // that never answers is what keeps real pods Terminating.
      pod["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
      pod["metadata"]["finalizers"] = json::array({"test/unresponsive-kubelet"});
    }
    client_.put(pod);
  }
  // Runs reconciles of `name`, advancing the fake clock by what each asks, until it asks for
  // nothing or `max` rounds passed. Returns the last result.
  op::Result drive(FencingReconciler& r, const std::string& name, int max = 50) {
    op::Result last;
    for (int i = 0; i < max; ++i) {
      last = r.reconcile(name);
      if (!last.requeue && last.requeue_after.count() == 0) return last;
      clock_.advance(last.requeue_after.count() > 0 ? last.requeue_after : Millis(500));
    }
    return last;
  }

  op::FakeClock clock_;
  FakeClient client_;
  op::EventRecorder events_;
  Config config_;
  Machines machines_;
  std::vector<std::string> released_;
  std::vector<std::string> force_deleted_;
  bool fail_storage_ = false;
  std::string seen_password_;
};

TEST_F(FencingReconcilerTest, FencesANodeOnceThroughEveryStep) {
  auto r = make_reconciler();
  stop_heartbeat("n2");
  add_pod("mariadb-0", "n2", true);
  add_pod("memcached-x", "n2", false);
  add_pod("keystone-y", "n1", true);

  // Within the grace period: nothing but a timed re-check.
  auto first = r->reconcile("n2");
  EXPECT_EQ(first.requeue_after, Millis(60'000));
  EXPECT_EQ(state("n2"), "");
  clock_.advance(61s);

  // The taint manager would evict memcached-x once the taint is there; simulate it when the
  // taint appears.
  for (int i = 0; i < 50; ++i) {
    auto res = r->reconcile("n2");
    if (has_out_of_service_taint(node("n2")) &&
        client_.get(kube::gvk::kPod, "openstack", "memcached-x")) {
      json pod = *client_.get(kube::gvk::kPod, "openstack", "memcached-x");
      pod["metadata"]["deletionTimestamp"] = op::format_time(clock_.wall());
      pod["metadata"]["finalizers"] = json::array({"test/unresponsive-kubelet"});
      client_.put(pod);
    }
    if (!res.requeue && res.requeue_after.count() == 0) break;
    clock_.advance(res.requeue_after);
  }
  EXPECT_EQ(state("n2"), "done");
  EXPECT_EQ(machines_.off_calls["n2"], 1);
  EXPECT_FALSE(machines_.on["n2"]);
  EXPECT_EQ(seen_password_, "fake-password");
  EXPECT_EQ(released_, std::vector<std::string>{"n2"});
  EXPECT_TRUE(has_out_of_service_taint(node("n2")));
  EXPECT_EQ(force_deleted_,
            (std::vector<std::string>{"openstack/mariadb-0", "openstack/memcached-x"}));
  EXPECT_TRUE(client_.get(kube::gvk::kPod, "openstack", "keystone-y"));  // another node's pod
  const FenceRecord rec = read_record(node("n2"));
  EXPECT_EQ(rec.agent, "fake");
  EXPECT_EQ(rec.attempts, 1);
  EXPECT_TRUE(rec.powered_off && rec.tainted && rec.started);
  for (const char* reason :
       {"FencingStarted", "FenceRequested", "NodePoweredOff", "StorageReleased",
        "OutOfServiceTaintAdded", "PodsForceDeleted", "FencingComplete"}) {
    EXPECT_TRUE(has_event(reason)) << reason;
  }
  for (const auto& e : client_.list(kube::gvk::kEvent, "", "")) {
    EXPECT_EQ(e.value("message", "").find("fake-password"), std::string::npos);
  }
  // Other nodes untouched; a second pass does nothing more.
  EXPECT_EQ(state("n1"), "");
  EXPECT_EQ(drive(*r, "n2").requeue_after.count(), 0);
  EXPECT_EQ(machines_.off_calls["n2"], 1);

  auto fenced = list_fenced(client_);
  ASSERT_EQ(fenced.size(), 1u);
  EXPECT_EQ(fenced[0].name, "n2");
  EXPECT_EQ(fenced[0].state, "done");
  EXPECT_TRUE(fenced[0].tainted);
  EXPECT_FALSE(fenced[0].ready);
}

TEST_F(FencingReconcilerTest, FailingAgentDeletesNothingAndWarns) {
  machines_.fail_off = true;
  auto r = make_reconciler();
  stop_heartbeat("n3");
  add_pod("mariadb-0", "n3", true);
  clock_.advance(61s);
  EXPECT_EQ(r->reconcile("n3").requeue_after.count(), 10);  // started
  auto res = r->reconcile("n3");                            // attempt 1 fails
  EXPECT_EQ(res.requeue_after, Millis(10'000));
  EXPECT_TRUE(has_event("FenceFailed", "Warning"));
  EXPECT_EQ(state("n3"), "pending");
  // Backoff: nothing before it runs out, then attempt 2 with a doubled delay.
  EXPECT_EQ(r->reconcile("n3").requeue_after, Millis(10'000));
  EXPECT_EQ(machines_.off_calls["n3"], 1);
  clock_.advance(10s);
  EXPECT_EQ(r->reconcile("n3").requeue_after, Millis(20'000));
  EXPECT_EQ(machines_.off_calls["n3"], 2);
  EXPECT_EQ(read_record(node("n3")).attempts, 2);
  EXPECT_FALSE(has_out_of_service_taint(node("n3")));
  EXPECT_TRUE(released_.empty());
  EXPECT_TRUE(force_deleted_.empty());
  EXPECT_TRUE(client_.get(kube::gvk::kPod, "openstack", "mariadb-0"));
  EXPECT_NE(read_record(node("n3")).message.find("BMC refused"), std::string::npos);
}

TEST_F(FencingReconcilerTest, UnconfirmedPowerOffIsRetried) {
  machines_.ignore_off = true;
  auto r = make_reconciler();
  stop_heartbeat("n1");
  clock_.advance(61s);
  r->reconcile("n1");                                          // pending
  EXPECT_EQ(r->reconcile("n1").requeue_after, Millis(2'000));  // sent, confirm in 2s
  for (int i = 0; i < 4; ++i) {
    clock_.advance(2s);
    EXPECT_EQ(r->reconcile("n1").requeue_after, Millis(2'000));
  }
  clock_.advance(2s);
  EXPECT_EQ(r->reconcile("n1").requeue_after, Millis(10'000));  // timed out, backoff
  EXPECT_TRUE(has_event("FenceUnconfirmed", "Warning"));
  EXPECT_EQ(state("n1"), "pending");
  EXPECT_FALSE(has_out_of_service_taint(node("n1")));
  machines_.ignore_off = false;
  clock_.advance(10s);
  drive(*r, "n1");
  EXPECT_EQ(state("n1"), "done");
  EXPECT_EQ(machines_.off_calls["n1"], 2);
}

TEST_F(FencingReconcilerTest, PartitionGuardRefuses) {
  auto r = make_reconciler();
  stop_heartbeat("n1");
  stop_heartbeat("n2");  // half of the four nodes
  clock_.advance(5min);
  for (const std::string n : {"n1", "n2"}) {
    auto res = r->reconcile(n);
    EXPECT_EQ(res.requeue_after, config_.grace_period);
    EXPECT_EQ(state(n), "");
  }
  EXPECT_TRUE(has_event("FencingSuppressed", "Warning"));
  EXPECT_EQ(machines_.status_calls, 0);
  EXPECT_TRUE(machines_.off_calls.empty());
}

TEST_F(FencingReconcilerTest, OptOutAndDisabled) {
  auto r = make_reconciler();
  json n = make_node("n4", "False", op::format_time(clock_.wall()),
                     {{"kolla.openstack.org/fencing-opt-out", "true"}});
  client_.put(n);
  clock_.advance(5min);
  EXPECT_EQ(r->reconcile("n4").requeue_after.count(), 0);
  EXPECT_EQ(state("n4"), "");
  stop_heartbeat("n3");
  clock_.advance(5min);
  config_.enabled = false;
  EXPECT_EQ(r->reconcile("n3").requeue_after.count(), 0);
  EXPECT_EQ(state("n3"), "");
  EXPECT_TRUE(machines_.off_calls.empty());
}

TEST_F(FencingReconcilerTest, FlappingNodeIsNotFenced) {
  auto r = make_reconciler();
  for (int i = 0; i < 5; ++i) {
    stop_heartbeat("n2");
    clock_.advance(40s);
    r->reconcile("n2");
    set_ready_keep_meta("n2");
    clock_.advance(5s);
    r->reconcile("n2");
  }
  EXPECT_EQ(state("n2"), "");
  EXPECT_TRUE(machines_.off_calls.empty());
  EXPECT_FALSE(has_event("FencingStarted"));
}

TEST_F(FencingReconcilerTest, RecoveryBeforePowerOffCancels) {
  machines_.fail_off = true;
  auto r = make_reconciler();
  stop_heartbeat("n2");
  clock_.advance(61s);
  r->reconcile("n2");
  r->reconcile("n2");  // failed attempt
  set_ready_keep_meta("n2");
  r->reconcile("n2");
  EXPECT_EQ(state("n2"), "");
  EXPECT_TRUE(has_event("FencingCancelled"));
}

TEST_F(FencingReconcilerTest, CrashAfterPowerOffDoesNotFenceTwice) {
  machines_.crash_after_off = true;
  auto r = make_reconciler();
  stop_heartbeat("n2");
  clock_.advance(61s);
  r->reconcile("n2");                       // pending
  EXPECT_THROW(r->reconcile("n2"), Crash);  // the machine is off, the process dies
  EXPECT_EQ(state("n2"), "pending");
  machines_.crash_after_off = false;
  auto restarted = make_reconciler();  // a new process
  drive(*restarted, "n2");
  EXPECT_EQ(state("n2"), "done");
  EXPECT_EQ(machines_.off_calls["n2"], 1);
  EXPECT_EQ(read_record(node("n2")).attempts, 1);
}

TEST_F(FencingReconcilerTest, CrashBeforeTheAttemptIsRecordedLosesNothing) {
  auto r = make_reconciler();
  stop_heartbeat("n2");
  clock_.advance(61s);
  r->reconcile("n2");  // pending
  client_.fail_next("update", op::testing::server_error("etcd unavailable"));
  EXPECT_THROW(r->reconcile("n2"), kube::ApiError);  // the attempt record failed: no power-off
  EXPECT_TRUE(machines_.off_calls.empty());
  // A step recorded, then a crash before the next: the restarted controller resumes there.
  auto restarted = make_reconciler();
  restarted->reconcile("n2");  // attempt 1 sent
  clock_.advance(2s);
  client_.fail_next("update", op::testing::server_error("etcd unavailable"));
  EXPECT_THROW(restarted->reconcile("n2"), kube::ApiError);  // confirmed, but not recorded
  auto again = make_reconciler();
  drive(*again, "n2");
  EXPECT_EQ(state("n2"), "done");
  EXPECT_EQ(machines_.off_calls["n2"], 1);
  EXPECT_EQ(released_.size(), 1u);
}

TEST_F(FencingReconcilerTest, StorageFailureBlocksTheTaint) {
  fail_storage_ = true;
  auto r = make_reconciler();
  stop_heartbeat("n2");
  clock_.advance(61s);
  for (int i = 0; i < 4; ++i) r->reconcile("n2");
  EXPECT_EQ(state("n2"), "powered-off");
  EXPECT_TRUE(has_event("StorageReleaseFailed", "Warning"));
  EXPECT_FALSE(has_out_of_service_taint(node("n2")));
  fail_storage_ = false;
  clock_.advance(10s);
  drive(*r, "n2");
  EXPECT_EQ(state("n2"), "done");
}

TEST_F(FencingReconcilerTest, UnfenceOnlyOnRequestAndWhenReady) {
  auto r = make_reconciler();
  stop_heartbeat("n2");
  clock_.advance(61s);
  drive(*r, "n2");
  ASSERT_EQ(state("n2"), "done");

  auto refused = unfence(client_, "n2");
  EXPECT_FALSE(refused.unfenced);
  EXPECT_NE(refused.message.find("not Ready"), std::string::npos);

  set_ready_keep_meta("n2");  // back, but nobody asked
  r->reconcile("n2");
  EXPECT_EQ(state("n2"), "done");
  EXPECT_TRUE(has_out_of_service_taint(node("n2")));
  EXPECT_TRUE(has_event("FencedNodeReady", "Warning"));

  json n = node("n2");
  n["metadata"]["labels"][config_.unfence_label] = "true";
  client_.put(n);
  r->reconcile("n2");
  EXPECT_EQ(state("n2"), "");
  EXPECT_FALSE(has_out_of_service_taint(node("n2")));
  EXPECT_FALSE(node("n2")["metadata"]["labels"].contains(config_.unfence_label));
  EXPECT_TRUE(has_event("Unfenced"));
  EXPECT_TRUE(list_fenced(client_).empty());
  EXPECT_FALSE(unfence(client_, "n2").unfenced);  // not fenced any more
  EXPECT_FALSE(unfence(client_, "missing").unfenced);
}

TEST_F(FencingReconcilerTest, AgentChoice) {
  config_.agents["ipmi"] = AgentConfig{};
  std::string why;
  json n = make_node("n1", "True", "2024-12-01T00:00:00Z");
  EXPECT_EQ(choose_agent(n, config_, nullptr, why), "");
  EXPECT_NE(why.find("no agent"), std::string::npos);
  json cm = {{"data", {{"n1", "ipmi"}}}};
  EXPECT_EQ(choose_agent(n, config_, cm, why), "ipmi");
  n["metadata"]["labels"][config_.agent_label] = "fake";
  EXPECT_EQ(choose_agent(n, config_, cm, why), "fake");
  n["metadata"]["labels"][config_.agent_label] = "nope";
  EXPECT_EQ(choose_agent(n, config_, cm, why), "");
  EXPECT_NE(why.find("not configured"), std::string::npos);
  n["metadata"]["labels"].erase(config_.agent_label);
  config_.default_agent = "fake";
  EXPECT_EQ(choose_agent(n, config_, nullptr, why), "fake");
}

}  // namespace
}  // namespace kolla::fencing
