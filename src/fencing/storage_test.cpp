#include "fencing/storage.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "fencing/test_util.hpp"

namespace kolla::fencing {
namespace {

ProcessResult ok(std::string out) {
  ProcessResult r;
  r.exit_code = 0;
  r.out = std::move(out);
  return r;
}

TEST(FencingStorage, LockerHostAndLockParsing) {
  EXPECT_EQ(locker_host("10.0.0.5:0/3710147553"), "10.0.0.5");
  EXPECT_EQ(locker_host("v1:10.0.0.5:6801/1234"), "10.0.0.5");
  EXPECT_EQ(locker_host("[fd00::1]:0/1"), "fd00::1");
  auto locks =
      parse_rbd_locks(R"([{"id":"auto 1","locker":"client.41","address":"10.0.0.5:0/1"}])");
  ASSERT_EQ(locks.size(), 1u);
  EXPECT_EQ(locks[0]["locker"], "client.41");
  auto old = parse_rbd_locks(R"({"auto 2":{"locker":"client.9","address":"10.0.0.6:0/2"}})");
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0]["id"], "auto 2");
  EXPECT_TRUE(parse_rbd_locks("").empty());
  EXPECT_THROW(parse_rbd_locks("not json"), StorageError);
}

TEST(FencingStorage, CephRbdBreaksOnlyTheNodesLocks) {
  StorageConfig config;
  config.type = StorageType::kCephRbd;
  config.name = "ceph-rbd";
  config.pools = {"volumes"};
  config.ceph_user = "fencing";
  Credentials creds;
  creds.values = {{"key", "AQBceph-secret-key=="}};
  std::vector<std::vector<std::string>> calls;
  std::string keyring_content;
  CommandRunner runner = [&](const std::vector<std::string>& argv, const RunOptions&) {
    calls.push_back(argv);
    for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == "--keyring") {
        std::ifstream in(argv[i + 1]);
        keyring_content.assign(std::istreambuf_iterator<char>(in), {});
      }
    }
    const std::string joined = [&] {
      std::string s;
      for (const auto& a : argv) s += a + " ";
      return s;
    }();
    if (joined.find(" ls --pool volumes") != std::string::npos) return ok(R"(["vol-a","vol-b"])");
    if (joined.find("lock ls volumes/vol-a") != std::string::npos) {
      return ok(R"([{"id":"auto 1","locker":"client.41","address":"10.0.0.22:0/111"}])");
    }
    if (joined.find("lock ls volumes/vol-b") != std::string::npos) {
      return ok(R"([{"id":"auto 2","locker":"client.42","address":"10.0.0.99:0/222"}])");
    }
    return ok("");
  };
  CephRbdRelease release(config, creds, runner);
  const std::string summary =
      release.release(node_info(testing::fixture("node-notready.json")));  // 10.0.0.22
  EXPECT_EQ(summary, "1 RBD locks released, 1 clients blocklisted");
  bool blocklisted = false, removed_a = false, removed_b = false;
  for (const auto& argv : calls) {
    for (const auto& a : argv) EXPECT_EQ(a.find("ceph-secret"), std::string::npos);
    EXPECT_EQ(argv[1], "--id");
    EXPECT_EQ(argv[2], "fencing");
    std::string s;
    for (const auto& a : argv) s += a + " ";
    if (s.starts_with("ceph ") &&
        s.find("osd blocklist add 10.0.0.22:0/111") != std::string::npos) {
      blocklisted = true;
    }
    if (s.find("lock rm volumes/vol-a auto 1 client.41") != std::string::npos) removed_a = true;
    if (s.find("lock rm volumes/vol-b") != std::string::npos) removed_b = true;
  }
  EXPECT_TRUE(blocklisted);
  EXPECT_TRUE(removed_a);
  EXPECT_FALSE(removed_b);
  EXPECT_NE(keyring_content.find("[client.fencing]"), std::string::npos);
  EXPECT_NE(keyring_content.find("AQBceph-secret-key=="), std::string::npos);
}

TEST(FencingStorage, FailuresThrow) {
  StorageConfig config;
  config.type = StorageType::kCephRbd;
  config.pools = {"volumes"};
  CommandRunner failing = [](const std::vector<std::string>&, const RunOptions&) {
    ProcessResult r;
    r.exit_code = 1;
    r.err = "rbd: error connecting to the cluster";
    return r;
  };
  CephRbdRelease ceph(config, {}, failing);
  EXPECT_THROW(ceph.release(node_info(testing::fixture("node-notready.json"))), StorageError);
  EXPECT_THROW(ceph.release(NodeInfo{"no-address", {}}), StorageError);

  StorageConfig command;
  command.name = "nfs";
  command.command = {"release", "{node}", "{address}"};
  std::vector<std::string> seen;
  CommandRelease hook(command, {}, [&](const std::vector<std::string>& argv, const RunOptions&) {
    seen = argv;
    return ok("");
  });
  EXPECT_EQ(hook.release(NodeInfo{"n1", {"10.1.1.1"}}), "nfs released");
  EXPECT_EQ(seen, (std::vector<std::string>{"release", "n1", "10.1.1.1"}));
  CommandRelease bad(command, {}, failing);
  EXPECT_THROW(bad.release(NodeInfo{"n1", {}}), StorageError);
}

}  // namespace
}  // namespace kolla::fencing
