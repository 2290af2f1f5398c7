#include "operator/leader_election.hpp"

#include <gtest/gtest.h>

#include "operator/testing/fake_client.hpp"

namespace kolla::op {
namespace {

using namespace std::chrono_literals;
using testing::FakeClient;

TEST(LeaseDecisionTest, Decisions) {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  LeaseRecord held{"other", 15, "", "", 0};
  EXPECT_EQ(decide_lease_action(std::nullopt, "me", t0, t0), LeaseAction::kCreate);
  EXPECT_EQ(decide_lease_action(held, "me", t0, t0 + 14s), LeaseAction::kWait);
  EXPECT_EQ(decide_lease_action(held, "me", t0, t0 + 15s), LeaseAction::kAcquire);
  LeaseRecord mine = held;
  mine.holder_identity = "me";
  EXPECT_EQ(decide_lease_action(mine, "me", t0, t0 + 1h), LeaseAction::kRenew);
  LeaseRecord released = held;
  released.holder_identity = "";
  EXPECT_EQ(decide_lease_action(released, "me", t0, t0), LeaseAction::kAcquire);
}

LeaderElectionOptions options(const std::string& identity, int* started, int* stopped) {
  LeaderElectionOptions o;
  o.namespace_ = "openstack";
  o.identity = identity;
  o.on_started_leading = [started] { ++*started; };
  o.on_stopped_leading = [stopped] { ++*stopped; };
  return o;
}

TEST(LeaderElectorTest, OneLeaderTakeoverAfterExpiryAndRelease) {
  FakeClient client;
  FakeClock clock;
  int a_started = 0, a_stopped = 0, b_started = 0, b_stopped = 0;
  LeaderElector a(client, options("a", &a_started, &a_stopped), clock);
  LeaderElector b(client, options("b", &b_started, &b_stopped), clock);

  EXPECT_TRUE(a.try_acquire_or_renew());
  EXPECT_FALSE(b.try_acquire_or_renew());
  EXPECT_TRUE(a.is_leader());
  EXPECT_FALSE(b.is_leader());
  EXPECT_EQ(a_started, 1);

  auto lease = client.get(kube::gvk::kLease, "openstack", "kolla-operator");
  ASSERT_TRUE(lease);
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "a");
  EXPECT_EQ((*lease)["spec"]["leaseDurationSeconds"], 15);
  EXPECT_EQ((*lease)["spec"]["renewTime"], "2025-01-01T00:00:00.000000Z");

  // a keeps renewing: b never takes over, however long it waits.
  for (int i = 0; i < 20; ++i) {
    clock.advance(2s);
    EXPECT_TRUE(a.try_acquire_or_renew());
    EXPECT_FALSE(b.try_acquire_or_renew());
  }
  // a stops renewing (hung): b takes over once the record has not changed for 15 s.
  clock.advance(14s);
  EXPECT_FALSE(b.try_acquire_or_renew());
  clock.advance(2s);
  EXPECT_TRUE(b.try_acquire_or_renew());
  EXPECT_EQ(b_started, 1);
  lease = client.get(kube::gvk::kLease, "openstack", "kolla-operator");
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "b");
  EXPECT_EQ((*lease)["spec"]["leaseTransitions"], 1);
  // a wakes up and learns it lost the lease.
  EXPECT_FALSE(a.try_acquire_or_renew());
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(a_stopped, 1);

  // b releases: a takes over at once.
  b.release();
  EXPECT_FALSE(b.is_leader());
  EXPECT_EQ(b_stopped, 1);
  EXPECT_TRUE(a.try_acquire_or_renew());
  EXPECT_EQ(a_started, 2);
}

TEST(LeaderElectorTest, ConcurrentWriteLosesOnConflict) {
  FakeClient client;
  FakeClock clock;
  int started = 0, stopped = 0;
  LeaderElector a(client, options("a", &started, &stopped), clock);
  client.fail_next("create",
                   kube::ApiError(kube::ErrorCode::kAlreadyExists, 409, "exists", "AlreadyExists"));
  EXPECT_FALSE(a.try_acquire_or_renew());
  EXPECT_EQ(started, 0);
}

TEST(LeaderElectorTest, LeaderStepsDownWhenRenewDeadlinePasses) {
  FakeClient client;
  FakeClock clock;
  int started = 0, stopped = 0;
  LeaderElector a(client, options("a", &started, &stopped), clock);
  ASSERT_TRUE(a.try_acquire_or_renew());
  clock.advance(2s);
  client.fail_next("get", testing::server_error("apiserver down"));
  EXPECT_TRUE(a.try_acquire_or_renew()) << "a failed renewal within the deadline keeps leading";
  clock.advance(9s);
  client.fail_next("get", testing::server_error("apiserver down"));
  EXPECT_FALSE(a.try_acquire_or_renew());
  EXPECT_FALSE(a.is_leader());
  EXPECT_EQ(stopped, 1);
}

TEST(LeaderElectorTest, BackgroundLoopAcquiresAndStopReleases) {
  FakeClient client;
  int started = 0, stopped = 0;
  auto o = options("loop", &started, &stopped);
  o.retry_period = 1s;
  LeaderElector elector(client, o);
  elector.start();
  for (int i = 0; i < 200 && !elector.is_leader(); ++i) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(elector.is_leader());
  elector.stop();
  EXPECT_FALSE(elector.is_leader());
  auto lease = client.get(kube::gvk::kLease, "openstack", "kolla-operator");
  ASSERT_TRUE(lease);
  EXPECT_EQ((*lease)["spec"]["holderIdentity"], "");
}

}  // namespace
}  // namespace kolla::op
