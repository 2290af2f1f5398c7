// Renders charts/kolla-operator with the real helm and checks its RBAC against what the operator
// does: every kind any service chart renders may be read, applied (server-side apply: create +
// patch), listed and deleted; the kinds the operator watches may be watched; the custom
// resources, their status and finalizers, events, EndpointSlices and the leader Lease are
// covered; and nothing broader (no '*', no escalate/bind/impersonate, no reading Secrets).
// Also the Deployment: two replicas, --leader-elect, probes, non-root, resources.

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kChartsDir = fs::path(KOLLA_SOURCE_DIR) / "charts";
const std::string kHelm = std::string(KOLLA_TOOLS_DIR) + "/bin/helm";

struct Rule {
  std::set<std::string> groups, resources, verbs, names;
};

std::vector<YAML::Node> render(const fs::path& chart, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {kHelm,          "template",    "test",
                                   chart.string(), "--namespace", "kolla-system"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  const auto result = kolla::run_process(argv);
  EXPECT_TRUE(result.ok()) << chart << ": " << result.err;
  std::vector<YAML::Node> docs;
  for (const auto& doc : YAML::LoadAll(result.out)) {
    if (doc.IsMap()) docs.push_back(doc);
  }
  return docs;
}

std::string group_of(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

// Kind → resource (plural) for the kinds charts may render. A kind missing here fails the test:
// add it, and the rights the operator needs for it to the chart's RBAC.
const std::map<std::string, std::string> kResources = {
    {"ConfigMap", "configmaps"},
    {"Secret", "secrets"},
    {"Service", "services"},
    {"ServiceAccount", "serviceaccounts"},
    {"PersistentVolumeClaim", "persistentvolumeclaims"},
    {"Deployment", "deployments"},
    {"StatefulSet", "statefulsets"},
    {"DaemonSet", "daemonsets"},
    {"Job", "jobs"},
    {"Role", "roles"},
    {"RoleBinding", "rolebindings"},
    {"PodDisruptionBudget", "poddisruptionbudgets"},
    {"NetworkPolicy", "networkpolicies"},
};

std::vector<std::string> strings(const YAML::Node& node) {
  std::vector<std::string> out;
  if (node && node.IsSequence()) {
    for (const auto& item : node) out.push_back(item.as<std::string>());
  }
  return out;
}

std::vector<Rule> rules_of(const YAML::Node& role) {
  std::vector<Rule> rules;
  for (const auto& r : role["rules"]) {
    Rule rule;
    for (const auto& g : strings(r["apiGroups"])) rule.groups.insert(g);
    for (const auto& s : strings(r["resources"])) rule.resources.insert(s);
    for (const auto& v : strings(r["verbs"])) rule.verbs.insert(v);
    for (const auto& n : strings(r["resourceNames"])) rule.names.insert(n);
    EXPECT_FALSE(r["nonResourceURLs"]) << "the operator needs no non-resource URLs";
    rules.push_back(rule);
  }
  return rules;
}

// The verbs granted on group/resource by rules without resourceNames (or, with name, also by
// rules naming it).
std::set<std::string> granted(const std::vector<Rule>& rules, const std::string& group,
                              const std::string& resource, const std::string& name = "") {
  std::set<std::string> verbs;
  for (const auto& r : rules) {
    if (!r.groups.contains(group) || !r.resources.contains(resource)) continue;
    if (!r.names.empty() && (name.empty() || !r.names.contains(name))) continue;
    verbs.insert(r.verbs.begin(), r.verbs.end());
  }
  return verbs;
}

std::string join(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

void expect_verbs(const std::vector<Rule>& rules, const std::string& group,
                  const std::string& resource, const std::set<std::string>& wanted) {
  const auto have = granted(rules, group, resource);
  for (const auto& v : wanted) {
    EXPECT_TRUE(have.contains(v)) << "missing " << v << " on " << group << "/" << resource
                                  << " (granted: " << join(have) << ")";
  }
}

const YAML::Node* find(const std::vector<YAML::Node>& docs, const std::string& kind,
                       const std::string& name_suffix = "") {
  for (const auto& d : docs) {
    const std::string name = d["metadata"]["name"].as<std::string>("");
    if (d["kind"].as<std::string>("") == kind &&
        (name_suffix.empty() || name.ends_with(name_suffix))) {
      return &d;
    }
  }
  return nullptr;
}

// Every (group, resource) of the objects the service charts render.
std::set<std::pair<std::string, std::string>> rendered_by_service_charts() {
  std::set<std::pair<std::string, std::string>> out;
  int charts = 0;
  for (const auto& entry : fs::directory_iterator(kChartsDir)) {
    const std::string name = entry.path().filename().string();
    if (!entry.is_directory() || name == "kolla-operator" || name == "kolla-common") continue;
    if (!fs::exists(entry.path() / "Chart.yaml")) continue;
    ++charts;
    for (const auto& doc : render(entry.path())) {
      const std::string kind = doc["kind"].as<std::string>();
      const auto it = kResources.find(kind);
      EXPECT_NE(it, kResources.end())
          << name << " renders a " << kind << ": add it to kResources and to the operator's RBAC";
      if (it != kResources.end()) {
        out.insert({group_of(doc["apiVersion"].as<std::string>()), it->second});
      }
    }
  }
  EXPECT_GE(charts, 12) << "the twelve service charts";
  return out;
}

class OperatorChart : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kHelm)) GTEST_SKIP() << "helm not installed at " << kHelm << " (scripts/setup)";
  }
};

TEST_F(OperatorChart, LintsStrictly) {
  for (const std::vector<std::string>& sets :
       {std::vector<std::string>{},
        {"--set", "watchNamespace=openstack", "--set", "leaderElection.enabled=false"}}) {
    std::vector<std::string> argv = {kHelm, "lint", "--strict",
                                     (kChartsDir / "kolla-operator").string()};
    argv.insert(argv.end(), sets.begin(), sets.end());
    const auto result = kolla::run_process(argv);
    EXPECT_TRUE(result.ok()) << result.out << result.err;
  }
}

TEST_F(OperatorChart, SchemaRejectsBadValues) {
  const auto result =
      kolla::run_process({kHelm, "template", "t", (kChartsDir / "kolla-operator").string(), "--set",
                          "workers=0", "--set", "logLevel=loud"});
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.err.find("workers"), std::string::npos) << result.err;
}

void check_rbac(const std::vector<Rule>& rules, bool leader_rules_separate) {
  for (const auto& r : rules) {
    for (const auto* set : {&r.groups, &r.resources, &r.verbs}) {
      EXPECT_FALSE(set->contains("*")) << "no wildcard in " << join(*set);
    }
    for (const char* verb : {"escalate", "bind", "impersonate", "deletecollection"}) {
      EXPECT_FALSE(r.verbs.contains(verb)) << verb << " is not needed";
    }
    EXPECT_FALSE(r.resources.contains("nodes")) << "Nodes are in a ClusterRole of their own";
    EXPECT_FALSE(r.resources.contains("customresourcedefinitions")) << "CRDs come with the chart";
  }
  // Never read Secrets (the passwords): the inventory only lists and deletes labelled ones.
  const auto secrets = granted(rules, "", "secrets");
  EXPECT_FALSE(secrets.contains("get")) << join(secrets);
  EXPECT_FALSE(secrets.contains("watch")) << join(secrets);

  // Every kind the service charts render: read (health), server-side apply, prune, delete.
  for (const auto& [group, resource] : rendered_by_service_charts()) {
    expect_verbs(rules, group, resource, {"get", "list", "create", "patch", "delete"});
  }
  // Watched workloads (src/operator/manager.cpp informers).
  expect_verbs(rules, "apps", "deployments", {"watch"});
  expect_verbs(rules, "apps", "statefulsets", {"watch"});
  expect_verbs(rules, "apps", "daemonsets", {"watch"});
  expect_verbs(rules, "batch", "jobs", {"watch"});
  // Watched by the inventory label and read from the cache (src/operator/manager.cpp).
  expect_verbs(rules, "", "configmaps", {"watch"});
  expect_verbs(rules, "", "services", {"watch"});
  // The inventory kinds listed whether or not rendered (ServiceReconciler::inventory_kinds).
  for (const auto& [group, resource] : std::vector<std::pair<std::string, std::string>>{
           {"", "secrets"},
           {"", "serviceaccounts"},
           {"rbac.authorization.k8s.io", "roles"},
           {"rbac.authorization.k8s.io", "rolebindings"},
           {"", "persistentvolumeclaims"}}) {
    expect_verbs(rules, group, resource, {"list", "delete"});
  }
  const std::string g = "kolla.openstack.org";
  expect_verbs(rules, g, "openstackdeployments", {"get", "list", "watch", "update"});
  expect_verbs(rules, g, "openstackdeployments/status", {"update"});
  expect_verbs(rules, g, "openstackdeployments/finalizers", {"update"});
  expect_verbs(rules, g, "openstackservices",
               {"get", "list", "watch", "create", "patch", "update", "delete"});
  expect_verbs(rules, g, "openstackservices/status", {"update"});
  expect_verbs(rules, g, "openstackservices/finalizers", {"update"});
  expect_verbs(rules, "", "events", {"create", "patch"});
  expect_verbs(rules, "discovery.k8s.io", "endpointslices", {"list"});
  // Pods on a node that is not Ready are listed (src/operator/node_watch.hpp), Jobs' pods
  // watched (src/operator/manager.cpp); never read one by one, never changed.
  EXPECT_EQ(granted(rules, "", "pods"), (std::set<std::string>{"list", "watch"}));
  if (leader_rules_separate) {
    EXPECT_TRUE(granted(rules, "coordination.k8s.io", "leases").empty())
        << "Leases only in the operator's namespace";
  }
}

// Nodes are cluster-scoped: watched (a NotReady node degrades the services with pods on it)
// through a ClusterRole of their own, whatever watchNamespace is; nothing else in it.
void check_node_role(const std::vector<YAML::Node>& docs) {
  const YAML::Node* role = find(docs, "ClusterRole", "-nodes");
  ASSERT_NE(role, nullptr);
  const auto rules = rules_of(*role);
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].resources, std::set<std::string>{"nodes"});
  EXPECT_EQ(granted(rules, "", "nodes"), (std::set<std::string>{"get", "list", "watch"}));
  const YAML::Node* binding = find(docs, "ClusterRoleBinding", "-nodes");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ((*binding)["roleRef"]["name"].as<std::string>(),
            (*role)["metadata"]["name"].as<std::string>());
}

TEST_F(OperatorChart, ClusterRoleCoversWhatTheOperatorDoesAndNoMore) {
  const auto docs = render(kChartsDir / "kolla-operator");
  const YAML::Node* role = find(docs, "ClusterRole");
  ASSERT_NE(role, nullptr);
  check_rbac(rules_of(*role), true);
  const YAML::Node* binding = find(docs, "ClusterRoleBinding");
  ASSERT_NE(binding, nullptr);
  EXPECT_EQ((*binding)["roleRef"]["name"].as<std::string>(),
            (*role)["metadata"]["name"].as<std::string>());
  const YAML::Node* sa = find(docs, "ServiceAccount");
  ASSERT_NE(sa, nullptr);
  EXPECT_EQ((*binding)["subjects"][0]["name"].as<std::string>(),
            (*sa)["metadata"]["name"].as<std::string>());
  EXPECT_EQ((*binding)["subjects"][0]["namespace"].as<std::string>(), "kolla-system");

  const YAML::Node* lease_role = find(docs, "Role", "-leader-election");
  ASSERT_NE(lease_role, nullptr);
  EXPECT_EQ((*lease_role)["metadata"]["namespace"].as<std::string>(), "kolla-system");
  const auto lease_rules = rules_of(*lease_role);
  EXPECT_EQ(granted(lease_rules, "coordination.k8s.io", "leases"), std::set<std::string>{"create"});
  EXPECT_EQ(granted(lease_rules, "coordination.k8s.io", "leases", "kolla-operator"),
            (std::set<std::string>{"create", "get", "update"}));
  EXPECT_NE(find(docs, "RoleBinding", "-leader-election"), nullptr);
  check_node_role(docs);
}

TEST_F(OperatorChart, NamespacedModeUsesARoleInTheWatchedNamespace) {
  // Fencing works on cluster-scoped Nodes and always needs a ClusterRole of its own; without it,
  // a namespaced operator has no cluster-wide grant at all.
  const auto with_fencing =
      render(kChartsDir / "kolla-operator", {"--set", "watchNamespace=openstack"});
  for (const auto& d : with_fencing) {
    if (d["kind"].as<std::string>("").starts_with("ClusterRole")) {
      const std::string name = d["metadata"]["name"].as<std::string>();
      EXPECT_TRUE(name.ends_with("-fencing") || name.ends_with("-nodes")) << name;
    }
  }
  const auto docs = render(kChartsDir / "kolla-operator",
                           {"--set", "watchNamespace=openstack", "--set", "fencing.enabled=false"});
  // The only cluster-wide grant left: watching Nodes.
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>("").starts_with("ClusterRole")) {
      EXPECT_TRUE(d["metadata"]["name"].as<std::string>().ends_with("-nodes"))
          << d["metadata"]["name"].as<std::string>();
    }
  }
  check_node_role(docs);
  const YAML::Node* role = nullptr;
  for (const auto& d : docs) {
    if (d["kind"].as<std::string>() == "Role" &&
        d["metadata"]["namespace"].as<std::string>() == "openstack") {
      role = &d;
    }
  }
  ASSERT_NE(role, nullptr);
  check_rbac(rules_of(*role), true);
  const YAML::Node* deployment = find(docs, "Deployment");
  ASSERT_NE(deployment, nullptr);
  const auto args = strings((*deployment)["spec"]["template"]["spec"]["containers"][0]["args"]);
  EXPECT_NE(std::find(args.begin(), args.end(), "--namespace=openstack"), args.end());
}

TEST_F(OperatorChart, DeploymentIsHighlyAvailableAndUnprivileged) {
  const auto docs = render(kChartsDir / "kolla-operator");
  const YAML::Node* deployment = find(docs, "Deployment");
  ASSERT_NE(deployment, nullptr);
  EXPECT_EQ((*deployment)["spec"]["replicas"].as<int>(), 2);
  const YAML::Node pod = (*deployment)["spec"]["template"]["spec"];
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>());
  EXPECT_NE(pod["securityContext"]["runAsUser"].as<int>(), 0);
  const YAML::Node c = pod["containers"][0];
  const auto args = strings(c["args"]);
  for (const std::string want : {"--leader-elect", "--lease-namespace=kolla-system",
                                 "--metrics-addr=:8080", "--health-addr=:8081"}) {
    EXPECT_NE(std::find(args.begin(), args.end(), want), args.end()) << want;
  }
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>());
  EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>());
  EXPECT_EQ(c["securityContext"]["capabilities"]["drop"][0].as<std::string>(), "ALL");
  EXPECT_TRUE(c["resources"]["requests"]["cpu"]);
  EXPECT_TRUE(c["resources"]["limits"]["memory"]);
  EXPECT_EQ(c["image"].as<std::string>(), "kolla-kubernetes/kolla-operator:0.1.0");

  const YAML::Node* service = find(docs, "Service", "-metrics");
  ASSERT_NE(service, nullptr);
  EXPECT_EQ((*service)["spec"]["ports"][0]["targetPort"].as<std::string>(), "metrics");
}

}  // namespace
