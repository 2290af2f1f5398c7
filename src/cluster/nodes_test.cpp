#include "cluster/nodes.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <set>

#include "cluster/profile.hpp"

namespace kolla::cluster {
namespace {

int count(const std::vector<NodePlan>& plans, bool NodePlan::*role) {
  int n = 0;
  for (const auto& p : plans) n += (p.*role) ? 1 : 0;
  return n;
}

TEST(Nodes, AllInOne) {
  auto plans = plan_nodes(1, "");
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_TRUE(plans[0].controller && plans[0].compute && plans[0].network);
  EXPECT_EQ(plans[0].name, "node-0");
  EXPECT_EQ(plans[0].address, "172.30.0.1");
}

TEST(Nodes, DefaultMultinode) {
  auto three = plan_nodes(3, "");
  EXPECT_EQ(count(three, &NodePlan::controller), 1);
  EXPECT_EQ(count(three, &NodePlan::network), 1);
  EXPECT_EQ(count(three, &NodePlan::compute), 2);
  EXPECT_TRUE(three[0].controller && three[0].network && !three[0].compute);
  auto many = plan_nodes(1000, "");
  EXPECT_EQ(many.size(), 1000u);
  EXPECT_EQ(count(many, &NodePlan::controller), 3);
  EXPECT_EQ(count(many, &NodePlan::compute), 997);
  EXPECT_EQ(many.back().name, "node-999");
}

TEST(Nodes, ExplicitRoles) {
  auto plans = plan_nodes(2, "controller=3,network=1,compute=2");
  ASSERT_EQ(plans.size(), 6u);
  EXPECT_EQ(count(plans, &NodePlan::controller), 3);
  EXPECT_EQ(count(plans, &NodePlan::network), 1);
  EXPECT_EQ(count(plans, &NodePlan::compute), 2);
  EXPECT_TRUE(plans[3].network && !plans[3].controller && !plans[3].compute);
  auto more = plan_nodes(8, "controller=1,network=1,compute=1");
  EXPECT_EQ(count(more, &NodePlan::compute), 6);
  EXPECT_THROW(plan_nodes(1, "controller=x"), std::invalid_argument);
  EXPECT_THROW(plan_nodes(1, "storage=1"), std::invalid_argument);
  EXPECT_THROW(plan_nodes(1, "controller"), std::invalid_argument);
  EXPECT_THROW(plan_nodes(0, ""), std::invalid_argument);
}

TEST(Nodes, TaintsOnlyWhenAsked) {
  auto t = parse_taint("controller:node-role.kubernetes.io/control-plane:NoSchedule");
  EXPECT_EQ(t.role, "controller");
  EXPECT_EQ(t.key, "node-role.kubernetes.io/control-plane");
  EXPECT_EQ(t.value, "");
  EXPECT_EQ(t.effect, "NoSchedule");
  auto v = parse_taint("compute:dedicated=nova:NoExecute");
  EXPECT_EQ(v.key, "dedicated");
  EXPECT_EQ(v.value, "nova");
  EXPECT_THROW(parse_taint("controller:NoSchedule"), std::invalid_argument);
  EXPECT_THROW(parse_taint("db:k:NoSchedule"), std::invalid_argument);
  EXPECT_THROW(parse_taint("compute:k:Sometimes"), std::invalid_argument);

  auto plain = plan_nodes(3, "");
  for (const auto& p : plain) EXPECT_TRUE(p.taints.empty());
  auto tainted = plan_nodes(3, "", {t});
  EXPECT_EQ(tainted[0].taints.size(), 1u);
  EXPECT_TRUE(tainted[1].taints.empty());
}

TEST(Nodes, ManifestsCarryLabelsAndKwokAnnotation) {
  auto plans = plan_nodes(3, "", {parse_taint("controller:dedicated=control:NoSchedule")});
  auto docs = YAML::LoadAll(node_manifests(plans, 0, plans.size()));
  std::vector<YAML::Node> nodes;
  for (const auto& d : docs) {
    if (d && !d.IsNull()) nodes.push_back(d);
  }
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0]["kind"].as<std::string>(), "Node");
  EXPECT_EQ(nodes[0]["metadata"]["annotations"]["kwok.x-k8s.io/node"].as<std::string>(), "fake");
  EXPECT_EQ(nodes[0]["metadata"]["labels"]["kolla.openstack.org/controller"].as<std::string>(),
            "true");
  EXPECT_EQ(nodes[0]["metadata"]["labels"]["kolla.openstack.org/network"].as<std::string>(),
            "true");
  EXPECT_FALSE(nodes[0]["metadata"]["labels"]["kolla.openstack.org/compute"]);
  EXPECT_EQ(nodes[0]["spec"]["taints"][0]["value"].as<std::string>(), "control");
  EXPECT_EQ(nodes[2]["metadata"]["labels"]["kolla.openstack.org/compute"].as<std::string>(),
            "true");
  EXPECT_FALSE(nodes[2]["spec"]);
  // Batches.
  auto part = YAML::LoadAll(node_manifests(plans, 1, 2));
  int n = 0;
  for (const auto& d : part) n += (d && !d.IsNull()) ? 1 : 0;
  EXPECT_EQ(n, 1);
}

TEST(Nodes, StorageIsDefaultImmediate) {
  auto docs = YAML::LoadAll(storage_manifests(3, "/tmp/x"));
  std::vector<YAML::Node> objs;
  for (const auto& d : docs) {
    if (d && !d.IsNull()) objs.push_back(d);
  }
  ASSERT_EQ(objs.size(), 4u);
  EXPECT_EQ(objs[0]["kind"].as<std::string>(), "StorageClass");
  EXPECT_EQ(objs[0]["volumeBindingMode"].as<std::string>(), "Immediate");
  EXPECT_EQ(objs[0]["metadata"]["annotations"]["storageclass.kubernetes.io/is-default-class"]
                .as<std::string>(),
            "true");
  EXPECT_EQ(objs[3]["kind"].as<std::string>(), "PersistentVolume");
  EXPECT_EQ(objs[3]["spec"]["storageClassName"].as<std::string>(), "standard");
  EXPECT_EQ(objs[3]["spec"]["hostPath"]["path"].as<std::string>(), "/tmp/x/pv-2");
  EXPECT_EQ(objs[3]["spec"]["accessModes"].size(), 3u);
}

TEST(Nodes, ObjectsAreWhatTheManifestsSay) {
  auto plans = plan_nodes(3, "", {parse_taint("controller:dedicated:NoSchedule")});
  auto node = node_object(plans[0]);
  EXPECT_EQ(node["apiVersion"], "v1");
  EXPECT_EQ(node["kind"], "Node");
  EXPECT_EQ(node["metadata"]["name"], "node-0");
  EXPECT_EQ(node["metadata"]["annotations"]["kwok.x-k8s.io/node"], "fake");
  EXPECT_EQ(node["metadata"]["annotations"]["node.alpha.kubernetes.io/ttl"], "0");
  EXPECT_EQ(node["metadata"]["labels"]["kolla.openstack.org/controller"], "true");
  EXPECT_EQ(node["metadata"]["labels"]["node-role.kubernetes.io/controller"], "");
  EXPECT_EQ(node["metadata"]["labels"]["node-role.kubernetes.io/network"], "");
  EXPECT_FALSE(node["metadata"]["labels"].contains("node-role.kubernetes.io/compute"));
  EXPECT_EQ(node["spec"]["taints"][0]["key"], "dedicated");
  EXPECT_FALSE(node["spec"]["taints"][0].contains("value"));
  EXPECT_FALSE(node_object(plans[1]).contains("spec"));
  auto docs = YAML::LoadAll(node_manifests(plans, 0, 1));
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["metadata"]["annotations"]["node.alpha.kubernetes.io/ttl"].as<std::string>(),
            "0");

  auto storage = storage_objects(2, "/v");
  ASSERT_EQ(storage.size(), 3u);
  EXPECT_EQ(storage[0]["apiVersion"], "storage.k8s.io/v1");
  EXPECT_EQ(storage[2]["metadata"]["name"], "kolla-pv-1");
  EXPECT_EQ(storage[2]["spec"]["capacity"]["storage"], "1Ti");
  EXPECT_EQ(storage[2]["spec"]["hostPath"]["path"], "/v/pv-1");
}

}  // namespace
}  // namespace kolla::cluster

namespace kolla::cluster {
namespace {

TEST(Nodes, AddressesAreUniqueAndAnnotated) {
  auto plans = plan_nodes(1000, "");
  std::set<std::string> addresses;
  for (const auto& p : plans) addresses.insert(p.address);
  EXPECT_EQ(addresses.size(), 1000u);
  EXPECT_EQ(plans[250].address, "172.30.1.1");
  auto node = node_object(plans[3]);
  EXPECT_EQ(node["metadata"]["annotations"][std::string(kNodeAddressAnnotation)], "172.30.0.4");
}

}  // namespace
}  // namespace kolla::cluster
