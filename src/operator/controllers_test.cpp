// The two controllers against the in-memory API (FakeClient) and a fake renderer.
#include <gtest/gtest.h>

#include <algorithm>

#include "operator/conditions.hpp"
#include "operator/deployment_controller.hpp"
#include "operator/event_routing.hpp"
#include "operator/resources.hpp"
#include "operator/service_controller.hpp"
#include "operator/testing/fake_client.hpp"

namespace kolla::op {
namespace {

using testing::FakeClient;

int count_calls(const FakeClient& client, const std::string& prefix) {
  const auto calls = client.calls();
  return static_cast<int>(std::count_if(
      calls.begin(), calls.end(), [&](const std::string& c) { return c.rfind(prefix, 0) == 0; }));
}

json ready_status(std::int64_t generation = 1) {
  return {{"observedGeneration", generation},
          {"phase", "Ready"},
          {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}};
}

// ---- deployment controller ----------------------------------------------------------------

plan::ServiceCatalog test_catalog() {
  return plan::ServiceCatalog(
      {{"mariadb", "/charts/mariadb", "0.1.0", {}, "controller"},
       {"memcached", "/charts/memcached", "0.1.0", {}, "controller"},
       {"keystone", "/charts/keystone", "0.1.0", {"mariadb", "memcached"}, "controller"},
       {"glance", "/charts/glance", "0.1.0", {"keystone"}, "controller"}});
}

json deployment_cr(const json& services) {
  return {{"apiVersion", "kolla.openstack.org/v1alpha1"},
          {"kind", "OpenStackDeployment"},
          {"metadata", {{"name", "aio"}, {"namespace", "openstack"}}},
          {"spec", {{"release", "2025.1"}, {"services", services}}}};
}

struct DeploymentFixture : ::testing::Test {
  FakeClient client;
  FakeClock clock;
  EventRecorder events{client, "kolla-operator", "test", clock};
  DeploymentReconciler reconciler{client, test_catalog, events, {}, clock};

  json osd() { return *client.get(kDeploymentKind, "openstack", "aio"); }
  std::optional<json> oss(const std::string& name) {
    return client.get(kServiceKind, "openstack", name);
  }
  Condition cond(const std::string& type) {
    auto c = find_condition(osd()["status"]["conditions"], type);
    EXPECT_TRUE(c) << type;
    return c ? *c : Condition{};
  }
};

TEST_F(DeploymentFixture, CreatesServicesWhenDependenciesAreReady) {
  client.put(deployment_cr({{"mariadb", json::object()},
                            {"memcached", json::object()},
                            {"keystone", {{"values", {{"api", {{"replicas", 2}}}}}}},
                            {"glance", json::object()}}));
  reconciler.reconcile("openstack/aio");
  // Independent services start together; dependents wait.
  EXPECT_TRUE(oss("mariadb"));
  EXPECT_TRUE(oss("memcached"));
  EXPECT_FALSE(oss("keystone"));
  EXPECT_FALSE(oss("glance"));
  EXPECT_EQ(cond("Ready").status, ConditionStatus::kFalse);
  EXPECT_EQ(cond("Ready").reason, "Deploying");
  EXPECT_EQ(osd()["status"]["servicesReady"], "0/4");
  EXPECT_EQ(osd()["metadata"]["finalizers"], json::array({kDeploymentFinalizer}));

  const json mariadb = *oss("mariadb");
  EXPECT_EQ(mariadb["spec"]["service"], "mariadb");
  EXPECT_EQ(mariadb["metadata"]["labels"][kDeploymentLabel], "aio");
  EXPECT_EQ(mariadb["metadata"]["ownerReferences"][0]["kind"], "OpenStackDeployment");
  EXPECT_EQ(mariadb["spec"]["values"]["global"]["release"], "2025.1");

  client.set_status(kServiceKind, "openstack", "mariadb", ready_status());
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(oss("keystone")) << "memcached is not Ready yet";
  client.set_status(kServiceKind, "openstack", "memcached", ready_status());
  reconciler.reconcile("openstack/aio");
  ASSERT_TRUE(oss("keystone"));
  EXPECT_EQ(oss("keystone")->at("spec")["values"]["api"]["replicas"], 2);
  EXPECT_EQ(oss("keystone")->at("spec")["dependencies"], json::array({"mariadb", "memcached"}));
  EXPECT_FALSE(oss("glance"));

  // keystone exists but is not ready: glance's blocker is named.
  reconciler.reconcile("openstack/aio");
  EXPECT_NE(cond("Ready").message.find("glance waiting for keystone"), std::string::npos)
      << cond("Ready").message;

  client.set_status(kServiceKind, "openstack", "keystone", ready_status());
  reconciler.reconcile("openstack/aio");
  ASSERT_TRUE(oss("glance"));
  client.set_status(kServiceKind, "openstack", "glance", ready_status());
  const Result done = reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("Ready").status, ConditionStatus::kTrue);
  EXPECT_EQ(cond("Ready").reason, "AllServicesReady");
  EXPECT_EQ(cond("Degraded").status, ConditionStatus::kFalse);
  EXPECT_EQ(osd()["status"]["servicesReady"], "4/4");
  EXPECT_EQ(osd()["status"]["plan"]["waves"].size(), 3u);
  EXPECT_EQ(osd()["status"]["observedGeneration"], 1);
  EXPECT_EQ(done.requeue_after, std::chrono::milliseconds(0));
}

// A dependency turning Ready enqueues its deployment at once (no timer): the informer's
// OpenStackService update handler maps the service to its OpenStackDeployment, and that one
// reconcile creates the dependants.
TEST_F(DeploymentFixture, DependencyTurningReadyEnqueuesItsDeploymentAtOnce) {
  client.put(deployment_cr(
      {{"mariadb", json::object()}, {"memcached", json::object()}, {"keystone", json::object()}}));
  reconciler.reconcile("openstack/aio");
  client.set_status(kServiceKind, "openstack", "mariadb", ready_status());
  ASSERT_FALSE(oss("keystone"));

  Controller services(
      "service", [](const std::string&) { return Result{}; }, {}, nullptr, clock);
  Controller deployments(
      "deployment", [this](const std::string& key) { return reconciler.reconcile(key); }, {},
      nullptr, clock);
  const kube::EventHandlers handlers = service_event_handlers(services, deployments);
  const auto before = std::make_shared<const json>(*oss("memcached"));
  client.set_status(kServiceKind, "openstack", "memcached", ready_status());
  const auto after = std::make_shared<const json>(*oss("memcached"));
  handlers.on_update(before, after);

  // Ready now, not after a delay; a status-only change does not re-run the service itself.
  EXPECT_EQ(deployments.queue().len(), 1u);
  EXPECT_EQ(deployments.queue().delayed_len(), 0u);
  EXPECT_EQ(services.queue().len(), 0u);
  ASSERT_TRUE(deployments.process_one());
  ASSERT_TRUE(oss("keystone"));
  EXPECT_EQ(oss("keystone")->at("spec")["dependencies"], json::array({"mariadb", "memcached"}));
}

TEST(EventRouting, MapsOwnedObjectsToTheirService) {
  const json job = {{"kind", "Job"},
                    {"metadata",
                     {{"name", "keystone-db-sync"},
                      {"namespace", "openstack"},
                      {"labels", {{kServiceLabel, "keystone"}}}}}};
  EXPECT_EQ(owning_service_key(job), "openstack/keystone");
  const json owned = {
      {"metadata",
       {{"name", "x"},
        {"namespace", "openstack"},
        {"ownerReferences", json::array({{{"apiVersion", "kolla.openstack.org/v1alpha1"},
                                          {"kind", "OpenStackService"},
                                          {"name", "glance"}}})}}}};
  EXPECT_EQ(owning_service_key(owned), "openstack/glance");
  EXPECT_FALSE(owning_service_key(json{{"metadata", {{"name", "y"}}}}));

  // EndpointSlice → its Service (by kubernetes.io/service-name) → the Service's owner.
  const auto svc =
      std::make_shared<const json>(json{{"kind", "Service"},
                                        {"metadata",
                                         {{"name", "keystone-api"},
                                          {"namespace", "openstack"},
                                          {"labels", {{kServiceLabel, "keystone"}}}}}});
  const json slice = {{"metadata",
                       {{"name", "keystone-api-abcde"},
                        {"namespace", "openstack"},
                        {"labels", {{kEndpointSliceServiceLabel, "keystone-api"}}}}}};
  auto lookup = [&](const std::string& key) {
    return key == "openstack/keystone-api" ? svc : kube::ObjectPtr{};
  };
  EXPECT_EQ(endpoint_slice_service_key(slice, lookup), "openstack/keystone");

  FakeClock clock;
  Controller services(
      "service", [](const std::string&) { return Result{}; }, {}, nullptr, clock);
  endpoint_slice_event_handlers(services, lookup).on_add(std::make_shared<const json>(slice));
  EXPECT_EQ(services.queue().try_get(), "openstack/keystone");

  // Status-only updates are the controller's own writes; spec changes and resyncs count.
  json a = {{"metadata", {{"name", "s"}, {"resourceVersion", "1"}}}, {"spec", {{"x", 1}}}};
  json b = a;
  b["metadata"]["resourceVersion"] = "2";
  b["status"] = {{"phase", "Ready"}};
  EXPECT_FALSE(changed_beyond_status(a, b));
  b["spec"]["x"] = 2;
  EXPECT_TRUE(changed_beyond_status(a, b));
  EXPECT_TRUE(changed_beyond_status(a, a));
}

TEST_F(DeploymentFixture, WaitingForDependencyNamesTheBlocker) {
  client.put(deployment_cr(
      {{"mariadb", json::object()}, {"memcached", json::object()}, {"keystone", json::object()}}));
  reconciler.reconcile("openstack/aio");
  client.set_status(kServiceKind, "openstack", "mariadb", ready_status());
  // memcached failed: Degraded, with the failing service named.
  client.set_status(
      kServiceKind, "openstack", "memcached",
      {{"observedGeneration", 1},
       {"phase", "Failed"},
       {"conditions",
        json::array({{{"type", "Ready"},
                      {"status", "False"},
                      {"message", "Deployment memcached exceeded its progress deadline"}}})}});
  reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("Degraded").status, ConditionStatus::kTrue);
  EXPECT_EQ(cond("Ready").reason, "ServiceFailed");
  EXPECT_NE(cond("Ready").message.find("memcached: Deployment memcached exceeded"),
            std::string::npos);
  EXPECT_NE(cond("Ready").message.find("keystone waiting for memcached"), std::string::npos);
  // memcached recovers but keystone still waits on a not-yet-ready generation.
  client.set_status(kServiceKind, "openstack", "memcached",
                    {{"observedGeneration", 0},
                     {"conditions", json::array({{{"type", "Ready"}, {"status", "True"}}})}});
  reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("Ready").reason, "Deploying");
  EXPECT_FALSE(oss("keystone")) << "a stale Ready (old generation) does not count";
}

TEST_F(DeploymentFixture, InvalidSpecChangesNothing) {
  client.put(deployment_cr({{"mariadb", json::object()}, {"bogus", json::object()}}));
  reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("InvalidSpec").status, ConditionStatus::kTrue);
  EXPECT_NE(cond("InvalidSpec").message.find("bogus"), std::string::npos);
  EXPECT_EQ(cond("Ready").reason, "InvalidSpec");
  EXPECT_FALSE(oss("mariadb"));
  EXPECT_EQ(count_calls(client, "apply"), 0);
  EXPECT_EQ(count_calls(client, "remove OpenStackService"), 0);
  // A dependency that is not enabled is a plan error too.
  client.put(deployment_cr({{"keystone", json::object()}}));
  reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("InvalidSpec").status, ConditionStatus::kTrue);
  EXPECT_FALSE(oss("keystone"));
}

TEST_F(DeploymentFixture, TeardownInReverseDependencyOrder) {
  client.put(deployment_cr({{"mariadb", json::object()},
                            {"memcached", json::object()},
                            {"keystone", json::object()},
                            {"glance", json::object()}}));
  for (const char* s : {"mariadb", "memcached", "keystone", "glance"}) {
    reconciler.reconcile("openstack/aio");
    client.set_status(kServiceKind, "openstack", s, ready_status());
  }
  reconciler.reconcile("openstack/aio");
  ASSERT_EQ(cond("Ready").status, ConditionStatus::kTrue);

  client.remove(kDeploymentKind, "openstack", "aio");
  ASSERT_TRUE(client.get(kDeploymentKind, "openstack", "aio")) << "held by the finalizer";
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(oss("glance"));
  EXPECT_TRUE(oss("keystone"));
  EXPECT_TRUE(oss("mariadb"));
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(oss("keystone"));
  EXPECT_TRUE(oss("mariadb"));
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(oss("mariadb"));
  EXPECT_FALSE(oss("memcached"));
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(client.get(kDeploymentKind, "openstack", "aio")) << "finalizer removed";
}

TEST_F(DeploymentFixture, DisabledServiceIsRemoved) {
  client.put(deployment_cr({{"mariadb", json::object()}, {"memcached", json::object()}}));
  reconciler.reconcile("openstack/aio");
  ASSERT_TRUE(oss("memcached"));
  json changed = osd();
  changed["spec"]["services"]["memcached"] = {{"enabled", false}};
  client.put(changed);
  reconciler.reconcile("openstack/aio");
  EXPECT_FALSE(oss("memcached"));
  EXPECT_TRUE(oss("mariadb"));
}

// ---- service controller -------------------------------------------------------------------

class FakeRenderer : public ServiceRenderer {
 public:
  std::string hash(const json&) override { return version; }
  chart::RenderedService render(const json&) override {
    ++renders;
    chart::RenderedService r;
    r.service = "glance";
    r.namespace_ = "openstack";
    r.values_hash = version;
    for (const auto& o : objects) r.objects.push_back(o);
    return r;
  }
  void add(chart::Stage stage, int weight, json object) {
    chart::RenderedObject o;
    o.object = std::move(object);
    o.phase = {stage, weight};
    objects.push_back(o);
  }
  std::string version = "v1";
  int renders = 0;
  std::vector<chart::RenderedObject> objects;
};

json obj(const std::string& api, const std::string& kind, const std::string& name,
         json spec = json::object()) {
  return {{"apiVersion", api}, {"kind", kind}, {"metadata", {{"name", name}}}, {"spec", spec}};
}

struct ServiceFixture : ::testing::Test {
  FakeClient client;
  FakeClock clock;
  Registry registry;
  FakeRenderer renderer;
  EventRecorder events{client, "kolla-operator", "test", clock};
  ServiceReconciler reconciler{client, renderer, events, registry, {}, clock};

  void SetUp() override {
    renderer.add(
        chart::Stage::kPreInstall, -20,
        {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", "glance-cfg"}}}});
    renderer.add(chart::Stage::kPreInstall, -8,
                 obj("batch/v1", "Job", "glance-db-sync", {{"backoffLimit", 3}}));
    renderer.add(chart::Stage::kMain, 0,
                 obj("apps/v1", "Deployment", "glance-api", {{"replicas", 1}}));
    renderer.add(chart::Stage::kMain, 0,
                 obj("v1", "Service", "glance-api", {{"selector", {{"app", "glance"}}}}));
    client.put({{"apiVersion", "kolla.openstack.org/v1alpha1"},
                {"kind", "OpenStackService"},
                {"metadata", {{"name", "glance"}, {"namespace", "openstack"}}},
                {"spec", {{"service", "glance"}, {"values", json::object()}}}});
  }
  json svc() { return *client.get(kServiceKind, "openstack", "glance"); }
  std::optional<json> get(const GroupVersionKind& gvk, const std::string& name) {
    return client.get(gvk, "openstack", name);
  }
};

TEST_F(ServiceFixture, AppliesPhaseByPhaseWaitingForHealth) {
  Result r = reconciler.reconcile("openstack/glance");
  EXPECT_GT(r.requeue_after.count(), 0);
  ASSERT_TRUE(get(kube::gvk::kConfigMap, "glance-cfg"));
  ASSERT_TRUE(get(kube::gvk::kJob, "glance-db-sync"));
  EXPECT_FALSE(get(kube::gvk::kDeployment, "glance-api")) << "main waits for the db-sync Job";
  EXPECT_EQ(svc()["status"]["phase"], "Progressing");
  EXPECT_EQ(svc()["status"]["waitingOn"], "Job/glance-db-sync");
  EXPECT_EQ(svc()["status"]["currentStep"],
            chart::Phase({chart::Stage::kPreInstall, -8}).to_string());

  const json job = *get(kube::gvk::kJob, "glance-db-sync");
  EXPECT_EQ(job["metadata"]["labels"][kServiceLabel], "glance");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["kind"], "OpenStackService");
  EXPECT_EQ(job["metadata"]["ownerReferences"][0]["uid"], svc()["metadata"]["uid"]);

  // The Job fails: Failed with the reason.
  client.set_status(
      kube::gvk::kJob, "openstack", "glance-db-sync",
      {{"conditions",
        json::array(
            {{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}})}});
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Failed");
  auto ready = find_condition(svc()["status"]["conditions"], "Ready");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->message, "Job glance-db-sync failed: BackoffLimitExceeded");
  EXPECT_TRUE(is_condition_true(svc()["status"]["conditions"], "Degraded"));

  // It completes: main is applied; the Deployment is not available yet.
  client.set_status(kube::gvk::kJob, "openstack", "glance-db-sync",
                    {{"conditions", json::array({{{"type", "Complete"}, {"status", "True"}}})}});
  reconciler.reconcile("openstack/glance");
  ASSERT_TRUE(get(kube::gvk::kDeployment, "glance-api"));
  EXPECT_EQ(svc()["status"]["phase"], "Progressing");
  EXPECT_NE(svc()["status"]["waitingOn"].get<std::string>().find("Deployment/glance-api"),
            std::string::npos);

  client.set_status(kube::gvk::kDeployment, "openstack", "glance-api",
                    {{"observedGeneration", 1},
                     {"replicas", 1},
                     {"updatedReplicas", 1},
                     {"availableReplicas", 1}});
  client.put({{"apiVersion", "discovery.k8s.io/v1"},
              {"kind", "EndpointSlice"},
              {"metadata",
               {{"name", "glance-api-x"},
                {"namespace", "openstack"},
                {"labels", {{"kubernetes.io/service-name", "glance-api"}}}}},
              {"endpoints", json::array({{{"addresses", {"10.0.0.1"}}}})}});
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Ready");
  EXPECT_TRUE(is_condition_true(svc()["status"]["conditions"], "Ready"));
  EXPECT_EQ(svc()["status"]["objects"].size(), 4u);
  const json objects = svc()["status"]["objects"];  // a copy: svc() returns a temporary
  for (const auto& o : objects) EXPECT_EQ(o["health"], "Healthy") << o.dump();
  EXPECT_EQ(renderer.renders, 1) << "rendered once while the hash is unchanged";
  EXPECT_EQ(registry.gauge("kolla_operator_services", "").value({{"phase", "Ready"}}), 1);
}

TEST_F(ServiceFixture, CompletedJobIsNotRerunUnlessItChanged) {
  reconciler.reconcile("openstack/glance");
  client.set_status(kube::gvk::kJob, "openstack", "glance-db-sync",
                    {{"conditions", json::array({{{"type", "Complete"}, {"status", "True"}}})}});
  const std::string uid = get(kube::gvk::kJob, "glance-db-sync")->at("metadata")["uid"];
  renderer.version = "v2";  // any input change re-applies everything
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(get(kube::gvk::kJob, "glance-db-sync")->at("metadata")["uid"], uid)
      << "same Job spec: not re-run";
  EXPECT_EQ(count_calls(client, "remove Job"), 0);

  renderer.version = "v3";
  renderer.objects[1].object["spec"]["backoffLimit"] = 5;
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(count_calls(client, "remove Job"), 1);
  reconciler.reconcile("openstack/glance");
  auto job = get(kube::gvk::kJob, "glance-db-sync");
  ASSERT_TRUE(job);
  EXPECT_NE(job->at("metadata")["uid"], uid) << "changed Job: recreated";
  EXPECT_EQ(job->at("spec")["backoffLimit"], 5);
}

TEST_F(ServiceFixture, FailedJobDeletedByHandRunsAgain) {
  reconciler.reconcile("openstack/glance");
  client.set_status(
      kube::gvk::kJob, "openstack", "glance-db-sync",
      {{"conditions",
        json::array(
            {{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}})}});
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Failed");
  const std::string uid = get(kube::gvk::kJob, "glance-db-sync")->at("metadata")["uid"];

  // The operator never re-runs an unchanged Job by itself; deleting it is how one retries.
  client.remove(kube::gvk::kJob, "openstack", "glance-db-sync");
  reconciler.reconcile("openstack/glance");
  auto job = get(kube::gvk::kJob, "glance-db-sync");
  ASSERT_TRUE(job) << "applied again";
  EXPECT_NE(job->at("metadata")["uid"], uid);
  EXPECT_EQ(svc()["status"]["phase"], "Progressing");
  EXPECT_FALSE(is_condition_true(svc()["status"]["conditions"], "Degraded"));
}

TEST_F(ServiceFixture, PrunesObjectsThatLeftTheRenderAndCleansUpOnDelete) {
  client.put({{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata",
               {{"name", "glance-old"},
                {"namespace", "openstack"},
                {"labels", {{kServiceLabel, "glance"}}}}}});
  client.put({{"apiVersion", "v1"},
              {"kind", "ConfigMap"},
              {"metadata", {{"name", "not-ours"}, {"namespace", "openstack"}}}});
  renderer.objects.resize(1);  // only the ConfigMap
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Ready");
  EXPECT_FALSE(get(kube::gvk::kConfigMap, "glance-old"));
  EXPECT_TRUE(get(kube::gvk::kConfigMap, "not-ours"));
  EXPECT_TRUE(get(kube::gvk::kConfigMap, "glance-cfg"));

  client.remove(kServiceKind, "openstack", "glance");
  ASSERT_TRUE(client.get(kServiceKind, "openstack", "glance"));
  reconciler.reconcile("openstack/glance");
  EXPECT_FALSE(get(kube::gvk::kConfigMap, "glance-cfg"));
  reconciler.reconcile("openstack/glance");
  EXPECT_FALSE(client.get(kServiceKind, "openstack", "glance"));
  EXPECT_TRUE(get(kube::gvk::kConfigMap, "not-ours"));
}

TEST_F(ServiceFixture, RenderFailureIsReported) {
  class Failing : public ServiceRenderer {
   public:
    std::string hash(const json&) override { return "x"; }
    chart::RenderedService render(const json&) override {
      throw chart::RenderError(chart::RenderError::Kind::kHelmFailed,
                               "helm template glance failed");
    }
  } failing;
  ServiceReconciler r(client, failing, events, registry, {}, clock);
  r.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Failed");
  EXPECT_EQ(find_condition(svc()["status"]["conditions"], "Ready")->reason, "RenderFailed");
}

}  // namespace
}  // namespace kolla::op
