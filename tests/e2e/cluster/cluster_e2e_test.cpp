// End-to-end tests of the local cluster (kollakube cluster up): real kube-apiserver, controllers
// and scheduler, kwok-simulated nodes and pods. Run by scripts/test through scripts/e2e-cluster;
// skipped unless KOLLA_E2E_KUBECONFIG is set.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "e2e.hpp"

namespace kolla::e2e {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

json pods(const std::string& ns, const std::string& selector) {
  return kubectl().get_json({"pods", "-n", ns, "-l", selector});
}

std::string job_yaml(const std::string& name, bool fail) {
  std::string y = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: " + name +
                  "\nspec:\n  backoffLimit: 0\n  template:\n";
  if (fail) y += "    metadata:\n      annotations:\n        kolla.openstack.org/fail: \"true\"\n";
  y += "    spec:\n      restartPolicy: Never\n      containers:\n"
       "      - name: main\n        image: quay.io/openstack.kolla/kolla-toolbox:2025.1\n";
  return y;
}

TEST(LocalCluster, NodesAreReadyWithRoleLabels) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  json nodes = kubectl().get_json({"nodes"});
  ASSERT_TRUE(nodes.is_object());
  auto items = nodes["items"];
  ASSERT_GE(items.size(), 1u);
  std::set<std::string> roles;
  for (const auto& n : items) {
    SCOPED_TRACE(n["metadata"]["name"].get<std::string>());
    EXPECT_EQ(condition(n, "Ready"), "True");
    EXPECT_EQ(n["metadata"]["annotations"].value("kwok.x-k8s.io/node", ""), "fake");
    for (const char* role : {"controller", "compute", "network"}) {
      if (n["metadata"]["labels"].value(std::string("kolla.openstack.org/") + role, "") == "true") {
        roles.insert(role);
      }
    }
    EXPECT_EQ(n["status"]["capacity"].value("cpu", ""), "32");
    EXPECT_EQ(n["status"]["capacity"].value("memory", ""), "128Gi");
    EXPECT_EQ(n["status"]["capacity"].value("pods", ""), "250");
  }
  EXPECT_EQ(roles, (std::set<std::string>{"compute", "controller", "network"}));
}

TEST(LocalCluster, DeploymentBecomesAvailableAndDeletionCleansUp) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("deploy");
  kubectl().apply(R"(apiVersion: apps/v1
kind: Deployment
metadata:
  name: cache
spec:
  replicas: 2
  selector: {matchLabels: {app: cache}}
  template:
    metadata: {labels: {app: cache}}
    spec:
      nodeSelector: {kolla.openstack.org/controller: "true"}
      containers:
      - name: memcached
        image: quay.io/openstack.kolla/memcached:2025.1-ubuntu-noble
)",
                  ns.name());
  kubectl().must(
      {"wait", "deployment/cache", "-n", ns.name(), "--for=condition=Available", "--timeout=120s"});
  EXPECT_TRUE(
      eventually([&] { return count_phase(pods(ns.name(), "app=cache"), "Running") == 2; }, 30s));
  json list = pods(ns.name(), "app=cache");
  for (const auto& p : list["items"]) EXPECT_EQ(condition(p, "Ready"), "True");

  kubectl().must({"delete", "deployment", "cache", "-n", ns.name()});
  EXPECT_TRUE(eventually(
      [&] {
        json rs = kubectl().get_json({"replicasets", "-n", ns.name(), "-l", "app=cache"});
        json ps = pods(ns.name(), "app=cache");
        return rs.is_object() && rs["items"].empty() && ps.is_object() && ps["items"].empty();
      },
      60s))
      << "ReplicaSet and pods should go with the Deployment";
}

std::string ready_time(const json& pod) {
  for (const auto& c : pod["status"].value("conditions", json::array())) {
    if (c.value("type", "") == "Ready" && c.value("status", "") == "True") {
      return c.value("lastTransitionTime", "");
    }
  }
  return "";
}

// The latency profile (profiles/test.yaml in scripts/e2e-cluster) makes MariaDB slower to start
// than memcached; RFC 3339 timestamps of equal format compare as strings.
TEST(LocalCluster, LatencyProfileOrdersReadiness) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("latency");
  kubectl().apply(R"(apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: latency}}
spec:
  containers: [{name: main, image: quay.io/openstack.kolla/mariadb-server:2025.1}]
---
apiVersion: v1
kind: Pod
metadata: {name: cache, labels: {app: latency}}
spec:
  containers: [{name: main, image: quay.io/openstack.kolla/memcached:2025.1}]
)",
                  ns.name());
  kubectl().must(
      {"wait", "pod/db", "pod/cache", "-n", ns.name(), "--for=condition=Ready", "--timeout=120s"});
  json db = kubectl().get_json({"pod", "db", "-n", ns.name()});
  json cache = kubectl().get_json({"pod", "cache", "-n", ns.name()});
  EXPECT_LT(ready_time(cache), ready_time(db));
}

TEST(LocalCluster, PodMarkedToFailNeverBecomesReady) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("crash");
  kubectl().apply(R"(apiVersion: v1
kind: Pod
metadata:
  name: broken
  annotations: {kolla.openstack.org/fail: "true"}
spec:
  containers: [{name: main, image: quay.io/openstack.kolla/keystone:2025.1}]
)",
                  ns.name());
  EXPECT_TRUE(eventually(
      [&] {
        json p = kubectl().get_json({"pod", "broken", "-n", ns.name()});
        if (!p.is_object()) return false;
        for (const auto& c : p["status"].value("containerStatuses", json::array())) {
          if (c["state"].contains("waiting") &&
              c["state"]["waiting"].value("reason", "") == "CrashLoopBackOff") {
            return condition(p, "Ready") == "False";
          }
        }
        return false;
      },
      60s));
}

TEST(LocalCluster, HelmInstallOfMemcachedIsDeployed) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  std::string chart = source_dir() + "/charts/memcached";
  if (!std::filesystem::exists(chart + "/Chart.yaml")) {
    GTEST_SKIP() << "skipped: charts/memcached not present";
  }
  Namespace ns("helm");
  auto r = helm().run(
      {"install", "memcached-test", chart, "-n", ns.name(), "--wait", "--timeout", "180s"}, {},
      240s);
  ASSERT_TRUE(r.ok()) << r.err << r.out;
  auto status = helm().run({"status", "memcached-test", "-n", ns.name(), "-o", "json"});
  ASSERT_TRUE(status.ok()) << status.err;
  auto j = json::parse(status.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_EQ(j["info"].value("status", ""), "deployed");
  helm().run({"uninstall", "memcached-test", "-n", ns.name()});
}

TEST(LocalCluster, CustomResourceDefinitionIsServed) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  const std::string crd = "widgets.e2e.kolla.openstack.org";
  kubectl().apply(R"(apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.e2e.kolla.openstack.org
spec:
  group: e2e.kolla.openstack.org
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
)");
  kubectl().must({"wait", "crd/" + crd, "--for=condition=Established", "--timeout=60s"});
  EXPECT_TRUE(eventually(
      [&] {
        auto r =
            kubectl().run({"api-resources", "--api-group=e2e.kolla.openstack.org", "-o", "name"});
        return r.ok() && r.out.find(crd) != std::string::npos;
      },
      30s));
  kubectl().run({"delete", "crd", crd, "--wait=false"});
}

TEST(LocalCluster, PersistentVolumeClaimBinds) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("pvc");
  kubectl().apply(R"(apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 10Gi}}
)",
                  ns.name());
  EXPECT_TRUE(eventually(
      [&] {
        json p = kubectl().get_json({"pvc", "data", "-n", ns.name()});
        return p.is_object() && p["status"].value("phase", "") == "Bound";
      },
      60s));
}

TEST(LocalCluster, StatefulSetWithVolumeClaimTemplatesBecomesReady) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("sts");
  kubectl().apply(R"(apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: mariadb, image: quay.io/openstack.kolla/mariadb-server:2025.1}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 5Gi}}
)",
                  ns.name());
  kubectl().must({"rollout", "status", "statefulset/db", "-n", ns.name(), "--timeout=120s"});
  json pvc = kubectl().get_json({"pvc", "data-db-0", "-n", ns.name()});
  ASSERT_TRUE(pvc.is_object());
  EXPECT_EQ(pvc["status"].value("phase", ""), "Bound");
}

TEST(LocalCluster, JobCompletesAndJobMarkedToFailFails) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  Namespace ns("jobs");
  kubectl().apply(job_yaml("ok", false) + "---\n" + job_yaml("bad", true), ns.name());
  kubectl().must({"wait", "job/ok", "-n", ns.name(), "--for=condition=Complete", "--timeout=120s"});
  kubectl().must({"wait", "job/bad", "-n", ns.name(), "--for=condition=Failed", "--timeout=120s"});
  json ok = kubectl().get_json({"job", "ok", "-n", ns.name()});
  EXPECT_EQ(ok["status"].value("succeeded", 0), 1);
  json bad = kubectl().get_json({"job", "bad", "-n", ns.name()});
  EXPECT_EQ(bad["status"].value("failed", 0), 1);
  EXPECT_EQ(bad["status"].value("succeeded", 0), 0);
}

TEST(LocalCluster, StoppedHeartbeatMakesNodeNotReady) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  json nodes = kubectl().get_json({"nodes"});
  ASSERT_TRUE(nodes.is_object());
  ASSERT_FALSE(nodes["items"].empty());
  // The last node: in a multi-node cluster a compute node, so other tests keep their controller.
  std::string node = nodes["items"].back()["metadata"]["name"];
  struct Restore {
    std::string node;
    ~Restore() {
      kubectl().run({"label", "node", node, "kolla.openstack.org/heartbeat-"});
      kubectl().run({"wait", "node/" + node, "--for=condition=Ready", "--timeout=60s"});
    }
  } restore{node};
  kubectl().must({"label", "node", node, "kolla.openstack.org/heartbeat=stopped", "--overwrite"});
  kubectl().must({"wait", "node/" + node, "--for=condition=Ready=false", "--timeout=60s"});
  json n = kubectl().get_json({"node", node});
  EXPECT_EQ(condition(n, "Ready"), "False");
  // Heartbeat back: Ready again.
  kubectl().must({"label", "node", node, "kolla.openstack.org/heartbeat-"});
  kubectl().must({"wait", "node/" + node, "--for=condition=Ready", "--timeout=60s"});
}

}  // namespace
}  // namespace kolla::e2e

namespace kolla::e2e {
namespace {

using namespace std::chrono_literals;

// The fault proxy of scripts/e2e-cluster (KOLLA_E2E_FAULTY_KUBECONFIG): requests pass through
// (some fail by design) and a watch is cut after cut-watch-after (3 s there).
TEST(LocalCluster, FaultProxyForwardsAndCutsWatches) {
  KOLLA_E2E_REQUIRE_CLUSTER();
  const char* faulty = std::getenv("KOLLA_E2E_FAULTY_KUBECONFIG");
  if (faulty == nullptr || *faulty == '\0') {
    GTEST_SKIP() << "skipped: KOLLA_E2E_FAULTY_KUBECONFIG not set";
  }
  std::string kubectl_path = find_executable("kubectl").value_or("kubectl");
  int ok = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = run_process({kubectl_path, "--kubeconfig", faulty, "get", "nodes", "-o", "name"});
    if (r.ok() && r.out.find("node/") != std::string::npos) ++ok;
  }
  EXPECT_GE(ok, 5) << "most requests should pass the proxy";

  RunOptions o;
  o.timeout = 60s;
  auto t0 = std::chrono::steady_clock::now();
  auto w = run_process(
      {kubectl_path, "--kubeconfig", faulty, "get", "nodes", "--watch", "--request-timeout=0"}, o);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_FALSE(w.timed_out) << "the proxy should have cut the watch";
  EXPECT_LT(took, 40s);
}

}  // namespace
}  // namespace kolla::e2e
