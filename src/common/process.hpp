#pragma once
// Running external programs (helm, kubectl, the control-plane binaries) without a shell.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kolla {

struct ProcessResult {
  int exit_code = -1;      // exit status, or 128+signal when killed by a signal
  std::string out;         // captured standard output
  std::string err;         // captured standard error
  bool timed_out = false;  // the process was killed because it ran past the timeout
  bool ok() const { return exit_code == 0 && !timed_out; }
};

struct RunOptions {
  std::string stdin_data;                            // written to the child's standard input
  std::optional<std::chrono::milliseconds> timeout;  // kill (SIGKILL) after this long
  std::map<std::string, std::string> extra_env;      // added to (or overriding) the environment
  std::string working_dir;                           // empty: inherit
};

// Runs argv[0] (looked up in PATH) with the given arguments and waits for it.
// Throws std::system_error when the program cannot be started at all.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& options = {});

// A long-running child (a server). Killed (SIGTERM, then SIGKILL) when destroyed unless detached.
class ChildProcess {
 public:
  struct Options {
    std::string log_file;  // stdout+stderr appended here; empty: /dev/null
    std::map<std::string, std::string> extra_env;
    bool new_session = true;  // own process group, survives our terminal
  };
  ChildProcess() = default;
  static ChildProcess spawn(const std::vector<std::string>& argv, const Options& options);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  int pid() const { return pid_; }
  bool running();  // reaps the child when it has exited
  // SIGTERM, wait up to grace, then SIGKILL. Returns the exit code (128+signal if signalled).
  int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  void detach() { pid_ = -1; }  // leave the process running on destruction

 private:
  explicit ChildProcess(int pid) : pid_(pid) {}
  int pid_ = -1;
  int exit_code_ = -1;
};

// Finds an executable: an explicit path, else $PATH, else the project's tools folder.
std::optional<std::string> find_executable(const std::string& name);

// The directory holding the project's tools (helm, kubectl, the k8s binaries):
// $KOLLA_TOOLS_DIR, else <source dir>/.tools.
std::string tools_dir();

// The project's source tree (charts/, examples/): $KOLLA_HOME, else the configured source dir.
std::string source_dir();

}  // namespace kolla
