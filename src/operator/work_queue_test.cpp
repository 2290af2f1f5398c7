#include "operator/work_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace kolla::op {
namespace {

using namespace std::chrono_literals;

TEST(RateLimitTest, GrowsExponentiallyAndCaps) {
  const RateLimit limit{100ms, 1000ms};
  EXPECT_EQ(rate_limit_delay(limit, 0), 100ms);
  EXPECT_EQ(rate_limit_delay(limit, 1), 200ms);
  EXPECT_EQ(rate_limit_delay(limit, 2), 400ms);
  EXPECT_EQ(rate_limit_delay(limit, 3), 800ms);
  EXPECT_EQ(rate_limit_delay(limit, 4), 1000ms);
  EXPECT_EQ(rate_limit_delay(limit, 1000), 1000ms);  // never overflows, never gives up
}

TEST(WorkQueueTest, DeduplicatesQueuedKeys) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add("ns/a");
  q.add("ns/b");
  q.add("ns/a");
  EXPECT_EQ(q.len(), 2u);
  EXPECT_EQ(q.try_get(), "ns/a");
  EXPECT_EQ(q.try_get(), "ns/b");
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueueTest, KeyAddedWhileProcessingIsRequeuedOnDone) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add("k");
  auto key = q.try_get();
  ASSERT_EQ(key, "k");
  q.add("k");  // an event arrives while a worker reconciles k
  q.add("k");
  EXPECT_EQ(q.len(), 0u) << "a key being processed must not reach a second worker";
  EXPECT_EQ(q.try_get(), std::nullopt);
  q.done("k");
  EXPECT_EQ(q.len(), 1u);
  EXPECT_EQ(q.try_get(), "k");
  q.done("k");
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueueTest, DelayedAddBecomesReadyWhenDue) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add_after("k", 5s);
  EXPECT_EQ(q.try_get(), std::nullopt);
  EXPECT_EQ(q.delayed_len(), 1u);
  clock.advance(4s);
  EXPECT_EQ(q.try_get(), std::nullopt);
  clock.advance(1s);
  EXPECT_EQ(q.try_get(), "k");
  EXPECT_EQ(q.delayed_len(), 0u);
}

TEST(WorkQueueTest, DelayedAddKeepsEarliestDueTime) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add_after("k", 10s);
  q.add_after("k", 2s);
  q.add_after("k", 20s);
  EXPECT_EQ(q.delayed_len(), 1u);
  clock.advance(2s);
  EXPECT_EQ(q.try_get(), "k");
}

TEST(WorkQueueTest, ImmediateAddOverridesDelay) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add_after("k", 10s);
  q.add("k");
  EXPECT_EQ(q.try_get(), "k");
  q.done("k");
  clock.advance(10s);
  EXPECT_EQ(q.try_get(), std::nullopt);
}

TEST(WorkQueueTest, RateLimitedBackoffPerKeyAndResetByForget) {
  FakeClock clock;
  WorkQueue q(clock, RateLimit{100ms, 400ms});
  auto fail_once = [&](std::chrono::milliseconds expected) {
    q.add_rate_limited("k");
    clock.advance(expected - 1ms);
    EXPECT_EQ(q.try_get(), std::nullopt) << "ready before " << expected.count() << "ms";
    clock.advance(1ms);
    auto key = q.try_get();
    EXPECT_EQ(key, "k") << "not ready after " << expected.count() << "ms";
    q.done("k");
  };
  fail_once(100ms);
  fail_once(200ms);
  fail_once(400ms);
  fail_once(400ms);  // capped
  EXPECT_EQ(q.num_requeues("k"), 4);
  EXPECT_EQ(q.num_requeues("other"), 0);
  q.forget("k");
  EXPECT_EQ(q.num_requeues("k"), 0);
  fail_once(100ms);  // reset after success
}

TEST(WorkQueueTest, ShutdownWakesBlockedGet) {
  WorkQueue q;
  std::optional<std::string> got = "unset";
  std::thread t([&] { got = q.get(); });
  std::this_thread::sleep_for(20ms);
  q.shutdown();
  t.join();
  EXPECT_EQ(got, std::nullopt);
  q.add("k");
  EXPECT_EQ(q.len(), 0u) << "adds after shutdown are dropped";
}

TEST(WorkQueueTest, BlockingGetReturnsDelayedKeyWithRealClock) {
  WorkQueue q;
  const auto start = std::chrono::steady_clock::now();
  q.add_after("k", 30ms);
  auto key = q.get();
  EXPECT_EQ(key, "k");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 30ms);
}

TEST(WorkQueueTest, BlockingGetSeesFakeClockAdvance) {
  FakeClock clock;
  WorkQueue q(clock);
  q.add_after("k", 1h);
  std::optional<std::string> got;
  std::thread t([&] { got = q.get(); });
  std::this_thread::sleep_for(10ms);
  clock.advance(1h);
  q.wake();
  t.join();
  EXPECT_EQ(got, "k");
}

}  // namespace
}  // namespace kolla::op
