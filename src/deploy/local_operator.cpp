#include "deploy/local_operator.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

namespace kolla::deploy {

namespace fs = std::filesystem;

namespace {

// The NUL-separated command line of a process, or "" when it is gone.
std::string cmdline_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool alive(int pid) {
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

std::string join_argv(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) out += a + '\0';
  return out;
}

}  // namespace

std::optional<std::string> find_operator_binary() {
  if (const char* env = std::getenv("KOLLA_OPERATOR_BIN"); env != nullptr && *env != '\0') {
    if (::access(env, X_OK) == 0) return std::string(env);
    return std::nullopt;
  }
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path beside = self.parent_path() / "kolla-operator";
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return find_executable("kolla-operator");
}

std::vector<std::string> operator_argv(const LocalOperatorOptions& o) {
  std::vector<std::string> argv = {o.binary, "--kubeconfig", o.kubeconfig};
  if (!o.context.empty()) argv.insert(argv.end(), {"--context", o.context});
  if (!o.namespace_.empty()) {
    argv.insert(argv.end(), {"--namespace", o.namespace_, "--lease-namespace", o.namespace_});
  }
  // Leader election keeps two local operators (one kept from an earlier run) from both acting.
  argv.insert(argv.end(), {"--leader-elect", "--metrics-addr", "", "--health-addr", "",
                           "--log-level", o.log_level});
  if (!o.charts_dir.empty()) argv.insert(argv.end(), {"--charts-dir", o.charts_dir});
  return argv;
}

LocalOperator LocalOperator::start(const LocalOperatorOptions& options) {
  fs::create_directories(options.state_dir);
  LocalOperator op;
  // One operator per watched namespace.
  const std::string base =
      options.namespace_.empty() ? "kolla-operator" : "kolla-operator-" + options.namespace_;
  op.log_file_ = (fs::path(options.state_dir) / (base + ".log")).string();
  op.pid_file_ = (fs::path(options.state_dir) / (base + ".pid")).string();
  const std::vector<std::string> argv = operator_argv(options);

  // Reuse the one a previous command kept, when it runs with the same arguments.
  std::ifstream pid_in(op.pid_file_);
  int old_pid = 0;
  if (pid_in >> old_pid && alive(old_pid) && cmdline_of(old_pid) == join_argv(argv)) {
    op.pid_ = old_pid;
    op.reused_ = true;
    return op;
  }

  {
    std::ofstream mark(op.log_file_, std::ios::app);
    mark << "---- kollakube started kolla-operator\n";
  }
  ChildProcess::Options child_options;
  child_options.log_file = op.log_file_;
  op.child_ = ChildProcess::spawn(argv, child_options);
  op.pid_ = op.child_.pid();
  {
    std::ofstream pid_out(op.pid_file_, std::ios::trunc);
    pid_out << op.pid_ << "\n";
  }
  // An operator that cannot start (bad kubeconfig, port in use) exits at once.
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!op.child_.running()) {
      const std::string tail = op.log_tail();
      std::error_code ec;
      fs::remove(op.pid_file_, ec);
      op.pid_ = -1;
      throw std::runtime_error("kolla-operator exited at start (log " + op.log_file_ + "):\n" +
                               tail);
    }
  }
  return op;
}

LocalOperator::LocalOperator(LocalOperator&& other) noexcept
    : child_(std::move(other.child_)),
      pid_(std::exchange(other.pid_, -1)),
      reused_(other.reused_),
      kept_(other.kept_),
      log_file_(std::move(other.log_file_)),
      pid_file_(std::move(other.pid_file_)) {}

LocalOperator& LocalOperator::operator=(LocalOperator&& other) noexcept {
  if (this != &other) {
    stop();
    child_ = std::move(other.child_);
    pid_ = std::exchange(other.pid_, -1);
    reused_ = other.reused_;
    kept_ = other.kept_;
    log_file_ = std::move(other.log_file_);
    pid_file_ = std::move(other.pid_file_);
  }
  return *this;
}

LocalOperator::~LocalOperator() {
  stop();
}

bool LocalOperator::running() {
  if (pid_ <= 0) return false;
  if (child_.pid() > 0) return child_.running();
  return alive(pid_);
}

void LocalOperator::keep() {
  kept_ = true;
  child_.detach();
}

void LocalOperator::stop() {
  if (kept_ || pid_ <= 0) return;
  if (child_.pid() > 0) {
    child_.stop(std::chrono::seconds(10));
  } else if (alive(pid_)) {
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100 && alive(pid_); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (alive(pid_)) ::kill(pid_, SIGKILL);
  }
  std::error_code ec;
  if (!pid_file_.empty()) fs::remove(pid_file_, ec);
  pid_ = -1;
}

std::string LocalOperator::log_tail(std::size_t lines) const {
  std::ifstream in(log_file_);
  std::deque<std::string> tail;
  std::string line;
  while (std::getline(in, line)) {
    tail.push_back(line);
    if (tail.size() > lines) tail.pop_front();
  }
  std::string out;
  for (const auto& l : tail) out += "  " + l + "\n";
  return out;
}

}  // namespace kolla::deploy
