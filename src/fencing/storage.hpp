#pragma once
// Storage release after a confirmed power-off: one hook per storage backend, so that volumes the
// dead node held can be attached elsewhere.
//   CephRbdRelease  for each configured pool: images whose exclusive/advisory locks are held from
//                   one of the node's addresses get the locker blocklisted (`ceph osd blocklist
//                   add`) and the lock removed (`rbd lock rm`), as the original kolla-kubernetes
//                   fencing pod broke the RBD locks of a dead node. The key comes from a Secret
//                   and is written to a private temporary keyring file, never to argv.
//   CommandRelease  any command ({node}, {address}), the Secret's keys as FENCE_<KEY> variables.
// A hook throws StorageError when release failed; the controller retries with backoff.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "fencing/agent.hpp"
#include "fencing/config.hpp"

namespace kolla::fencing {

class StorageError : public std::runtime_error {
 public:
  explicit StorageError(const std::string& message);  // redacts
};

struct NodeInfo {
  std::string name;
  std::vector<std::string> addresses;  // status.addresses (InternalIP, ExternalIP, Hostname)
};

NodeInfo node_info(const json& node);

class StorageRelease {
 public:
  virtual ~StorageRelease() = default;
  virtual std::string name() const = 0;
  // Returns a one-line summary of what was released (e.g. "2 RBD locks released").
  virtual std::string release(const NodeInfo& node) = 0;
};

class CephRbdRelease final : public StorageRelease {
 public:
  CephRbdRelease(StorageConfig config, Credentials credentials,
                 CommandRunner runner = default_runner());
  std::string name() const override { return config_.name; }
  std::string release(const NodeInfo& node) override;

 private:
  ProcessResult run(const std::vector<std::string>& args, const std::string& keyring,
                    const std::string& program);
  StorageConfig config_;
  Credentials credentials_;
  CommandRunner runner_;
};

class CommandRelease final : public StorageRelease {
 public:
  CommandRelease(StorageConfig config, Credentials credentials,
                 CommandRunner runner = default_runner());
  std::string name() const override { return config_.name; }
  std::string release(const NodeInfo& node) override;

 private:
  StorageConfig config_;
  Credentials credentials_;
  CommandRunner runner_;
};

// "10.0.0.5:0/3710147553" or "v1:10.0.0.5:6801/1234" or "[fd00::1]:0/1" → "10.0.0.5" / "fd00::1".
std::string locker_host(const std::string& address);
// The locks of `rbd lock ls --format json` (array or, from older rbd, an object keyed by id):
// {id, locker, address} each.
std::vector<json> parse_rbd_locks(const std::string& output);

std::unique_ptr<StorageRelease> make_storage_release(const StorageConfig& config,
                                                     Credentials credentials,
                                                     CommandRunner runner = default_runner());

}  // namespace kolla::fencing
