#include "operator/events.hpp"

#include <gtest/gtest.h>

#include "common/redact.hpp"
#include "operator/testing/fake_client.hpp"

namespace kolla::op {
namespace {

using testing::FakeClient;

json service_object() {
  return json::parse(R"({"apiVersion":"kolla.openstack.org/v1alpha1","kind":"OpenStackService",
    "metadata":{"name":"glance","namespace":"openstack","uid":"u-1","resourceVersion":"7"}})");
}

TEST(EventsTest, MakesCoreV1Event) {
  FakeClient client;
  FakeClock clock;
  EventRecorder recorder(client, "kolla-operator", "pod-1", clock);
  json e = recorder.make_event(service_object(), EventType::kWarning, "JobFailed",
                               "Job glance-db-sync failed: BackoffLimitExceeded", "glance.1");
  EXPECT_EQ(e["apiVersion"], "v1");
  EXPECT_EQ(e["kind"], "Event");
  EXPECT_EQ(e["metadata"]["namespace"], "openstack");
  EXPECT_EQ(e["involvedObject"]["kind"], "OpenStackService");
  EXPECT_EQ(e["involvedObject"]["uid"], "u-1");
  EXPECT_EQ(e["type"], "Warning");
  EXPECT_EQ(e["reason"], "JobFailed");
  EXPECT_EQ(e["source"]["component"], "kolla-operator");
  EXPECT_EQ(e["reportingInstance"], "pod-1");
  EXPECT_EQ(e["count"], 1);
  EXPECT_EQ(e["firstTimestamp"], "2025-01-01T00:00:00Z");
}

TEST(EventsTest, AggregatesRepeatsAndRedacts) {
  FakeClient client;
  FakeClock clock;
  EventRecorder recorder(client, "kolla-operator", "pod-1", clock);
  register_secret("s3cr3t-value");
  recorder.warning(service_object(), "ApplyFailed", "password=s3cr3t-value rejected");
  clock.advance(std::chrono::seconds(5));
  recorder.warning(service_object(), "ApplyFailed", "password=s3cr3t-value rejected");
  recorder.normal(service_object(), "Ready", "all phases healthy");
  auto events = client.list(kube::gvk::kEvent, "openstack");
  ASSERT_EQ(events.size(), 2u);
  const json* failed = nullptr;
  for (const auto& e : events) {
    if (e["reason"] == "ApplyFailed") failed = &e;
  }
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ((*failed)["count"], 2);
  EXPECT_EQ((*failed)["lastTimestamp"], "2025-01-01T00:00:05Z");
  EXPECT_EQ((*failed)["message"].get<std::string>().find("s3cr3t-value"), std::string::npos);
}

TEST(EventsTest, RecreatesExpiredEventAndNeverThrows) {
  FakeClient client;
  FakeClock clock;
  EventRecorder recorder(client, "kolla-operator", "pod-1", clock);
  recorder.normal(service_object(), "Applied", "phase main");
  auto events = client.list(kube::gvk::kEvent, "openstack");
  ASSERT_EQ(events.size(), 1u);
  client.remove(kube::gvk::kEvent, "openstack", events[0]["metadata"]["name"]);  // TTL expiry
  recorder.normal(service_object(), "Applied", "phase main");
  EXPECT_EQ(client.list(kube::gvk::kEvent, "openstack").size(), 1u);
  client.fail_next("create", testing::server_error());
  EXPECT_NO_THROW(recorder.normal(service_object(), "Other", "x"));
}

}  // namespace
}  // namespace kolla::op
