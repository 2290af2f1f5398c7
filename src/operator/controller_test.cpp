#include "operator/controller.hpp"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>

namespace kolla::op {
namespace {

using namespace std::chrono_literals;

TEST(ControllerTest, ResultsDriveRequeues) {
  FakeClock clock;
  Registry registry;
  ControllerMetrics metrics(registry);
  std::map<std::string, int> seen;
  Controller c(
      "test",
      [&](const std::string& key) -> Result {
        ++seen[key];
        if (key == "fails" && seen[key] <= 2) throw std::runtime_error("boom");
        if (key == "waits" && seen[key] == 1) return Result{false, 30s};
        if (key == "again" && seen[key] == 1) return Result{true, 0ms};
        return {};
      },
      ControllerOptions{1, RateLimit{100ms, 1s}}, &metrics, clock);
  c.enqueue("ok");
  c.enqueue("fails");
  c.enqueue("waits");
  c.enqueue("again");
  while (c.process_one()) {
  }
  EXPECT_EQ(seen["ok"], 1);
  EXPECT_EQ(seen["fails"], 1);
  EXPECT_EQ(c.queue().num_requeues("fails"), 1);

  clock.advance(100ms);  // first backoff of "fails" and of "again"
  while (c.process_one()) {
  }
  EXPECT_EQ(seen["fails"], 2);
  EXPECT_EQ(seen["again"], 2);
  EXPECT_EQ(c.queue().num_requeues("again"), 0) << "success resets the backoff";

  clock.advance(100ms);  // second backoff of "fails" is 200 ms
  EXPECT_FALSE(c.process_one());
  clock.advance(100ms);
  EXPECT_TRUE(c.process_one());
  EXPECT_EQ(seen["fails"], 3);
  EXPECT_EQ(c.queue().num_requeues("fails"), 0);

  EXPECT_EQ(seen["waits"], 1);
  clock.advance(30s);
  EXPECT_TRUE(c.process_one());
  EXPECT_EQ(seen["waits"], 2);
  EXPECT_FALSE(c.process_one());

  EXPECT_EQ(metrics.errors.value({{"controller", "test"}}), 2);
  EXPECT_EQ(metrics.reconciles.value({{"controller", "test"}, {"result", "error"}}), 2);
  EXPECT_EQ(metrics.reconciles.value({{"controller", "test"}, {"result", "requeue_after"}}), 1);
  EXPECT_EQ(metrics.duration.count({{"controller", "test"}}), c.reconciles());
}

TEST(ControllerTest, WorkersNeverReconcileOneKeyConcurrently) {
  std::atomic<int> in_flight{0};
  std::atomic<int> max_in_flight{0};
  std::atomic<int> total{0};
  Controller c(
      "parallel",
      [&](const std::string&) -> Result {
        const int now = ++in_flight;
        int prev = max_in_flight.load();
        while (now > prev && !max_in_flight.compare_exchange_weak(prev, now)) {
        }
        std::this_thread::sleep_for(2ms);
        --in_flight;
        ++total;
        return {};
      },
      ControllerOptions{4, {}});
  c.start();
  for (int i = 0; i < 50; ++i) {
    c.enqueue("same/key");
    std::this_thread::sleep_for(200us);
  }
  for (int i = 0; i < 400 && (c.queue().len() > 0 || c.queue().processing_len() > 0); ++i) {
    std::this_thread::sleep_for(5ms);
  }
  c.stop();
  EXPECT_EQ(max_in_flight.load(), 1);
  EXPECT_GE(total.load(), 1);
  EXPECT_LT(total.load(), 50) << "events for one key collapse into fewer reconciles";
}

}  // namespace
}  // namespace kolla::op
