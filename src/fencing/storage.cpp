#include "fencing/storage.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/redact.hpp"

namespace kolla::fencing {

StorageError::StorageError(const std::string& message) : std::runtime_error(redact(message)) {}

NodeInfo node_info(const json& node) {
  NodeInfo info;
  info.name = node.value("/metadata/name"_json_pointer, std::string{});
  for (const auto& a : node.value("/status/addresses"_json_pointer, json::array())) {
    const std::string address = a.value("address", "");
    if (!address.empty()) info.addresses.push_back(address);
  }
  return info;
}

std::string locker_host(const std::string& address) {
  std::string a = address;
  if (a.starts_with("v1:") || a.starts_with("v2:")) a = a.substr(3);
  if (!a.empty() && a.front() == '[') {
    const auto close = a.find(']');
    return close == std::string::npos ? a.substr(1) : a.substr(1, close - 1);
  }
  const auto slash = a.find('/');
  if (slash != std::string::npos) a = a.substr(0, slash);
  const auto colon = a.rfind(':');
  if (colon != std::string::npos && a.find(':') == colon) a = a.substr(0, colon);
  return a;
}

std::vector<json> parse_rbd_locks(const std::string& output) {
  std::vector<json> locks;
  auto j = json::parse(output.empty() ? std::string("[]") : output, nullptr, false);
  if (j.is_discarded()) throw StorageError("rbd lock ls did not print JSON");
  if (j.is_array()) {
    for (const auto& l : j) {
      if (l.is_object()) locks.push_back(l);
    }
  } else if (j.is_object()) {
    for (const auto& [id, l] : j.items()) {
      json lock = l.is_object() ? l : json::object();
      lock["id"] = id;
      locks.push_back(lock);
    }
  }
  return locks;
}

namespace {

std::string tail(const ProcessResult& r) {
  std::string text = r.err.empty() ? r.out : r.err;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.size() > 300) text = "..." + text.substr(text.size() - 300);
  return redact(text);
}

// A private keyring file, removed on destruction.
class TempKeyring {
 public:
  TempKeyring(const std::string& user, const Credentials& credentials) {
    std::string content = credentials.get("keyring");
    if (content.empty() && !credentials.get("key").empty()) {
      content = "[client." + user + "]\n\tkey = " + credentials.get("key") + "\n";
    }
    if (content.empty()) return;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "kolla-fence-keyring-XXXXXX").string();
    const int fd = ::mkstemp(pattern.data());
    if (fd < 0) throw StorageError("cannot create a temporary keyring file");
    ::fchmod(fd, 0600);
    const char* p = content.data();
    std::size_t left = content.size();
    while (left > 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n <= 0) {
        ::close(fd);
        ::unlink(pattern.c_str());
        throw StorageError("cannot write the temporary keyring file");
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    ::close(fd);
    path_ = pattern;
  }
  ~TempKeyring() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempKeyring(const TempKeyring&) = delete;
  TempKeyring& operator=(const TempKeyring&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

CephRbdRelease::CephRbdRelease(StorageConfig config, Credentials credentials, CommandRunner runner)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      runner_(std::move(runner)) {}

ProcessResult CephRbdRelease::run(const std::vector<std::string>& args, const std::string& keyring,
                                  const std::string& program) {
  std::vector<std::string> argv{program, "--id", config_.ceph_user};
  if (!keyring.empty()) argv.insert(argv.end(), {"--keyring", keyring});
  if (!config_.monitors.empty()) argv.insert(argv.end(), {"-m", config_.monitors});
  argv.insert(argv.end(), args.begin(), args.end());
  RunOptions options;
  options.timeout = config_.timeout;
  try {
    return runner_(argv, options);
  } catch (const std::exception& e) {
    throw StorageError("cannot run " + program + ": " + e.what());
  }
}

std::string CephRbdRelease::release(const NodeInfo& node) {
  if (node.addresses.empty()) {
    throw StorageError("node " + node.name + " has no address to match RBD lockers against");
  }
  const std::set<std::string> hosts(node.addresses.begin(), node.addresses.end());
  TempKeyring keyring(config_.ceph_user, credentials_);
  const std::string& ceph = config_.ceph;
  std::set<std::string> blocklisted;
  int released = 0;
  for (const auto& pool : config_.pools) {
    auto ls = run({"ls", "--pool", pool, "--format", "json"}, keyring.path(), config_.rbd);
    if (!ls.ok()) throw StorageError("rbd ls " + pool + " failed: " + tail(ls));
    auto images = json::parse(ls.out.empty() ? std::string("[]") : ls.out, nullptr, false);
    if (images.is_discarded() || !images.is_array()) {
      throw StorageError("rbd ls " + pool + " did not print a JSON list");
    }
    for (const auto& image_j : images) {
      if (!image_j.is_string()) continue;
      const std::string image = pool + "/" + image_j.get<std::string>();
      auto locks_r = run({"lock", "ls", image, "--format", "json"}, keyring.path(), config_.rbd);
      if (!locks_r.ok()) throw StorageError("rbd lock ls " + image + " failed: " + tail(locks_r));
      for (const auto& lock : parse_rbd_locks(locks_r.out)) {
        const std::string address = lock.value("address", "");
        if (!hosts.contains(locker_host(address))) continue;
        if (!blocklisted.contains(address)) {
          auto bl = run({"osd", "blocklist", "add", address}, keyring.path(), ceph);
          if (!bl.ok()) throw StorageError("ceph osd blocklist add failed: " + tail(bl));
          blocklisted.insert(address);
        }
        auto rm = run({"lock", "rm", image, lock.value("id", ""), lock.value("locker", "")},
                      keyring.path(), config_.rbd);
        if (!rm.ok()) throw StorageError("rbd lock rm " + image + " failed: " + tail(rm));
        ++released;
      }
    }
  }
  return std::to_string(released) + " RBD locks released, " + std::to_string(blocklisted.size()) +
         " clients blocklisted";
}

CommandRelease::CommandRelease(StorageConfig config, Credentials credentials, CommandRunner runner)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      runner_(std::move(runner)) {}

std::string CommandRelease::release(const NodeInfo& node) {
  const std::string address = node.addresses.empty() ? std::string{} : node.addresses.front();
  std::vector<std::string> argv;
  for (const auto& a : config_.command)
    argv.push_back(expand(a, {{"node", node.name}, {"address", address}}));
  RunOptions options;
  options.timeout = config_.timeout;
  for (const auto& [k, v] : credentials_.values) {
    std::string name = "FENCE_";
    for (char c : k) {
      name.push_back(std::isalnum(static_cast<unsigned char>(c))
                         ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
                         : '_');
    }
    options.extra_env[name] = v;
  }
  options.extra_env["FENCE_NODE"] = node.name;
  ProcessResult r;
  try {
    r = runner_(argv, options);
  } catch (const std::exception& e) {
    throw StorageError("cannot run " + argv.front() + ": " + e.what());
  }
  if (!r.ok()) {
    throw StorageError(config_.name + " release exited " + std::to_string(r.exit_code) + ": " +
                       tail(r));
  }
  return config_.name + " released";
}

std::unique_ptr<StorageRelease> make_storage_release(const StorageConfig& config,
                                                     Credentials credentials,
                                                     CommandRunner runner) {
  if (config.type == StorageType::kCephRbd) {
    return std::make_unique<CephRbdRelease>(config, std::move(credentials), std::move(runner));
  }
  return std::make_unique<CommandRelease>(config, std::move(credentials), std::move(runner));
}

}  // namespace kolla::fencing
