#include "operator/status_writer.hpp"

#include <gtest/gtest.h>

#include "operator/testing/fake_client.hpp"

namespace kolla::op {
namespace {

using testing::FakeClient;

const GroupVersionKind kSvc{"kolla.openstack.org", "v1alpha1", "OpenStackService"};

json make_service() {
  return json::parse(R"({"apiVersion":"kolla.openstack.org/v1alpha1","kind":"OpenStackService",
    "metadata":{"name":"glance","namespace":"openstack"},"spec":{"service":"glance"}})");
}

TEST(StatusWriterTest, WritesThroughStatusSubresource) {
  FakeClient client;
  client.put(make_service());
  auto result = write_status(client, kSvc, "openstack", "glance",
                             [](json& status, const json&) { status["phase"] = "Progressing"; });
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->written);
  EXPECT_EQ(result->object["status"]["phase"], "Progressing");
  EXPECT_EQ(client.get(kSvc, "openstack", "glance")->at("status")["phase"], "Progressing");
  EXPECT_EQ(client.get(kSvc, "openstack", "glance")->at("metadata")["generation"], 1)
      << "a status write does not bump the generation";
}

TEST(StatusWriterTest, SkipsUnchangedStatus) {
  FakeClient client;
  client.put(make_service());
  write_status(client, kSvc, "openstack", "glance", [](json& s, const json&) { s["phase"] = "X"; });
  client.clear_calls();
  auto result = write_status(client, kSvc, "openstack", "glance",
                             [](json& s, const json&) { s["phase"] = "X"; });
  ASSERT_TRUE(result);
  EXPECT_FALSE(result->written);
  for (const auto& call : client.calls())
    EXPECT_EQ(call.rfind("update_status", 0), std::string::npos);
}

// The caller's copy spares a read; when it is stale, the Conflict falls back to reading.
TEST(StatusWriterTest, UsesTheKnownObjectFirstAndReadsOnConflict) {
  FakeClient client;
  const json known = client.put(make_service());
  client.clear_calls();
  auto result = write_status(
      client, kSvc, "openstack", "glance", [](json& s, const json&) { s["phase"] = "A"; }, 5,
      &known);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->written);
  for (const auto& call : client.calls()) EXPECT_EQ(call.rfind("get", 0), std::string::npos);

  // `known` is now stale (its resourceVersion is the old one).
  client.clear_calls();
  result = write_status(
      client, kSvc, "openstack", "glance", [](json& s, const json&) { s["phase"] = "B"; }, 5,
      &known);
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->written);
  EXPECT_EQ(result->conflicts, 1);
  EXPECT_EQ(client.get(kSvc, "openstack", "glance")->at("status")["phase"], "B");
}

TEST(StatusWriterTest, RetriesConflictsRecomputingFromFreshObject) {
  FakeClient client;
  client.put(make_service());
  client.fail_next("update_status", testing::conflict_error());
  client.fail_next("update_status", testing::conflict_error());
  int calls = 0;
  auto result = write_status(client, kSvc, "openstack", "glance", [&](json& s, const json&) {
    ++calls;
    s["phase"] = "Ready";
  });
  ASSERT_TRUE(result);
  EXPECT_EQ(result->conflicts, 2);
  EXPECT_EQ(calls, 3);
  EXPECT_TRUE(result->written);
}

TEST(StatusWriterTest, GivesUpAfterMaxAttemptsAndReportsMissing) {
  FakeClient client;
  client.put(make_service());
  for (int i = 0; i < 3; ++i) client.fail_next("update_status", testing::conflict_error());
  EXPECT_THROW(write_status(
                   client, kSvc, "openstack", "glance",
                   [](json& s, const json&) { s["phase"] = "Ready"; }, 3),
               kube::ApiError);
  EXPECT_FALSE(write_status(client, kSvc, "openstack", "absent", [](json&, const json&) {}));
}

}  // namespace
}  // namespace kolla::op
