#pragma once
// What `kollakube deploy`, `status` and `destroy` show about an OpenStackDeployment: a view built
// from the custom resources (pure), the table, the progress bar, the one-line-per-change log and
// the outcome. Nothing here talks to a cluster, so every function is unit-tested.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace kolla::deploy {

using json = nlohmann::json;

// One service of a deployment, as the table shows it.
struct ServiceRow {
  std::string name;
  std::string phase;       // Pending, Progressing, Ready, Failed, Deleting, WaitingForDependency
  bool ready = false;      // Ready condition True for the current generation
  bool created = false;    // the OpenStackService exists
  std::string waiting_on;  // objects (Job/x) or, before creation, "deps: a, b"
  std::string step;        // the chart phase being applied (pre-install/-8, main)
  std::string message;     // the Ready condition's message
  int wave = -1;
  // Seconds since the OpenStackService was created (until it became Ready); -1 when not created.
  std::int64_t elapsed = -1;
};

struct DeploymentView {
  std::string name;
  std::string namespace_;
  bool exists = false;
  bool ready = false;     // Ready True and observedGeneration >= generation
  bool degraded = false;  // Degraded True
  bool invalid_spec = false;
  bool deleting = false;  // deletionTimestamp set
  std::string reason;     // Ready condition
  std::string message;
  int ready_count = 0;
  int total = 0;
  std::vector<ServiceRow> services;  // plan order (status.services), then any other service
};

// RFC 3339 "2025-01-02T03:04:05Z" (fractions and offsets accepted) → Unix seconds.
std::optional<std::int64_t> parse_timestamp(const std::string& text);

// "45s", "3m07s", "1h02m".
std::string format_duration(std::int64_t seconds);

// The view of deployment `osd` (null when absent) and its OpenStackServices at time `now`.
DeploymentView make_view(const json& osd, const std::vector<json>& services, std::int64_t now);

// "[############............] 7/12 ready" (width = number of cells).
std::string render_progress_bar(int ready, int total, int width = 30);

// The table: SERVICE PHASE READY WAITING-ON ELAPSED, one row per service. Waiting-on cells are
// cut to max_waiting characters (0: no limit).
std::string render_table(const DeploymentView& view, std::size_t max_waiting = 60);

// Lines describing what changed from `before` to `after` (non-terminal output), each prefixed
// with the seconds since the command started: "[  12s] keystone: Progressing pre-install/-8,
// waiting on Job/keystone-db-sync".
std::vector<std::string> change_lines(const DeploymentView& before, const DeploymentView& after,
                                      std::int64_t since_start);

enum class Outcome { kInProgress, kReady, kDegraded, kInvalidSpec, kMissing };
Outcome outcome(const DeploymentView& view);

// The service to blame when the deployment is not Ready: the first Failed one, else the first
// that exists and is not Ready, else the first not Ready. nullptr when all are Ready.
const ServiceRow* failing_service(const DeploymentView& view);

// "Job/glance-db-sync, Deployment/glance-api" → {{"Job","glance-db-sync"}, ...}.
std::vector<std::pair<std::string, std::string>> parse_waiting_on(const std::string& waiting_on);

// Last `limit` core/v1 Events (sorted by time), one line each: "12:03:04 Warning BackoffLimit
// Job/glance-db-sync: Job has reached the specified backoff limit".
std::vector<std::string> format_events(const std::vector<json>& events, std::size_t limit = 10);

// The JSON `status -o json|yaml` prints for one deployment: name, namespace, the CR status and
// each OpenStackService's status by name.
json status_document(const json& osd, const std::vector<json>& services);

}  // namespace kolla::deploy
