#include "fencing/decision.hpp"

#include <gtest/gtest.h>

#include "fencing/test_util.hpp"

namespace kolla::fencing {
namespace {

using namespace std::chrono_literals;
using testing::at;
using testing::fixture;
using testing::make_node;

Config enabled_config() {
  Config c;
  c.enabled = true;
  c.grace_period = 60s;
  c.agents["script"] = AgentConfig{};
  c.node_selector = {{"kolla.openstack.org/compute", "true"}};
  return c;
}

const auto kNow = at("2025-01-01T00:00:00Z");

TEST(FencingDecision, HealthFromFixtures) {
  auto ready = node_health(fixture("node-ready.json"), nullptr, true);
  EXPECT_TRUE(ready.ready);

  auto not_ready = node_health(fixture("node-notready.json"), nullptr, true);
  EXPECT_FALSE(not_ready.ready);
  EXPECT_EQ(not_ready.unready_since, at("2024-12-31T23:59:30Z"));
  EXPECT_EQ(not_ready.reason, "Ready=False (HeartbeatStopped)");

  // The node lifecycle controller moved False → Unknown later: the clock starts at the last
  // heartbeat, not at that second transition.
  auto unknown = node_health(fixture("node-unknown.json"), nullptr, true);
  EXPECT_FALSE(unknown.ready);
  EXPECT_EQ(unknown.unready_since, at("2024-12-31T23:58:00Z"));

  json bare = fixture("node-ready.json");
  bare["status"].erase("conditions");
  auto none = node_health(bare, nullptr, true);
  EXPECT_FALSE(none.ready);
  EXPECT_EQ(none.unready_since, at("2024-12-31T00:00:00Z"));
}

TEST(FencingDecision, StaleLeaseCountsAsNotReady) {
  const json node = fixture("node-ready.json");
  const json lease = fixture("lease-stale.json");
  auto h = node_health(node, lease, true);
  EXPECT_FALSE(h.ready);
  EXPECT_EQ(h.unready_since, at("2024-12-31T23:57:40Z"));  // renewTime + 40s
  EXPECT_TRUE(node_health(node, lease, false).ready);

  Config c = enabled_config();
  auto cand = evaluate_candidate(node, lease, c, kNow);
  EXPECT_TRUE(cand.candidate) << cand.reason;  // 140s > 60s
  c.use_lease = false;
  EXPECT_FALSE(evaluate_candidate(node, lease, c, kNow).candidate);

  // A lease renewed recently is fine.
  json fresh = lease;
  fresh["spec"]["renewTime"] = "2024-12-31T23:59:50.000000Z";
  EXPECT_FALSE(evaluate_candidate(node, fresh, enabled_config(), kNow).candidate);
}

TEST(FencingDecision, CandidateOnlyAfterGracePeriod) {
  const Config c = enabled_config();
  const json node = fixture("node-notready.json");  // NotReady for 30s at kNow
  auto early = evaluate_candidate(node, nullptr, c, kNow);
  EXPECT_FALSE(early.candidate);
  EXPECT_EQ(early.wait, Millis(30'000));
  auto late = evaluate_candidate(node, nullptr, c, kNow + 31s);
  EXPECT_TRUE(late.candidate) << late.reason;
  EXPECT_NE(late.reason.find("HeartbeatStopped"), std::string::npos);
  EXPECT_FALSE(evaluate_candidate(fixture("node-ready.json"), nullptr, c, kNow + 1h).candidate);
}

TEST(FencingDecision, FlappingWithinGraceNeverQualifies) {
  const Config c = enabled_config();
  // NotReady 40s, Ready again, NotReady again: the clock restarts at each transition.
  json node = make_node("flappy", "False", "2024-12-31T23:59:20Z");
  EXPECT_FALSE(evaluate_candidate(node, nullptr, c, kNow).candidate);
  node = make_node("flappy", "True", "2025-01-01T00:00:00Z");
  EXPECT_FALSE(evaluate_candidate(node, nullptr, c, kNow + 10s).candidate);
  node = make_node("flappy", "False", "2025-01-01T00:00:30Z");
  auto cand = evaluate_candidate(node, nullptr, c, kNow + 80s);  // 50s after the last transition
  EXPECT_FALSE(cand.candidate);
  EXPECT_EQ(cand.wait, Millis(10'000));
}

TEST(FencingDecision, OptOutSelectorAndDisabled) {
  Config c = enabled_config();
  json node = fixture("node-notready.json");
  node["metadata"]["labels"][c.opt_out_label] = "true";
  auto r = evaluate_candidate(node, nullptr, c, kNow + 1h);
  EXPECT_FALSE(r.candidate);
  EXPECT_NE(r.reason.find("opted out"), std::string::npos);

  node = fixture("node-notready.json");
  node["metadata"]["labels"].erase("kolla.openstack.org/compute");
  EXPECT_FALSE(evaluate_candidate(node, nullptr, c, kNow + 1h).candidate);

  c.enabled = false;
  EXPECT_FALSE(evaluate_candidate(fixture("node-notready.json"), nullptr, c, kNow + 1h).candidate);
}

TEST(FencingDecision, PartitionGuard) {
  Config c = enabled_config();
  c.max_unready_share = 0.4;
  std::vector<json> nodes = {make_node("a", "True", "2024-12-31T00:00:00Z"),
                             make_node("b", "True", "2024-12-31T00:00:00Z"),
                             make_node("c", "True", "2024-12-31T00:00:00Z"),
                             make_node("d", "False", "2024-12-31T00:00:00Z")};
  auto g = partition_guard(nodes, {}, c, kNow);
  EXPECT_TRUE(g.allowed) << g.message;
  EXPECT_EQ(g.unready, 1);
  EXPECT_EQ(g.total, 4);

  nodes[2] = make_node("c", "Unknown", "2024-12-31T00:00:00Z");  // half the nodes
  g = partition_guard(nodes, {}, c, kNow);
  EXPECT_FALSE(g.allowed);
  EXPECT_EQ(g.message, "2 of 4 nodes NotReady (50%, limit 40%)");

  // Nodes outside the selector do not count.
  nodes.push_back(
      make_node("ctl", "True", "2024-12-31T00:00:00Z", {{"kolla.openstack.org/compute", "false"}}));
  EXPECT_EQ(partition_guard(nodes, {}, c, kNow).total, 4);

  c.max_unready_share = 0.5;  // "more than" the share: exactly half is still allowed
  EXPECT_TRUE(partition_guard(nodes, {}, c, kNow).allowed);
  EXPECT_FALSE(partition_guard({}, {}, c, kNow).allowed);
}

TEST(FencingDecision, RecordRoundTrip) {
  FenceRecord r;
  r.state = FenceState::kTainted;
  r.agent = "ipmi";
  r.attempts = 3;
  r.step_failures = 1;
  r.started = at("2025-01-01T00:00:00Z");
  r.updated = at("2025-01-01T00:01:00Z");
  r.powered_off = at("2025-01-01T00:00:40Z");
  r.tainted = at("2025-01-01T00:00:50Z");
  r.message = "out-of-service taint added";
  json node = fixture("node-notready.json");
  write_record(node, r);
  const auto& a = node["metadata"]["annotations"];
  EXPECT_EQ(a[kStateAnnotation], "tainted");
  EXPECT_EQ(a[kAttemptsAnnotation], "3");
  EXPECT_EQ(a[kStartedAnnotation], "2025-01-01T00:00:00Z");
  EXPECT_FALSE(a.contains(kRequestedAnnotation));
  FenceRecord back = read_record(node);
  EXPECT_EQ(back.state, FenceState::kTainted);
  EXPECT_EQ(back.agent, "ipmi");
  EXPECT_EQ(back.attempts, 3);
  EXPECT_EQ(back.step_failures, 1);
  EXPECT_EQ(back.tainted, r.tainted);
  EXPECT_EQ(back.message, r.message);

  write_record(node, FenceRecord{});
  EXPECT_TRUE(node["metadata"]["annotations"].empty());

  node["metadata"]["annotations"][kStateAnnotation] = "exploded";
  FenceRecord bad = read_record(node);
  EXPECT_FALSE(bad.valid);
  EXPECT_EQ(bad.state, FenceState::kPending);  // never forget a fence may be under way
}

TEST(FencingDecision, Taint) {
  json node = fixture("node-notready.json");
  EXPECT_FALSE(has_out_of_service_taint(node));
  EXPECT_TRUE(add_out_of_service_taint(node, kNow));
  EXPECT_FALSE(add_out_of_service_taint(node, kNow));
  ASSERT_EQ(node["spec"]["taints"].size(), 1u);
  EXPECT_EQ(node["spec"]["taints"][0]["key"], "node.kubernetes.io/out-of-service");
  EXPECT_EQ(node["spec"]["taints"][0]["value"], "nodeshutdown");
  EXPECT_EQ(node["spec"]["taints"][0]["effect"], "NoExecute");
  node["spec"]["taints"].push_back({{"key", "other"}, {"effect", "NoSchedule"}});
  EXPECT_TRUE(remove_out_of_service_taint(node));
  EXPECT_EQ(node["spec"]["taints"].size(), 1u);
  EXPECT_FALSE(remove_out_of_service_taint(node));
}

TEST(FencingDecision, RetryBackoff) {
  Config c;
  c.retry_base = 10s;
  c.retry_max = 60s;
  EXPECT_EQ(retry_delay(c, 1), Millis(10'000));
  EXPECT_EQ(retry_delay(c, 2), Millis(20'000));
  EXPECT_EQ(retry_delay(c, 3), Millis(40'000));
  EXPECT_EQ(retry_delay(c, 4), Millis(60'000));
  EXPECT_EQ(retry_delay(c, 400), Millis(60'000));
}

NodeView view_of(json node, Guard guard = {}) {
  NodeView v;
  v.node = std::move(node);
  v.guard = guard;
  return v;
}

json with_record(json node, FenceRecord r) {
  write_record(node, r);
  return node;
}

TEST(FencingDecision, NextStepWalksTheStates) {
  const Config c = enabled_config();
  const auto later = kNow + 5min;
  const json down = fixture("node-notready.json");

  EXPECT_EQ(next_step(view_of(down), c, kNow).action, Action::kWait);
  EXPECT_EQ(next_step(view_of(down), c, later).action, Action::kStart);
  EXPECT_EQ(next_step(view_of(fixture("node-ready.json")), c, later).action, Action::kNothing);
  Guard refuse{false, 2, 4, "2 of 4"};
  auto suppressed = next_step(view_of(down, refuse), c, later);
  EXPECT_EQ(suppressed.action, Action::kSuppressed);
  EXPECT_EQ(suppressed.requeue_after, c.grace_period);

  FenceRecord r;
  r.state = FenceState::kPending;
  r.agent = "script";
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later).action, Action::kPowerOff);
  EXPECT_EQ(next_step(view_of(with_record(down, r), refuse), c, later).action, Action::kSuppressed);
  r.requested = later - 1s;
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later).action, Action::kCheckPower);
  r.requested.reset();
  r.attempts = 1;
  r.next_attempt = later + 20s;
  auto backoff = next_step(view_of(with_record(down, r)), c, later);
  EXPECT_EQ(backoff.action, Action::kWait);
  EXPECT_EQ(backoff.requeue_after, Millis(20'000));
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later + 21s).action, Action::kPowerOff);
  // Recovered before any power-off was confirmed: cancel.
  EXPECT_EQ(next_step(view_of(with_record(fixture("node-ready.json"), r)), c, later).action,
            Action::kCancel);

  r = FenceRecord{};
  r.state = FenceState::kPoweredOff;
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later).action, Action::kReleaseStorage);
  // Once powered off, a Ready node is not cancelled: it needs an explicit unfence.
  EXPECT_EQ(next_step(view_of(with_record(fixture("node-ready.json"), r)), c, later).action,
            Action::kReleaseStorage);
  r.state = FenceState::kStorageReleased;
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later).action, Action::kTaint);

  r.state = FenceState::kTainted;
  r.tainted = later;
  json tainted = with_record(down, r);
  EXPECT_EQ(next_step(view_of(tainted), c, later).action, Action::kTaint);  // taint missing
  add_out_of_service_taint(tainted, later);
  NodeView v = view_of(tainted);
  v.pods_on_node = 2;
  v.stuck_pods = 2;
  EXPECT_EQ(next_step(v, c, later + 1s).action, Action::kWait);
  EXPECT_EQ(next_step(v, c, later + c.force_delete_after).action, Action::kForceDelete);
  v.stuck_pods = 0;
  EXPECT_EQ(next_step(v, c, later + c.force_delete_after).action, Action::kFinish);
  v.pods_on_node = 0;
  EXPECT_EQ(next_step(v, c, later + 1s).action, Action::kFinish);

  r.state = FenceState::kDone;
  EXPECT_EQ(next_step(view_of(with_record(down, r)), c, later).action, Action::kNothing);
  json back = with_record(fixture("node-ready.json"), r);
  auto d = next_step(view_of(back), c, later);
  EXPECT_EQ(d.action, Action::kNothing);  // never unfenced automatically
  EXPECT_NE(d.reason.find("unfence"), std::string::npos);
  back["metadata"]["labels"][c.unfence_label] = "true";
  EXPECT_EQ(next_step(view_of(back), c, later).action, Action::kUnfence);
  json early = with_record(down, r);
  early["metadata"]["labels"][c.unfence_label] = "true";
  EXPECT_EQ(next_step(view_of(early), c, later).action, Action::kWait);
}

}  // namespace
}  // namespace kolla::fencing
