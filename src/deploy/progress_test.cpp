#include "deploy/progress.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kolla::deploy {
namespace {

json service(const std::string& name, const std::string& phase, bool ready,
             const std::string& waiting = "", const std::string& created = "2025-01-01T10:00:00Z",
             const std::string& ready_at = "2025-01-01T10:01:05Z") {
  json s = {{"metadata", {{"name", name}, {"generation", 1}, {"creationTimestamp", created}}},
            {"status",
             {{"observedGeneration", 1},
              {"phase", phase},
              {"currentStep", ready ? "main" : "pre-install/-8"},
              {"waitingOn", waiting},
              {"conditions",
               {{{"type", "Ready"},
                 {"status", ready ? "True" : "False"},
                 {"message", ready ? "all objects healthy" : "db-sync running"},
                 {"lastTransitionTime", ready_at}}}}}}};
  return s;
}

json deployment(bool ready, bool degraded = false) {
  return {{"metadata", {{"name", "aio"}, {"namespace", "openstack"}, {"generation", 2}}},
          {"status",
           {{"observedGeneration", 2},
            {"servicesReady", "1/3"},
            {"conditions",
             {{{"type", "Ready"},
               {"status", ready ? "True" : "False"},
               {"reason", ready ? "AllServicesReady" : "Deploying"},
               {"message", ready ? "3 services ready" : "keystone: db-sync running"}},
              {{"type", "Degraded"}, {"status", degraded ? "True" : "False"}}}},
            {"services",
             {{{"name", "mariadb"}, {"wave", 0}, {"phase", "Ready"}, {"ready", true}},
              {{"name", "keystone"}, {"wave", 1}, {"phase", "Progressing"}, {"ready", false}},
              {{"name", "glance"},
               {"wave", 2},
               {"phase", "WaitingForDependency"},
               {"ready", false},
               {"waitingOn", {"keystone"}},
               {"message", "waiting for keystone"}}}}}}};
}

const std::int64_t kNow = *parse_timestamp("2025-01-01T10:02:00Z");

TEST(Progress, ParsesTimestamps) {
  EXPECT_EQ(parse_timestamp("1970-01-01T00:01:00Z"), 60);
  EXPECT_EQ(parse_timestamp("1970-01-01T00:01:00.123456Z"), 60);
  EXPECT_EQ(parse_timestamp("1970-01-01T01:01:00+01:00"), 60);
  EXPECT_FALSE(parse_timestamp("yesterday"));
  EXPECT_FALSE(parse_timestamp("1970-01-01T00:01:00"));
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(-1), "-");
  EXPECT_EQ(format_duration(45), "45s");
  EXPECT_EQ(format_duration(187), "3m07s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

TEST(Progress, ProgressBar) {
  EXPECT_EQ(render_progress_bar(7, 12, 12), "[#######.....] 7/12 ready");
  EXPECT_EQ(render_progress_bar(0, 4, 4), "[....] 0/4 ready");
  EXPECT_EQ(render_progress_bar(4, 4, 4), "[####] 4/4 ready");
  EXPECT_EQ(render_progress_bar(0, 0, 3), "[...] 0/0 ready");
  EXPECT_EQ(render_progress_bar(9, 4, 4), "[####] 9/4 ready");  // clamped cells, true counts
}

TEST(Progress, ViewFollowsPlanOrderAndMergesServices) {
  const std::vector<json> services = {
      service("keystone", "Progressing", false, "Job/keystone-db-sync"),
      service("mariadb", "Ready", true)};
  const DeploymentView view = make_view(deployment(false), services, kNow);
  ASSERT_EQ(view.services.size(), 3u);
  EXPECT_EQ(view.name, "aio");
  EXPECT_EQ(view.namespace_, "openstack");
  EXPECT_EQ(view.services[0].name, "mariadb");
  EXPECT_TRUE(view.services[0].ready);
  EXPECT_EQ(view.services[0].elapsed, 65);  // creation → Ready transition
  EXPECT_EQ(view.services[1].name, "keystone");
  EXPECT_EQ(view.services[1].waiting_on, "Job/keystone-db-sync");
  EXPECT_EQ(view.services[1].step, "pre-install/-8");
  EXPECT_EQ(view.services[1].elapsed, 120);  // still running: creation → now
  EXPECT_EQ(view.services[2].name, "glance");
  EXPECT_FALSE(view.services[2].created);
  EXPECT_EQ(view.services[2].waiting_on, "deps: keystone");
  EXPECT_EQ(view.services[2].elapsed, -1);
  EXPECT_EQ(view.ready_count, 1);
  EXPECT_EQ(view.total, 3);
  EXPECT_EQ(outcome(view), Outcome::kInProgress);
  EXPECT_EQ(failing_service(view)->name, "keystone");
}

TEST(Progress, StaleReadyIsNotReady) {
  json osd = deployment(true);
  osd["metadata"]["generation"] = 3;  // spec changed, the operator has not seen it yet
  std::vector<json> services = {service("mariadb", "Ready", true),
                                service("keystone", "Ready", true),
                                service("glance", "Ready", true)};
  EXPECT_FALSE(make_view(osd, services, kNow).ready);
  osd["metadata"]["generation"] = 2;
  const auto view = make_view(osd, services, kNow);
  EXPECT_TRUE(view.ready);
  EXPECT_EQ(outcome(view), Outcome::kReady);
  EXPECT_EQ(failing_service(view), nullptr);
  services[1]["metadata"]["generation"] = 2;  // keystone's spec changed
  EXPECT_EQ(outcome(make_view(osd, services, kNow)), Outcome::kInProgress);
}

TEST(Progress, ServicesWithoutDeploymentStatusStillShow) {
  const auto view =
      make_view(json(), {service("mariadb", "Progressing", false, "Pod/mariadb-0")}, kNow);
  EXPECT_FALSE(view.exists);
  ASSERT_EQ(view.services.size(), 1u);
  EXPECT_EQ(outcome(view), Outcome::kMissing);
}

TEST(Progress, OutcomesAndFailingService) {
  const std::vector<json> services = {
      service("mariadb", "Ready", true),
      service("keystone", "Failed", false, "Job/keystone-db-sync, Deployment/keystone-api")};
  const auto view = make_view(deployment(false, true), services, kNow);
  EXPECT_EQ(outcome(view), Outcome::kDegraded);
  ASSERT_NE(failing_service(view), nullptr);
  EXPECT_EQ(failing_service(view)->name, "keystone");
  json invalid = deployment(false);
  invalid["status"]["conditions"].push_back({{"type", "InvalidSpec"}, {"status", "True"}});
  EXPECT_EQ(outcome(make_view(invalid, {}, kNow)), Outcome::kInvalidSpec);
}

TEST(Progress, TableHasAlignedColumns) {
  const std::vector<json> services = {
      service("keystone", "Progressing", false, "Job/keystone-db-sync"),
      service("mariadb", "Ready", true)};
  const std::string table = render_table(make_view(deployment(false), services, kNow));
  EXPECT_EQ(table,
            "SERVICE   PHASE                 READY  WAITING-ON            ELAPSED\n"
            "mariadb   Ready                 yes    -                     1m05s\n"
            "keystone  Progressing           no     Job/keystone-db-sync  2m00s\n"
            "glance    WaitingForDependency  no     deps: keystone        -\n");
}

TEST(Progress, TableCutsLongWaitingOn) {
  const std::vector<json> services = {service("nova", "Progressing", false, std::string(80, 'x'))};
  const std::string table = render_table(make_view(json(), services, kNow), 20);
  EXPECT_NE(table.find(std::string(17, 'x') + "..."), std::string::npos);
  EXPECT_EQ(table.find(std::string(18, 'x')), std::string::npos);
}

TEST(Progress, ChangeLinesReportOnlyChanges) {
  const std::vector<json> before_services = {
      service("mariadb", "Progressing", false, "StatefulSet/mariadb")};
  const auto before = make_view(deployment(false), before_services, kNow);
  // First poll: every service is new.
  const auto first = change_lines(DeploymentView{}, before, 3);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first[0],
            "[   3s] mariadb: Progressing pre-install/-8, waiting on StatefulSet/mariadb");
  EXPECT_EQ(first[1], "[   3s] keystone: Progressing");
  EXPECT_EQ(first[2], "[   3s] glance: WaitingForDependency, waiting on deps: keystone");
  EXPECT_EQ(first[3], "[   3s] [....................] 0/3 ready");
  // Nothing changed: nothing printed.
  EXPECT_TRUE(change_lines(before, before, 4).empty());
  // mariadb becomes Ready.
  const auto after = make_view(deployment(false), {service("mariadb", "Ready", true)}, kNow);
  const auto lines = change_lines(before, after, 70);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "[1m10s] mariadb: Ready after 1m05s");
  EXPECT_EQ(lines[1], "[1m10s] [######..............] 1/3 ready");
}

TEST(Progress, ChangeLinesNameTheFailure) {
  const auto before =
      make_view(deployment(false), {service("mariadb", "Progressing", false)}, kNow);
  const auto after =
      make_view(deployment(false, true), {service("mariadb", "Failed", false, "Job/x")}, kNow);
  const auto lines = change_lines(before, after, 5);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "[   5s] mariadb: Failed pre-install/-8, waiting on Job/x: db-sync running");
  EXPECT_EQ(lines[1],
            "[   5s] [....................] 0/3 ready - Degraded: keystone: db-sync running");
}

TEST(Progress, ParsesWaitingOn) {
  const auto objects = parse_waiting_on("Job/glance-db-sync, Deployment/glance-api,bogus, /x");
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0], (std::pair<std::string, std::string>{"Job", "glance-db-sync"}));
  EXPECT_EQ(objects[1], (std::pair<std::string, std::string>{"Deployment", "glance-api"}));
  EXPECT_TRUE(parse_waiting_on("").empty());
}

TEST(Progress, FormatsLastEventsInTimeOrder) {
  std::vector<json> events;
  for (int i = 0; i < 12; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2025-01-01T10:00:%02dZ", 59 - i);  // newest first
    events.push_back({{"type", i == 0 ? "Warning" : "Normal"},
                      {"reason", "R" + std::to_string(i)},
                      {"message", "m"},
                      {"count", i == 0 ? 3 : 1},
                      {"lastTimestamp", ts},
                      {"involvedObject", {{"kind", "Job"}, {"name", "glance-db-sync"}}}});
  }
  const auto lines = format_events(events, 3);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "10:00:57 Normal R2 Job/glance-db-sync: m");
  EXPECT_EQ(lines[2], "10:00:59 Warning R0 Job/glance-db-sync: m (x3)");
}

TEST(Progress, StatusDocumentCarriesTheStatuses) {
  const auto doc = status_document(deployment(false), {service("mariadb", "Ready", true)});
  EXPECT_EQ(doc["name"], "aio");
  EXPECT_EQ(doc["namespace"], "openstack");
  EXPECT_EQ(doc["status"]["servicesReady"], "1/3");
  EXPECT_EQ(doc["services"]["mariadb"]["phase"], "Ready");
}

}  // namespace
}  // namespace kolla::deploy
