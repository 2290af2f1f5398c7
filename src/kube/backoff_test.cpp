#include "kube/backoff.hpp"

#include <gtest/gtest.h>

namespace kolla::kube {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, GrowsExponentiallyWithoutJitter) {
  const BackoffPolicy policy{milliseconds(100), milliseconds(5000), 2.0, 0.0};
  EXPECT_EQ(backoff_delay(policy, 0, 0.5), milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 1, 0.5), milliseconds(200));
  EXPECT_EQ(backoff_delay(policy, 3, 0.5), milliseconds(800));
  EXPECT_EQ(backoff_delay(policy, 6, 0.5), milliseconds(5000));  // 6400 capped
  EXPECT_EQ(backoff_delay(policy, 1000, 0.5), milliseconds(5000));
}

TEST(BackoffTest, JitterStaysInWindowAndUnderCap) {
  const BackoffPolicy policy{milliseconds(1000), milliseconds(3000), 2.0, 0.2};
  EXPECT_EQ(backoff_delay(policy, 0, 0.0), milliseconds(800));
  EXPECT_EQ(backoff_delay(policy, 0, 0.5), milliseconds(1000));
  EXPECT_EQ(backoff_delay(policy, 0, 0.999), milliseconds(1199));
  EXPECT_EQ(backoff_delay(policy, 5, 0.0), milliseconds(2400));
  EXPECT_EQ(backoff_delay(policy, 5, 0.999), milliseconds(3000));  // never above max
}

TEST(BackoffTest, StatefulBackoffResets) {
  Backoff backoff({milliseconds(10), milliseconds(1000), 2.0, 0.5});
  for (int i = 0; i < 20; ++i) {
    const auto d = backoff.next();
    EXPECT_GE(d, milliseconds(0));
    EXPECT_LE(d, milliseconds(1000));
  }
  EXPECT_EQ(backoff.attempt(), 20);
  backoff.reset();
  const auto first = backoff.next();
  EXPECT_GE(first, milliseconds(5));
  EXPECT_LE(first, milliseconds(15));
}

}  // namespace
}  // namespace kolla::kube
