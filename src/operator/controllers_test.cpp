// The two controllers against the in-memory API (FakeClient) and a fake renderer.
#include <gtest/gtest.h>

#include <algorithm>

#include "operator/conditions.hpp"
#include "operator/deployment_controller.hpp"
#include "operator/event_routing.hpp"
#include "operator/node_watch.hpp"
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

// Services waiting for their dependencies are handed to `prepare` (rendered ahead of time) as
// they will be created; the services come from the cache when one is given.
TEST_F(DeploymentFixture, PreparesWaitingServicesAndListsFromTheCache) {
  std::map<std::string, json> prepared;
  DeploymentControllerOptions options;
  options.prepare = [&](const json& desired) {
    prepared[desired["metadata"]["name"].get<std::string>()] = desired;
  };
  std::vector<json> snapshot;  // what an informer would hold
  options.cached_services = [&](const std::string&, const std::string&) {
    return std::optional<std::vector<json>>(snapshot);
  };
  DeploymentReconciler r(client, test_catalog, events, options, clock);
  client.put(deployment_cr({{"mariadb", json::object()},
                            {"memcached", json::object()},
                            {"keystone", json::object()},
                            {"glance", json::object()}}));
  r.reconcile("openstack/aio");
  EXPECT_EQ(prepared.size(), 2u);
  ASSERT_TRUE(prepared.contains("keystone"));
  EXPECT_TRUE(prepared.contains("glance"));
  EXPECT_FALSE(oss("keystone")) << "prepared, not created";

  client.set_status(kServiceKind, "openstack", "mariadb", ready_status());
  client.set_status(kServiceKind, "openstack", "memcached", ready_status());
  snapshot = client.list(kServiceKind, "openstack");
  client.clear_calls();
  r.reconcile("openstack/aio");
  ASSERT_TRUE(oss("keystone"));
  EXPECT_EQ(oss("keystone")->at("spec"), prepared["keystone"]["spec"])
      << "rendered ahead of time from the very spec it gets";
  EXPECT_EQ(oss("keystone")->at("metadata")["name"], prepared["keystone"]["metadata"]["name"]);
  EXPECT_EQ(oss("keystone")->at("metadata")["namespace"],
            prepared["keystone"]["metadata"]["namespace"]);
  EXPECT_EQ(count_calls(client, "list OpenStackService"), 0) << "from the cache";
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
  // The Job controller gives up on glance-db-sync.
  void fail_glance_db_sync() {
    client.set_status(
        kube::gvk::kJob, "openstack", "glance-db-sync",
        {{"conditions",
          json::array(
              {{{"type", "Failed"}, {"status", "True"}, {"reason", "BackoffLimitExceeded"}}})}});
  }
  // glance-api rolled out, and its Service with a ready endpoint.
  void make_glance_api_healthy() {
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
  }
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
  fail_glance_db_sync();
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

  make_glance_api_healthy();
  reconciler.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Ready");
  EXPECT_TRUE(is_condition_true(svc()["status"]["conditions"], "Ready"));
  EXPECT_EQ(svc()["status"]["objects"].size(), 4u);
  const json objects = svc()["status"]["objects"];  // a copy: svc() returns a temporary
  for (const auto& o : objects) EXPECT_EQ(o["health"], "Healthy") << o.dump();
  EXPECT_EQ(renderer.renders, 1) << "rendered once while the hash is unchanged";
  EXPECT_EQ(registry.gauge("kolla_operator_services", "").value({{"phase", "Ready"}}), 1);
}

TEST_F(ServiceFixture, RenderTimeIsAMetric) {
  reconciler.reconcile("openstack/glance");
  reconciler.reconcile("openstack/glance");  // cached: no second render, no second sample
  auto& seconds =
      registry.histogram("kolla_operator_render_duration_seconds", "", default_duration_buckets());
  EXPECT_EQ(seconds.count({{"service", "glance"}}), 1u);
  const std::string text = registry.render();
  EXPECT_NE(text.find("# TYPE kolla_operator_render_duration_seconds histogram"),
            std::string::npos);
  EXPECT_NE(text.find("kolla_operator_render_duration_seconds_sum{service=\"glance\"} "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kolla_operator_render_duration_seconds_count{service=\"glance\"} 1\n"),
            std::string::npos)
      << text;
}

// A Job's pod succeeding goes on to the next phase at once: the pod event enqueues the service
// (through the Job's cache), and the reconcile counts the Job healthy from its pod.
TEST_F(ServiceFixture, JobPodSucceededStartsTheNextPhaseBeforeTheJobIsComplete) {
  ServiceControllerOptions options;
  options.job_pods = [this](const std::string& ns, const std::string& job) {
    return client.list(kube::gvk::kPod, ns, std::string(kJobNameLabel) + "=" + job);
  };
  ServiceReconciler r(client, renderer, events, registry, options, clock);
  r.reconcile("openstack/glance");
  const json job = *get(kube::gvk::kJob, "glance-db-sync");
  json pod = {{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "glance-db-sync-x"},
                {"namespace", "openstack"},
                {"labels", {{kJobNameLabel, "glance-db-sync"}}},
                {"ownerReferences", json::array({{{"apiVersion", "batch/v1"},
                                                  {"kind", "Job"},
                                                  {"name", "glance-db-sync"},
                                                  {"uid", job["metadata"]["uid"]},
                                                  {"controller", true}}})}}},
              {"status", {{"phase", "Running"}}}};
  const auto running = std::make_shared<const json>(client.put(pod));
  r.reconcile("openstack/glance");
  EXPECT_FALSE(get(kube::gvk::kDeployment, "glance-api"));

  client.set_status(kube::gvk::kPod, "openstack", "glance-db-sync-x", {{"phase", "Succeeded"}});
  const auto succeeded =
      std::make_shared<const json>(*client.get(kube::gvk::kPod, "openstack", "glance-db-sync-x"));
  Controller services(
      "service", [](const std::string&) { return Result{}; }, {}, nullptr, clock);
  const auto handlers = job_pod_event_handlers(services, [&](const std::string& key) {
    return key == "openstack/glance-db-sync" ? std::make_shared<const json>(job)
                                             : kube::ObjectPtr{};
  });
  handlers.on_update(running, running);
  EXPECT_EQ(services.queue().len(), 0u) << "no phase change";
  handlers.on_update(running, succeeded);
  EXPECT_EQ(services.queue().try_get(), "openstack/glance");

  r.reconcile("openstack/glance");
  EXPECT_TRUE(get(kube::gvk::kDeployment, "glance-api")) << "the Job is not Complete yet";
  EXPECT_EQ(svc()["status"]["objects"][1]["message"],
            "Job glance-db-sync succeeded (not yet marked Complete)");
}

// Reads come from the cache when it holds the object, unless it has not seen our last apply yet
// (an older metadata.generation); right after an apply, the apply's answer is used.
TEST_F(ServiceFixture, ReadsFromTheCacheUnlessItIsBehindOurApply) {
  std::map<std::string, json> cache;  // name → object
  int cache_reads = 0;
  ServiceControllerOptions options;
  options.cached_object = [&](const GroupVersionKind&, const std::string&,
                              const std::string& name) -> std::optional<json> {
    ++cache_reads;
    auto it = cache.find(name);
    if (it == cache.end()) return std::nullopt;
    return it->second;
  };
  ServiceReconciler r(client, renderer, events, registry, options, clock);
  r.reconcile("openstack/glance");
  EXPECT_EQ(cache_reads, 0) << "everything of the first phases was just applied";
  EXPECT_EQ(count_calls(client, "get Job"), 1) << "the Job's spec hash check only";

  // The Job completes; the cache has it (same generation as applied): no GET for it.
  client.set_status(kube::gvk::kJob, "openstack", "glance-db-sync",
                    {{"conditions", json::array({{{"type", "Complete"}, {"status", "True"}}})}});
  cache["glance-db-sync"] = *get(kube::gvk::kJob, "glance-db-sync");
  client.clear_calls();
  r.reconcile("openstack/glance");
  EXPECT_GT(cache_reads, 0);
  EXPECT_EQ(count_calls(client, "get Job"), 0) << "read from the cache";
  ASSERT_TRUE(get(kube::gvk::kDeployment, "glance-api"));

  // A cached Deployment older than our apply (generation 0 < 1) is not trusted.
  json stale = *get(kube::gvk::kDeployment, "glance-api");
  stale["metadata"]["generation"] = 0;
  stale["status"] = {
      {"observedGeneration", 0}, {"replicas", 1}, {"updatedReplicas", 1}, {"availableReplicas", 1}};
  cache["glance-api"] = stale;
  client.clear_calls();
  r.reconcile("openstack/glance");
  EXPECT_EQ(count_calls(client, "get Deployment"), 1);
  EXPECT_EQ(svc()["status"]["phase"], "Progressing") << "the API's Deployment is not available";

  // Nor is an older incarnation (another uid), e.g. a Job deleted and created again whose
  // deletion the cache has not seen: the old one was Complete.
  json old_job = cache["glance-db-sync"];
  old_job["metadata"]["uid"] = "an-older-job";
  cache["glance-db-sync"] = old_job;
  client.set_status(kube::gvk::kJob, "openstack", "glance-db-sync", json::object());
  client.clear_calls();
  r.reconcile("openstack/glance");
  EXPECT_EQ(count_calls(client, "get Job"), 1);
  EXPECT_NE(svc()["status"]["waitingOn"].get<std::string>().find("Job/glance-db-sync"),
            std::string::npos)
      << svc()["status"].dump();
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
  fail_glance_db_sync();
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

// A node that is not Ready under a pod of the service: Degraded (NodeNotReady) with the node and
// the workload named, Ready kept (the workloads are healthy as the API reports them), an Event;
// it clears when the node is Ready again.
TEST_F(ServiceFixture, PodOnUnreadyNodeDegradesTheServiceUntilTheNodeIsBack) {
  ClientNodeView nodes(client);
  ServiceControllerOptions options;
  options.nodes = &nodes;
  ServiceReconciler r(client, renderer, events, registry, options, clock);
  renderer.objects.erase(renderer.objects.begin() + 1);  // no Job: straight to main
  r.reconcile("openstack/glance");
  make_glance_api_healthy();
  auto node = [](const std::string& name, const std::string& ready) {
    return json{{"apiVersion", "v1"},
                {"kind", "Node"},
                {"metadata", {{"name", name}}},
                {"status",
                 {{"conditions",
                   json::array({{{"type", "Ready"},
                                 {"status", ready},
                                 {"reason", ready == "True" ? "KubeletReady" : "HeartbeatStopped"},
                                 {"message", "kubelet says so"}}})}}}};
  };
  client.put(node("n1", "True"));
  client.put(node("n2", "True"));
  client.put({{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", "glance-api-7d9f-x1"},
                {"namespace", "openstack"},
                {"labels", {{"pod-template-hash", "7d9f"}}},
                {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                  {"kind", "ReplicaSet"},
                                                  {"name", "glance-api-7d9f"},
                                                  {"controller", true}}})}}},
              {"spec", {{"nodeName", "n1"}}},
              {"status", {{"phase", "Running"}}}});
  r.reconcile("openstack/glance");
  ASSERT_EQ(svc()["status"]["phase"], "Ready");
  EXPECT_FALSE(is_condition_true(svc()["status"]["conditions"], "Degraded"));

  // n2 goes: nothing of glance runs there.
  client.put(node("n2", "False"));
  r.reconcile("openstack/glance");
  EXPECT_FALSE(is_condition_true(svc()["status"]["conditions"], "Degraded"));

  client.put(node("n1", "False"));
  r.reconcile("openstack/glance");
  EXPECT_EQ(svc()["status"]["phase"], "Ready");
  EXPECT_TRUE(is_condition_true(svc()["status"]["conditions"], "Ready"));
  auto degraded = find_condition(svc()["status"]["conditions"], "Degraded");
  ASSERT_TRUE(degraded);
  EXPECT_TRUE(degraded->is_true());
  EXPECT_EQ(degraded->reason, "NodeNotReady");
  EXPECT_EQ(degraded->message,
            "node n1 not ready (Ready=False (HeartbeatStopped)): Deployment/glance-api");
  bool event = false;
  for (const auto& e : client.list(kube::gvk::kEvent, "openstack")) {
    if (e.value("reason", "") == "NodeNotReady") event = true;
  }
  EXPECT_TRUE(event);

  // Still down: the same condition (no new transition); back: cleared.
  const std::string since = degraded->last_transition_time;
  r.reconcile("openstack/glance");
  EXPECT_EQ(find_condition(svc()["status"]["conditions"], "Degraded")->last_transition_time, since);
  client.put(node("n1", "True"));
  r.reconcile("openstack/glance");
  degraded = find_condition(svc()["status"]["conditions"], "Degraded");
  ASSERT_TRUE(degraded);
  EXPECT_FALSE(degraded->is_true());
  EXPECT_EQ(degraded->reason, "AsExpected");
  EXPECT_EQ(svc()["status"]["phase"], "Ready");
}

TEST_F(DeploymentFixture, ServiceDegradedByANodeDegradesTheDeploymentAndClears) {
  client.put(deployment_cr({{"mariadb", json::object()}, {"memcached", json::object()}}));
  reconciler.reconcile("openstack/aio");
  client.set_status(kServiceKind, "openstack", "mariadb", ready_status());
  json lost = ready_status();
  lost["conditions"].push_back(
      {{"type", "Degraded"},
       {"status", "True"},
       {"reason", "NodeNotReady"},
       {"message", "node n1 not ready (Ready=False): StatefulSet/mariadb"}});
  client.set_status(kServiceKind, "openstack", "memcached", lost);
  reconciler.reconcile("openstack/aio");
  // Every service is still Ready; the deployment says Ready and Degraded, with the reason.
  EXPECT_EQ(cond("Ready").status, ConditionStatus::kTrue);
  EXPECT_EQ(cond("Degraded").status, ConditionStatus::kTrue);
  EXPECT_EQ(cond("Degraded").reason, "NodeNotReady");
  EXPECT_EQ(cond("Degraded").message,
            "memcached: node n1 not ready (Ready=False): StatefulSet/mariadb");
  const json entries = osd()["status"]["services"];
  bool seen = false;
  for (const auto& e : entries) {
    if (e["name"] == "memcached") {
      seen = true;
      EXPECT_EQ(e.value("degraded", ""), "node n1 not ready (Ready=False): StatefulSet/mariadb");
    }
  }
  EXPECT_TRUE(seen);

  client.set_status(kServiceKind, "openstack", "memcached", ready_status());
  reconciler.reconcile("openstack/aio");
  EXPECT_EQ(cond("Degraded").status, ConditionStatus::kFalse);
  EXPECT_EQ(cond("Degraded").reason, "AsExpected");
  EXPECT_EQ(cond("Ready").status, ConditionStatus::kTrue);
}

}  // namespace
}  // namespace kolla::op
