#include "common/process.hpp"

#include <gtest/gtest.h>

#include <system_error>

namespace kolla {
namespace {

TEST(RunProcess, CapturesOutputAndExitCode) {
  auto r = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "out\n");
  EXPECT_EQ(r.err, "err\n");
  EXPECT_FALSE(r.ok());
}

TEST(RunProcess, FeedsStandardInput) {
  RunOptions options;
  options.stdin_data = std::string(200000, 'x');  // larger than a pipe buffer
  auto r = run_process({"wc", "-c"}, options);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::stoul(r.out), 200000u);
}

TEST(RunProcess, KillsOnTimeout) {
  RunOptions options;
  options.timeout = std::chrono::milliseconds(200);
  auto r = run_process({"sleep", "5"}, options);
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
}

TEST(RunProcess, PassesExtraEnvironment) {
  RunOptions options;
  options.extra_env["KOLLA_TEST_VAR"] = "value";
  auto r = run_process({"sh", "-c", "printf %s \"$KOLLA_TEST_VAR\""}, options);
  EXPECT_EQ(r.out, "value");
}

TEST(RunProcess, MissingProgramThrows) {
  EXPECT_THROW(run_process({"kolla-no-such-program"}), std::system_error);
}

TEST(ChildProcess, StopsWithSigterm) {
  auto child = ChildProcess::spawn({"sleep", "30"}, {});
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.stop(), 128 + 15);
  EXPECT_FALSE(child.running());
}

}  // namespace
}  // namespace kolla
