#include "common/signals.hpp"

#include <gtest/gtest.h>

#include <csignal>

namespace kolla {
namespace {

// Handlers are process-wide: each test puts the defaults back.
class StopSignalsTest : public ::testing::Test {
 protected:
  void TearDown() override {
    for (int sig : {SIGTERM, SIGINT, SIGPIPE}) std::signal(sig, SIG_DFL);
  }
};

std::atomic<bool> g_first{false};
std::atomic<bool> g_second{false};

TEST_F(StopSignalsTest, TermAndIntSetTheFlag) {
  for (int sig : {SIGTERM, SIGINT}) {
    g_first.store(false);
    install_stop_signals(g_first);
    EXPECT_FALSE(g_first.load());
    ASSERT_EQ(std::raise(sig), 0);  // delivered before raise returns (one thread, unblocked)
    EXPECT_TRUE(g_first.load()) << "signal " << sig;
  }
}

TEST_F(StopSignalsTest, HandlersStayInstalledAfterASignal) {
  g_first.store(false);
  install_stop_signals(g_first);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  g_first.store(false);
  ASSERT_EQ(std::raise(SIGTERM), 0);
  EXPECT_TRUE(g_first.load());
}

TEST_F(StopSignalsTest, PipeIsIgnored) {
  g_first.store(false);
  install_stop_signals(g_first);
  struct sigaction current {};
  ASSERT_EQ(sigaction(SIGPIPE, nullptr, &current), 0);
  EXPECT_EQ(current.sa_handler, SIG_IGN);
  ASSERT_EQ(std::raise(SIGPIPE), 0);  // the process is still here
  EXPECT_FALSE(g_first.load());
}

TEST_F(StopSignalsTest, ALaterCallMovesTheHandlersToItsFlag) {
  g_first.store(false);
  g_second.store(false);
  install_stop_signals(g_first);
  install_stop_signals(g_second);
  ASSERT_EQ(std::raise(SIGINT), 0);
  EXPECT_FALSE(g_first.load());
  EXPECT_TRUE(g_second.load());
}

}  // namespace
}  // namespace kolla
