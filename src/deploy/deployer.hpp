#pragma once
// The cluster side of `kollakube deploy | status | destroy`: CRDs, the namespace, the passwords
// Secret, the OpenStackDeployment itself, following it until Ready (or failing with the culprit
// and its events), and the ordered teardown.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "deploy/progress.hpp"
#include "kube/client.hpp"

namespace kolla::deploy {

// Thrown for an input that cannot be used (a CRD file, the spec); the CLI maps it to exit 3.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads every *.yaml under dir (sorted), applies each CRD server-side and waits until the API
// server reports them Established. Returns the CRD names.
std::vector<std::string> apply_crds(kube::Client& client, const std::string& dir,
                                    std::chrono::seconds timeout);

// Creates the namespace when absent. Returns true when it was created.
bool ensure_namespace(kube::Client& client, const std::string& ns);

struct PasswordsResult {
  bool created = false;
  std::size_t added = 0;  // keys generated now
  std::size_t kept = 0;   // keys already there (never changed)
};
// Makes sure Secret ns/name holds every password key the charts under charts_dir use: creates it
// when absent, adds the missing keys otherwise. Never changes an existing value, never logs one.
PasswordsResult ensure_passwords(kube::Client& client, const std::string& ns,
                                 const std::string& name, const std::string& charts_dir);

// Reads an OpenStackDeployment file (YAML) as the JSON to apply: status dropped, namespace set
// (`namespace_override`, else the file's, else "openstack"). Validates it like the operator does.
// Throws InputError.
json load_deployment(const std::string& file, const std::string& namespace_override);

// Server-side apply with field manager "kollakube".
json apply_deployment(kube::Client& client, const json& deployment);

struct Snapshot {
  json osd;                    // null when absent
  std::vector<json> services;  // OpenStackServices labelled with the deployment
};
Snapshot read_snapshot(kube::Client& client, const std::string& ns, const std::string& name);

// Events about a service and the objects it waits on (core/v1, by involvedObject).
std::vector<json> service_events(kube::Client& client, const std::string& ns,
                                 const ServiceRow& row);

struct FollowOptions {
  std::chrono::seconds timeout{600};
  std::chrono::milliseconds interval{1000};
  // A Degraded deployment may recover (the operator retries); fail when it stays Degraded this
  // long.
  std::chrono::seconds degraded_grace{60};
  bool tty = false;  // redraw a table, else one line per change
  int columns = 0;   // terminal width: redrawn lines are cut to it so none wraps (0: no cut)
  // Called every poll; return a message to stop following (e.g. "the operator exited").
  std::function<std::string()> check;
};

enum class FollowResult { kReady, kDegraded, kInvalidSpec, kTimeout, kMissing, kStopped };

struct FollowReport {
  FollowResult result = FollowResult::kTimeout;
  DeploymentView view;
  std::string stop_message;  // from FollowOptions::check
  double seconds = 0;
};

// Polls the deployment and its services until Ready, Degraded past the grace, InvalidSpec,
// gone, `check` objects, or the timeout; draws progress on `out`.
FollowReport follow(kube::Client& client, const std::string& ns, const std::string& name,
                    const FollowOptions& options, std::ostream& out);

// The text explaining a deployment that did not become Ready: its condition, the failing
// service, its blocker and the last events about it.
std::string failure_report(kube::Client& client, const DeploymentView& view);

// The screen `status` prints for one deployment (and the TTY redraw of `deploy`).
std::string render_screen(const DeploymentView& view, std::int64_t elapsed_seconds, bool show_bar);

struct DestroyOptions {
  std::chrono::seconds timeout{600};
  std::chrono::milliseconds interval{1000};
  std::function<std::string()> check;
};
struct DestroyReport {
  bool existed = false;
  bool gone = false;
  std::string stop_message;
  std::vector<std::string> remaining;  // services left when not gone
  double seconds = 0;
};
// Deletes the deployment and waits until it and its OpenStackServices are gone, printing each
// service as it goes.
DestroyReport destroy(kube::Client& client, const std::string& ns, const std::string& name,
                      const DestroyOptions& options, std::ostream& out);

}  // namespace kolla::deploy
