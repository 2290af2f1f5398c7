#include "operator/health.hpp"

#include <gtest/gtest.h>

namespace kolla::op {
namespace {

using nlohmann::json;

json deployment(int replicas, int updated, int available, int total, int generation = 2,
                int observed = 2) {
  return json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"nova-api","generation":)" +
                     std::to_string(generation) + R"(},
    "spec":{"replicas":)" +
                     std::to_string(replicas) + R"(},
    "status":{"observedGeneration":)" +
                     std::to_string(observed) + R"(,
      "replicas":)" + std::to_string(total) +
                     R"(,"updatedReplicas":)" + std::to_string(updated) +
                     R"(,"availableReplicas":)" + std::to_string(available) + "}}");
}

TEST(HealthTest, Deployment) {
  EXPECT_EQ(assess_health(deployment(3, 3, 1, 3)),
            (Health{HealthStatus::kProgressing, "Deployment nova-api 1/3 available"}));
  EXPECT_EQ(assess_health(deployment(3, 3, 3, 3)),
            (Health{HealthStatus::kHealthy, "Deployment nova-api 3/3 available"}));
  EXPECT_EQ(assess_health(deployment(3, 1, 3, 4)).message, "Deployment nova-api 1/3 updated");
  EXPECT_EQ(assess_health(deployment(3, 3, 3, 4)).message,
            "Deployment nova-api 1 old replicas pending termination");
  EXPECT_EQ(assess_health(deployment(3, 3, 3, 3, 3, 2)).status, HealthStatus::kProgressing);
  json stuck = deployment(1, 0, 0, 1);
  stuck["status"]["conditions"] = json::parse(
      R"([{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded"}])");
  EXPECT_EQ(assess_health(stuck).status, HealthStatus::kDegraded);
  json defaults = json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"d"},"spec":{},"status":{}})");
  EXPECT_EQ(assess_health(defaults).message, "Deployment d 0/1 updated");
}

TEST(HealthTest, StatefulSet) {
  json sts = json::parse(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":"mariadb","generation":1},"spec":{"replicas":3},
    "status":{"observedGeneration":1,"readyReplicas":2,"updatedReplicas":3,
              "currentRevision":"r1","updateRevision":"r1"}})");
  EXPECT_EQ(assess_health(sts),
            (Health{HealthStatus::kProgressing, "StatefulSet mariadb 2/3 ready"}));
  sts["status"]["readyReplicas"] = 3;
  EXPECT_EQ(assess_health(sts), (Health{HealthStatus::kHealthy, "StatefulSet mariadb 3/3 ready"}));
  sts["status"]["updateRevision"] = "r2";
  EXPECT_EQ(assess_health(sts).status, HealthStatus::kProgressing);
  sts["spec"]["updateStrategy"] = {{"type", "OnDelete"}};
  EXPECT_EQ(assess_health(sts).status, HealthStatus::kHealthy);
}

TEST(HealthTest, DaemonSet) {
  json ds = json::parse(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
    "metadata":{"name":"openvswitch","generation":1},
    "status":{"observedGeneration":1,"desiredNumberScheduled":2,"updatedNumberScheduled":2,
              "numberAvailable":1,"numberReady":1}})");
  EXPECT_EQ(assess_health(ds),
            (Health{HealthStatus::kProgressing, "DaemonSet openvswitch 1/2 available"}));
  ds["status"]["numberAvailable"] = 2;
  EXPECT_TRUE(assess_health(ds).healthy());
  ds["status"]["updatedNumberScheduled"] = 1;
  EXPECT_EQ(assess_health(ds).message, "DaemonSet openvswitch 1/2 updated");
}

TEST(HealthTest, Job) {
  json job = json::parse(R"({"apiVersion":"batch/v1","kind":"Job",
    "metadata":{"name":"glance-db-sync"},"status":{"active":1}})");
  EXPECT_EQ(assess_health(job),
            (Health{HealthStatus::kProgressing, "Job glance-db-sync running (1 active)"}));
  job["status"]["failed"] = 2;
  EXPECT_EQ(assess_health(job).message, "Job glance-db-sync running (1 active, 2 failed attempts)");
  job["status"]["conditions"] = json::parse(
      R"([{"type":"Failed","status":"True","reason":"BackoffLimitExceeded",
           "message":"Job has reached the specified backoff limit"}])");
  EXPECT_EQ(assess_health(job),
            (Health{HealthStatus::kDegraded, "Job glance-db-sync failed: BackoffLimitExceeded"}));
  job["status"]["conditions"] = json::parse(R"([{"type":"SuccessCriteriaMet","status":"True"},
                      {"type":"Complete","status":"True"}])");
  EXPECT_EQ(assess_health(job), (Health{HealthStatus::kHealthy, "Job glance-db-sync complete"}));
}

// The Job controller marks a Job Complete about a second after its pod succeeded (it batches pod
// updates); a succeeded pod of the Job (its uid) is enough.
TEST(HealthTest, JobWhosePodSucceededIsHealthyBeforeComplete) {
  json job = json::parse(R"({"apiVersion":"batch/v1","kind":"Job",
      "metadata":{"name":"keystone-db-sync","uid":"u1"},"spec":{"completions":1},
      "status":{"active":1}})");
  auto pod = [](const std::string& phase, const std::string& uid) {
    return json{{"metadata",
                 {{"name", "p"},
                  {"ownerReferences", json::array({{{"apiVersion", "batch/v1"},
                                                    {"kind", "Job"},
                                                    {"name", "keystone-db-sync"},
                                                    {"uid", uid},
                                                    {"controller", true}}})}}},
                {"status", {{"phase", phase}}}};
  };
  EXPECT_TRUE(needs_job_pods(job));
  HealthContext ctx;
  ctx.pods = {pod("Running", "u1"), pod("Succeeded", "other-job-uid")};
  EXPECT_EQ(assess_health(job, ctx).status, HealthStatus::kProgressing);
  ctx.pods.push_back(pod("Succeeded", "u1"));
  EXPECT_EQ(
      assess_health(job, ctx),
      (Health{HealthStatus::kHealthy, "Job keystone-db-sync succeeded (not yet marked Complete)"}));
  job["spec"]["completions"] = 2;
  EXPECT_EQ(assess_health(job, ctx).status, HealthStatus::kProgressing) << "1 of 2 completions";
  job["spec"]["completions"] = 1;
  job["spec"]["completionMode"] = "Indexed";
  EXPECT_EQ(assess_health(job, ctx).status, HealthStatus::kProgressing)
      << "indexed: left to the Job";
  job["spec"].erase("completionMode");
  // Failed wins; a Complete or Failed Job needs no pods.
  job["status"]["conditions"] = json::array({{{"type", "Failed"}, {"status", "True"}}});
  EXPECT_EQ(assess_health(job, ctx).status, HealthStatus::kDegraded);
  EXPECT_FALSE(needs_job_pods(job));
  EXPECT_FALSE(needs_job_pods(json{{"apiVersion", "apps/v1"}, {"kind", "Deployment"}}));
}

TEST(HealthTest, PersistentVolumeClaim) {
  json pvc = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim",
    "metadata":{"name":"data"},"status":{"phase":"Pending"}})");
  EXPECT_EQ(assess_health(pvc).status, HealthStatus::kProgressing);
  pvc["status"]["phase"] = "Bound";
  EXPECT_EQ(assess_health(pvc),
            (Health{HealthStatus::kHealthy, "PersistentVolumeClaim data bound"}));
  pvc["status"]["phase"] = "Lost";
  EXPECT_EQ(assess_health(pvc).status, HealthStatus::kDegraded);
}

TEST(HealthTest, ServiceNeedsReadyEndpoints) {
  json svc = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"keystone-api"},
    "spec":{"selector":{"app":"keystone"},"ports":[{"port":5000}]}})");
  EXPECT_TRUE(needs_endpoint_slices(svc));
  EXPECT_EQ(assess_health(svc),
            (Health{HealthStatus::kProgressing, "Service keystone-api has no ready endpoints"}));
  HealthContext ctx;
  ctx.endpoint_slices.push_back(json::parse(R"({"metadata":{"name":"other-x",
    "labels":{"kubernetes.io/service-name":"other"}},"endpoints":[{"addresses":["10.0.0.9"]}]})"));
  ctx.endpoint_slices.push_back(json::parse(R"({"metadata":{"name":"keystone-api-abc",
    "labels":{"kubernetes.io/service-name":"keystone-api"}},
    "endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":false}}]})"));
  EXPECT_EQ(assess_health(svc, ctx).status, HealthStatus::kProgressing);
  ctx.endpoint_slices.push_back(json::parse(R"({"metadata":{"name":"keystone-api-def",
    "labels":{"kubernetes.io/service-name":"keystone-api"}},
    "endpoints":[{"addresses":["10.0.0.2"],"conditions":{"ready":true}},
                 {"addresses":["10.0.0.3"]}]})"));
  EXPECT_EQ(assess_health(svc, ctx),
            (Health{HealthStatus::kHealthy, "Service keystone-api has 2 ready endpoints"}));
}

TEST(HealthTest, ServiceWithoutSelectorIsHealthy) {
  json svc = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"ext"},
    "spec":{"type":"ExternalName","externalName":"db.example.com","selector":{"a":"b"}}})");
  EXPECT_FALSE(needs_endpoint_slices(svc));
  EXPECT_TRUE(assess_health(svc).healthy());
  svc = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"manual"},
    "spec":{"ports":[{"port":1}]}})");
  EXPECT_TRUE(assess_health(svc).healthy());
}

TEST(HealthTest, MissingDeletingAndOtherKinds) {
  EXPECT_EQ(assess_health(json()).status, HealthStatus::kMissing);
  json cm = json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg"}})");
  EXPECT_EQ(assess_health(cm), (Health{HealthStatus::kHealthy, "ConfigMap cfg exists"}));
  cm["metadata"]["deletionTimestamp"] = "2025-01-01T00:00:00Z";
  EXPECT_EQ(assess_health(cm).status, HealthStatus::kProgressing);
}

TEST(HealthTest, Severity) {
  EXPECT_GT(health_severity(HealthStatus::kDegraded), health_severity(HealthStatus::kMissing));
  EXPECT_GT(health_severity(HealthStatus::kMissing), health_severity(HealthStatus::kProgressing));
  EXPECT_GT(health_severity(HealthStatus::kProgressing), health_severity(HealthStatus::kHealthy));
  EXPECT_EQ(to_string(HealthStatus::kDegraded), "Degraded");
}

}  // namespace
}  // namespace kolla::op
