// Lost nodes: readiness, pod → workload, the tracker and the routing of node events to services.
#include "operator/node_watch.hpp"

#include <gtest/gtest.h>

#include "operator/testing/fake_client.hpp"

namespace kolla::op {
namespace {

json node(const std::string& name, const std::string& ready, const std::string& reason = "") {
  json n = {{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}};
  if (!ready.empty()) {
    n["status"]["conditions"] = json::array(
        {{{"type", "MemoryPressure"}, {"status", "False"}},
         {{"type", "Ready"}, {"status", ready}, {"reason", reason}, {"message", "free text"}}});
  }
  return n;
}

json pod(const std::string& name, const std::string& node_name, const std::string& owner_kind,
         const std::string& owner, const std::string& phase = "Running") {
  json p = {{"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata", {{"name", name}, {"namespace", "openstack"}}},
            {"spec", {{"nodeName", node_name}}},
            {"status", {{"phase", phase}}}};
  if (!owner_kind.empty()) {
    p["metadata"]["ownerReferences"] = json::array(
        {{{"apiVersion", "apps/v1"}, {"kind", owner_kind}, {"name", owner}, {"controller", true}}});
  }
  return p;
}

TEST(NodeWatch, ReadinessAndReason) {
  EXPECT_TRUE(node_ready(node("a", "True")));
  EXPECT_FALSE(node_ready(node("a", "False", "HeartbeatStopped")));
  EXPECT_FALSE(node_ready(node("a", "Unknown", "NodeStatusUnknown")));
  EXPECT_FALSE(node_ready(node("a", "")));
  EXPECT_EQ(node_unready_reason(node("a", "False", "HeartbeatStopped")),
            "Ready=False (HeartbeatStopped)");
  EXPECT_EQ(node_unready_reason(node("a", "Unknown")), "Ready=Unknown");
  EXPECT_EQ(node_unready_reason(node("a", "")), "no Ready condition");
}

TEST(NodeWatch, KeepingOnlyReadinessKeepsTheAnswers) {
  for (const auto& [ready, reason] : std::vector<std::pair<std::string, std::string>>{
           {"True", ""}, {"False", "HeartbeatStopped"}, {"Unknown", ""}, {"", ""}}) {
    json full = node("n1", ready, reason);
    full["metadata"]["uid"] = "u1";
    full["metadata"]["resourceVersion"] = "42";
    full["metadata"]["labels"] = {{"kolla.openstack.org/compute", "true"}};
    full["status"]["images"] = json::array({{{"names", {"a-large-image-list"}}}});
    json kept = full;
    keep_node_readiness(kept);
    EXPECT_EQ(node_ready(kept), node_ready(full)) << ready;
    EXPECT_EQ(node_unready_reason(kept), node_unready_reason(full)) << ready;
    EXPECT_EQ(kept["metadata"], (json{{"name", "n1"}, {"uid", "u1"}, {"resourceVersion", "42"}}));
    EXPECT_FALSE(kept["status"].contains("images"));
    EXPECT_EQ(kept.dump().find("free text"), std::string::npos);
  }
}

TEST(NodeWatch, PodWorkload) {
  json p = pod("keystone-api-5d8f-abc", "n1", "ReplicaSet", "keystone-api-5d8f");
  EXPECT_EQ(pod_workload(p), "ReplicaSet/keystone-api-5d8f")
      << "no pod-template-hash: the ReplicaSet itself";
  p["metadata"]["labels"]["pod-template-hash"] = "5d8f";
  EXPECT_EQ(pod_workload(p), "Deployment/keystone-api");
  EXPECT_EQ(pod_workload(pod("mariadb-0", "n1", "StatefulSet", "mariadb")), "StatefulSet/mariadb");
  EXPECT_EQ(pod_workload(pod("ovs-x", "n1", "DaemonSet", "openvswitch-db")),
            "DaemonSet/openvswitch-db");
  EXPECT_EQ(pod_workload(pod("lonely", "n1", "", "")), std::nullopt);
  json not_controller = pod("x", "n1", "StatefulSet", "mariadb");
  not_controller["metadata"]["ownerReferences"][0]["controller"] = false;
  EXPECT_EQ(pod_workload(not_controller), std::nullopt);
  EXPECT_TRUE(pod_terminal(pod("j", "n1", "Job", "db-sync", "Succeeded")));
  EXPECT_TRUE(pod_terminal(pod("j", "n1", "Job", "db-sync", "Failed")));
  EXPECT_FALSE(pod_terminal(pod("j", "n1", "Job", "db-sync", "Running")));
}

TEST(NodeWatch, LostNodesNamesTheNodesAndTheWorkloads) {
  testing::FakeClient client;
  client.put(node("n1", "False", "HeartbeatStopped"));
  client.put(node("n2", "True"));
  client.put(node("n3", "Unknown", "NodeStatusUnknown"));
  client.put(pod("mariadb-0", "n1", "StatefulSet", "mariadb"));
  client.put(pod("memcached-0", "n1", "StatefulSet", "memcached"));
  client.put(pod("mariadb-1", "n2", "StatefulSet", "mariadb"));
  client.put(pod("done", "n3", "Job", "mariadb-init", "Succeeded"));
  client.put(pod("init", "n3", "Job", "mariadb-bootstrap"));
  ClientNodeView view(client);
  EXPECT_EQ(view.unready_nodes(),
            (std::map<std::string, std::string>{{"n1", "Ready=False (HeartbeatStopped)"},
                                                {"n3", "Ready=Unknown (NodeStatusUnknown)"}}));
  const auto lost = lost_nodes(
      view, "openstack", {"StatefulSet/mariadb", "Job/mariadb-init", "Job/mariadb-bootstrap"});
  ASSERT_EQ(lost.size(), 2u);
  EXPECT_EQ(lost[0].node, "n1");
  EXPECT_EQ(lost[0].workloads, std::vector<std::string>{"StatefulSet/mariadb"});
  EXPECT_EQ(lost[1].node, "n3");
  EXPECT_EQ(lost[1].workloads, std::vector<std::string>{"Job/mariadb-bootstrap"})
      << "a finished pod does not need its node";
  EXPECT_EQ(lost_nodes_message(lost),
            "node n1 not ready (Ready=False (HeartbeatStopped)): StatefulSet/mariadb; "
            "node n3 not ready (Ready=Unknown (NodeStatusUnknown)): Job/mariadb-bootstrap");
  EXPECT_TRUE(lost_nodes(view, "openstack", {"Deployment/keystone-api"}).empty());
  EXPECT_TRUE(lost_nodes(view, "other", {"StatefulSet/mariadb"}).empty());
}

TEST(NodeWatch, TrackerKeepsUnreadyNodesAndReportsChanges) {
  int listed = 0;
  NodeTracker tracker([&](const std::string&, const std::string&) {
    ++listed;
    return std::vector<json>{};
  });
  EXPECT_FALSE(tracker.observe(node("n1", "True"))) << "Ready from the start: no change";
  EXPECT_TRUE(tracker.unready_nodes().empty());
  EXPECT_TRUE(tracker.observe(node("n1", "False", "HeartbeatStopped")));
  EXPECT_FALSE(tracker.observe(node("n1", "False", "HeartbeatStopped"))) << "a heartbeat";
  EXPECT_EQ(tracker.unready_nodes().size(), 1u);
  EXPECT_TRUE(tracker.observe(node("n1", "True")));
  EXPECT_TRUE(tracker.unready_nodes().empty());
  EXPECT_TRUE(tracker.observe(node("n2", "Unknown")));
  EXPECT_TRUE(tracker.forget(node("n2", "Unknown")));
  EXPECT_FALSE(tracker.forget(node("n1", "True")));
  EXPECT_EQ(listed, 0) << "pods are listed only when asked";
}

TEST(NodeWatch, NodeEventsEnqueueTheServicesWithPodsOnTheNodeAtOnce) {
  std::vector<json> pods = {pod("mariadb-0", "n1", "StatefulSet", "mariadb"),
                            pod("mariadb-x", "n1", "StatefulSet", "mariadb"),
                            pod("done", "n1", "Job", "keystone-init", "Succeeded"),
                            pod("other", "n1", "StatefulSet", "not-ours")};
  std::vector<std::string> asked;
  NodeTracker tracker([&](const std::string& ns, const std::string& n) {
    asked.push_back(ns + "|" + n);
    return pods;
  });
  FakeClock clock;
  Controller services(
      "service", [](const std::string&) { return Result{}; }, {}, nullptr, clock);
  const auto handlers = node_event_handlers(services, tracker, "openstack", [](const json& p) {
    const auto w = pod_workload(p);
    if (w == "StatefulSet/mariadb") return std::optional<std::string>("openstack/mariadb");
    if (w == "Job/keystone-init") return std::optional<std::string>("openstack/keystone");
    return std::optional<std::string>();
  });
  auto ptr = [](json j) { return std::make_shared<const json>(std::move(j)); };

  handlers.on_add(ptr(node("n1", "True")));
  EXPECT_EQ(services.queue().len(), 0u);
  // Heartbeats of a Ready node: nothing.
  handlers.on_update(ptr(node("n1", "True")), ptr(node("n1", "True")));
  EXPECT_EQ(services.queue().len(), 0u);
  EXPECT_TRUE(asked.empty());

  handlers.on_update(ptr(node("n1", "True")), ptr(node("n1", "False", "HeartbeatStopped")));
  EXPECT_EQ(asked, std::vector<std::string>{"openstack|n1"});
  EXPECT_EQ(services.queue().len(), 1u) << "mariadb once; the finished Job's pod does not count";
  EXPECT_EQ(services.queue().delayed_len(), 0u);
  EXPECT_EQ(services.queue().try_get(), "openstack/mariadb");
  services.queue().done("openstack/mariadb");

  // Still down: nothing new. Back: enqueued again.
  handlers.on_update(ptr(node("n1", "False")), ptr(node("n1", "False", "HeartbeatStopped")));
  EXPECT_EQ(services.queue().len(), 0u);
  handlers.on_update(ptr(node("n1", "False")), ptr(node("n1", "True")));
  EXPECT_EQ(services.queue().len(), 1u);
  EXPECT_EQ(services.queue().try_get(), "openstack/mariadb");
  services.queue().done("openstack/mariadb");

  // An unready node deleted: its services are told; a Ready one deleted: nothing.
  handlers.on_add(ptr(node("n2", "Unknown")));
  EXPECT_EQ(services.queue().len(), 1u);
  services.queue().done(*services.queue().try_get());
  handlers.on_delete(ptr(node("n2", "Unknown")));
  EXPECT_EQ(services.queue().len(), 1u);
  services.queue().done(*services.queue().try_get());
  handlers.on_delete(ptr(node("n1", "True")));
  EXPECT_EQ(services.queue().len(), 0u);
}

}  // namespace
}  // namespace kolla::op
