// kolla-operator against a real API server (the local cluster): the CRDs are accepted and refuse
// invalid specs; examples/minimal.yaml converges to Ready with every service Ready; a value
// change re-applies one service alone; removing a service tears it down (refused while another
// depends on it); deleting the deployment tears everything down and leaves the namespace clean;
// an operator killed during the bootstrap Jobs converges after a restart without re-running any;
// a failed Job turns its service Degraded with the reason, until it is deleted to run again; a
// node that stops its heartbeat degrades the services with pods on it until it is back;
// with two replicas only the leader acts and killing it hands over; and the operator runs under
// the ServiceAccount and RBAC of charts/kolla-operator.
//
// Every test has its own namespace and its own operator(s) watching only it, so tests may run in
// parallel. Runs when KOLLA_E2E_KUBECONFIG is set; KOLLA_E2E_TIMEOUT_SECONDS bounds each wait.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <list>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>

#include "common/process.hpp"

namespace {

using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool condition_true(const json& object, const std::string& type) {
  const auto ptr = json::json_pointer("/status/conditions");
  if (!object.is_object() || !object.contains(ptr)) return false;
  for (const auto& c : object.at(ptr)) {
    if (c.value("type", "") == type) return c.value("status", "") == "True";
  }
  return false;
}

std::string condition_message(const json& object, const std::string& type) {
  const auto ptr = json::json_pointer("/status/conditions");
  if (!object.is_object() || !object.contains(ptr)) return {};
  for (const auto& c : object.at(ptr)) {
    if (c.value("type", "") == type) return c.value("message", "");
  }
  return {};
}

// Ready and computed from the current spec.
bool ready_now(const json& object) {
  return condition_true(object, "Ready") &&
         object.value("/status/observedGeneration"_json_pointer, std::int64_t{-1}) ==
             object.value("/metadata/generation"_json_pointer, std::int64_t{0});
}

std::string name_of(const json& o) {
  return o.value("/metadata/name"_json_pointer, std::string{});
}

class OperatorE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* kc = std::getenv("KOLLA_E2E_KUBECONFIG");
    if (kc == nullptr || *kc == '\0') GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set";
    kubeconfig_ = kc;
    auto kubectl = kolla::find_executable("kubectl");
    ASSERT_TRUE(kubectl) << "kubectl not found";
    kubectl_ = *kubectl;
    source_ = KOLLA_SOURCE_DIR;
    if (const char* t = std::getenv("KOLLA_E2E_TIMEOUT_SECONDS")) {
      timeout_ = std::chrono::seconds(std::atoi(t));
    }
    auto applied =
        kubectl_run({"apply", "--server-side", "-f", source_ + "/charts/kolla-operator/crds/"});
    ASSERT_TRUE(applied.ok()) << applied.err;
    auto established = kubectl_run({"wait", "--for", "condition=established", "--timeout=60s",
                                    "crd/openstackdeployments.kolla.openstack.org",
                                    "crd/openstackservices.kolla.openstack.org"});
    ASSERT_TRUE(established.ok()) << established.err;
  }

  void TearDown() override {
    // Deployments go first, while the operators still run their finalizers; then the operators;
    // then the namespaces (finalizers left by a failed test are removed so they can go).
    for (const auto& ns : namespaces_) {
      kubectl_run(
          {"delete", "openstackdeployments", "--all", "-n", ns, "--wait=true", "--timeout=120s"});
    }
    for (auto& op : operators_) {
      if (op.running()) op.stop(10s);
    }
    for (const auto& ns : namespaces_) {
      for (const char* kind : {"openstackdeployments", "openstackservices"}) {
        json items = get_json({"get", kind, "-n", ns});
        if (!items.contains("items")) continue;
        for (const auto& o : items["items"]) {
          kubectl_run({"patch", kind, name_of(o), "-n", ns, "--type=merge", "-p",
                       R"({"metadata":{"finalizers":null}})"});
        }
      }
      kubectl_run({"delete", "namespace", ns, "--wait=false"});
    }
    for (const auto& args : cleanups_) kubectl_run(args);
  }

  kolla::ProcessResult kubectl_run(std::vector<std::string> args,
                                   const std::string& stdin_data = {}) {
    std::vector<std::string> argv = {kubectl_, "--kubeconfig", kubeconfig_};
    argv.insert(argv.end(), args.begin(), args.end());
    kolla::RunOptions options;
    options.stdin_data = stdin_data;
    options.timeout = 180s;
    return kolla::run_process(argv, options);
  }

  json get_json(std::vector<std::string> args) {
    args.push_back("-o");
    args.push_back("json");
    auto r = kubectl_run(args);
    if (!r.ok()) return json();
    return json::parse(r.out, nullptr, false);
  }

  std::vector<json> items(std::vector<std::string> args) {
    json list = get_json(std::move(args));
    if (!list.is_object() || !list.contains("items")) return {};
    return list["items"].get<std::vector<json>>();
  }

  // A fresh namespace e2e-op-<prefix>-<pid>, deleted after the test.
  std::string make_namespace(const std::string& prefix) {
    const std::string ns = "e2e-op-" + prefix + "-" + std::to_string(::getpid());
    kubectl_run({"delete", "namespace", ns, "--wait=true", "--timeout=120s"});
    auto created = kubectl_run({"create", "namespace", ns});
    EXPECT_TRUE(created.ok()) << created.err;
    namespaces_.push_back(ns);
    return ns;
  }

  std::string log_path(const std::string& tag) {
    return (fs::temp_directory_path() /
            ("kolla-operator-e2e-" + tag + "-" + std::to_string(::getpid()) + ".log"))
        .string();
  }

  // Starts kolla-operator watching ns; its log goes to log_path(tag).
  kolla::ChildProcess& start_operator(const std::string& ns, const std::string& tag,
                                      std::vector<std::string> extra = {},
                                      const std::string& kubeconfig = {}) {
    kolla::ChildProcess::Options child;
    child.log_file = log_path(tag);
    std::vector<std::string> argv = {KOLLA_OPERATOR_BIN,
                                     "--kubeconfig",
                                     kubeconfig.empty() ? kubeconfig_ : kubeconfig,
                                     "--namespace",
                                     ns,
                                     "--metrics-addr",
                                     "127.0.0.1:0",
                                     "--health-addr",
                                     "127.0.0.1:0",
                                     "--charts-dir",
                                     source_ + "/charts"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    operators_.push_back(kolla::ChildProcess::spawn(argv, child));
    return operators_.back();
  }

  // examples/minimal.yaml, moved to namespace ns.
  std::string minimal_yaml(const std::string& ns) {
    std::string text = read_file(source_ + "/examples/minimal.yaml");
    const std::string from = "namespace: openstack";
    const auto at = text.find(from);
    EXPECT_NE(at, std::string::npos);
    if (at != std::string::npos) text.replace(at, from.size(), "namespace: " + ns);
    return text;
  }

  // Polls until pred holds, the deadline passes (false), or the operator(s) died.
  bool wait_for(const std::function<bool()>& pred, std::chrono::seconds timeout = {}) {
    const auto deadline =
        std::chrono::steady_clock::now() + (timeout.count() > 0 ? timeout : timeout_);
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(500ms);
    }
    return pred();
  }

  json osd(const std::string& ns, const std::string& name = "minimal") {
    return get_json({"get", "openstackdeployment", name, "-n", ns});
  }

  // Waits for the deployment to be Ready at its current generation; fails the test if not.
  ::testing::AssertionResult deployment_ready(const std::string& ns,
                                              const std::string& name = "minimal") {
    json last;
    if (wait_for([&] {
          last = osd(ns, name);
          return ready_now(last);
        })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "deployment " << ns << "/" << name
           << " not Ready in time: " << last.value("status", json()).dump(2);
  }

  // name → {uid, creationTimestamp} of the Jobs in ns.
  std::map<std::string, std::pair<std::string, std::string>> jobs(const std::string& ns) {
    std::map<std::string, std::pair<std::string, std::string>> out;
    for (const auto& j : items({"get", "jobs", "-n", ns})) {
      out[name_of(j)] = {j["metadata"].value("uid", ""),
                         j["metadata"].value("creationTimestamp", "")};
    }
    return out;
  }

  std::string kubeconfig_;
  std::string kubectl_;
  std::string source_;
  std::chrono::seconds timeout_{300};
  std::vector<std::string> namespaces_;
  std::list<kolla::ChildProcess> operators_;  // stable references
  std::vector<std::vector<std::string>> cleanups_;
};

TEST_F(OperatorE2E, CrdsAreServedAndRefuseInvalidSpecs) {
  const std::string ns = make_namespace("crd");
  // Schema errors (enum, bounds) are reported together; the CEL rule on service names runs only
  // on an otherwise valid object, so it gets an object of its own.
  const std::string head = R"({"apiVersion":"kolla.openstack.org/v1alpha1",
    "kind":"OpenStackDeployment","metadata":{"name":"bad","namespace":")" +
                           ns + R"("},)";
  auto refused =
      kubectl_run({"apply", "--dry-run=server", "-f", "-"}, head + R"("spec":{"release":"2025.1",
      "images":{"pullPolicy":"Sometimes"}, "services":{"mariadb":{}},
      "fencing":{"maxUnreadyShare":0,"agents":{"x":{"type":"telnet"}}}}})");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("pullPolicy"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("maxUnreadyShare"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("agents.x.type"), std::string::npos) << refused.err;
  refused = kubectl_run({"apply", "--dry-run=server", "-f", "-"},
                        head + R"("spec":{"release":"2025.1","services":{"Not_A_Name":{}}}})");
  EXPECT_FALSE(refused.ok());
  EXPECT_NE(refused.err.find("service names"), std::string::npos) << refused.err;

  auto good = kubectl_run({"apply", "--dry-run=server", "-f", "-"}, minimal_yaml(ns));
  EXPECT_TRUE(good.ok()) << good.err;
}

TEST_F(OperatorE2E, MinimalDeploymentBecomesReadyAndTearsDownClean) {
  const std::string ns = make_namespace("minimal");
  auto& op = start_operator(ns, "minimal", {"--leader-elect", "--lease-namespace", ns});
  auto applied = kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns));
  ASSERT_TRUE(applied.ok()) << applied.err;
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << log_path("minimal");
  ASSERT_TRUE(op.running()) << "kolla-operator exited; see " << log_path("minimal");

  const auto services = items({"get", "openstackservices", "-n", ns});
  EXPECT_EQ(services.size(), 4u);
  for (const auto& s : services) {
    EXPECT_TRUE(ready_now(s)) << name_of(s) << ": " << s["status"].dump();
    EXPECT_EQ(s.value("/status/phase"_json_pointer, std::string{}), "Ready");
    // Owned by the deployment, so garbage collection agrees with the finalizers.
    EXPECT_EQ(s.value("/metadata/ownerReferences/0/kind"_json_pointer, std::string{}),
              "OpenStackDeployment");
  }
  auto columns = kubectl_run({"get", "ossvc", "-n", ns});
  EXPECT_NE(columns.out.find("WAITING ON"), std::string::npos) << columns.out;

  // Teardown through the finalizers, in reverse dependency order: keystone before what it uses.
  auto deleted =
      kubectl_run({"delete", "openstackdeployment", "minimal", "-n", ns, "--timeout=300s"});
  EXPECT_TRUE(deleted.ok()) << deleted.err;
  EXPECT_TRUE(items({"get", "openstackservices", "-n", ns}).empty());
  const std::string log = read_file(log_path("minimal"));
  const auto keystone_gone = log.find("service " + ns + "/keystone: every object deleted");
  const auto mariadb_deleting = log.find("deleting service mariadb");
  ASSERT_NE(keystone_gone, std::string::npos) << log;
  ASSERT_NE(mariadb_deleting, std::string::npos) << log;
  EXPECT_LT(keystone_gone, mariadb_deleting) << log;

  // Nothing of ours is left: workloads, Jobs, config, Services, claims (the StatefulSets' too).
  EXPECT_TRUE(wait_for(
      [&] {
        return items({"get", "deployments,statefulsets,jobs,services,pvc,pods", "-n", ns})
                   .empty() &&
               items({"get", "configmaps", "-n", ns, "-l", "kolla.openstack.org/service"}).empty();
      },
      120s))
      << kubectl_run({"get", "all,pvc,cm", "-n", ns}).out;
  EXPECT_EQ(op.stop(10s), 0) << "graceful shutdown on SIGTERM";
}

TEST_F(OperatorE2E, ValueChangeReappliesOneServiceAndRemovalTearsItDown) {
  const std::string ns = make_namespace("change");
  start_operator(ns, "change");
  ASSERT_TRUE(kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns)).ok());
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << log_path("change");

  std::map<std::string, std::int64_t> generations;  // kind/name → metadata.generation
  for (const auto& o : items({"get", "openstackservices,deployments,statefulsets", "-n", ns})) {
    generations[o.value("kind", "") + "/" + name_of(o)] =
        o.value("/metadata/generation"_json_pointer, std::int64_t{0});
  }
  const auto jobs_before = jobs(ns);
  ASSERT_FALSE(jobs_before.empty());

  // One value of memcached changes: only memcached's OpenStackService and objects move.
  auto patched =
      kubectl_run({"patch", "openstackdeployment", "minimal", "-n", ns, "--type=merge", "-p",
                   R"({"spec":{"services":{"memcached":{"values":{"server":{"replicas":2}}}}}})"});
  ASSERT_TRUE(patched.ok()) << patched.err;
  ASSERT_TRUE(wait_for([&] {
    json d = get_json({"get", "deployment", "memcached", "-n", ns});
    return d.value("/spec/replicas"_json_pointer, 0) == 2 && ready_now(osd(ns)) &&
           ready_now(get_json({"get", "openstackservice", "memcached", "-n", ns}));
  })) << log_path("change");
  for (const auto& o : items({"get", "openstackservices,deployments,statefulsets", "-n", ns})) {
    const std::string id = o.value("kind", "") + "/" + name_of(o);
    const auto generation = o.value("/metadata/generation"_json_pointer, std::int64_t{0});
    if (id == "OpenStackService/memcached" || id == "Deployment/memcached") {
      EXPECT_GT(generation, generations[id]) << id;
    } else {
      EXPECT_EQ(generation, generations[id]) << id << " changed with memcached's values";
    }
  }
  EXPECT_EQ(jobs(ns), jobs_before) << "no Job ran again";

  // memcached cannot go while keystone uses it: refused, with a condition naming keystone.
  patched = kubectl_run({"patch", "openstackdeployment", "minimal", "-n", ns, "--type=merge", "-p",
                         R"({"spec":{"services":{"memcached":{"enabled":false}}}})"});
  ASSERT_TRUE(patched.ok()) << patched.err;
  json refused;
  ASSERT_TRUE(wait_for([&] {
    refused = osd(ns);
    return condition_true(refused, "InvalidSpec") &&
           refused.value("/status/observedGeneration"_json_pointer, 0) ==
               refused.value("/metadata/generation"_json_pointer, -1);
  })) << refused.dump(2);
  EXPECT_NE(condition_message(refused, "InvalidSpec").find("keystone"), std::string::npos)
      << condition_message(refused, "InvalidSpec");
  EXPECT_TRUE(get_json({"get", "openstackservice", "memcached", "-n", ns}).is_object());
  EXPECT_TRUE(get_json({"get", "deployment", "memcached", "-n", ns}).is_object());

  // keystone (nothing depends on it) goes: its OpenStackService and every object of it.
  patched = kubectl_run({"patch", "openstackdeployment", "minimal", "-n", ns, "--type=merge", "-p",
                         R"({"spec":{"services":{"memcached":{"enabled":true},)"
                         R"("keystone":{"enabled":false}}}})"});
  ASSERT_TRUE(patched.ok()) << patched.err;
  EXPECT_TRUE(wait_for([&] {
    return ready_now(osd(ns)) && items({"get", "openstackservices", "-n", ns}).size() == 3u &&
           items({"get", "deployments,jobs,configmaps,services", "-n", ns, "-l",
                  "kolla.openstack.org/service=keystone"})
               .empty();
  })) << osd(ns).value("status", json()).dump(2);
  EXPECT_EQ(osd(ns).value("/status/servicesReady"_json_pointer, std::string{}), "3/3");
}

TEST_F(OperatorE2E, KilledDuringBootstrapJobsConvergesWithoutRerunningThem) {
  const std::string ns = make_namespace("kill");
  auto& first = start_operator(ns, "kill-1");
  ASSERT_TRUE(kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns)).ok());
  // keystone's bootstrap Jobs are applied and at least one has not completed yet.
  ASSERT_TRUE(wait_for([&] {
    for (const auto& j : items({"get", "jobs", "-n", ns, "-l", "kolla.openstack.org/service"})) {
      if (j.value("/status/succeeded"_json_pointer, 0) == 0) return true;
    }
    return false;
  })) << "no running bootstrap Job seen; log: "
      << log_path("kill-1");
  ASSERT_EQ(::kill(first.pid(), SIGKILL), 0);
  ASSERT_TRUE(wait_for([&] { return !first.running(); }, 10s));
  const auto before = jobs(ns);
  ASSERT_FALSE(before.empty());

  start_operator(ns, "kill-2");
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << log_path("kill-2");
  const auto after = jobs(ns);
  for (const auto& [name, id] : before) {
    ASSERT_TRUE(after.contains(name)) << name;
    EXPECT_EQ(after.at(name), id) << "Job " << name << " was created again";
  }
  for (const auto& j : items({"get", "jobs", "-n", ns})) {
    EXPECT_EQ(j.value("/status/succeeded"_json_pointer, 0), 1) << name_of(j);
  }
}

TEST_F(OperatorE2E, FailedJobDegradesTheServiceUntilItIsRetried) {
  const std::string ns = make_namespace("fail");
  start_operator(ns, "fail");
  // keystone's pods wait for a node label of this test (its values only). Meanwhile its first
  // Job is made to fail: backoffLimit 0 (patched: the charts' `default` cannot express 0) and
  // its pod annotated kolla.openstack.org/fail, which the cluster's profile fails.
  const std::string hold = "e2e.kolla.openstack.org/hold";
  const json deployment = {
      {"apiVersion", "kolla.openstack.org/v1alpha1"},
      {"kind", "OpenStackDeployment"},
      {"metadata", {{"name", "minimal"}, {"namespace", ns}}},
      {"spec",
       {{"release", "2025.1"},
        {"services",
         {{"mariadb", json::object()},
          {"memcached", json::object()},
          {"rabbitmq", json::object()},
          {"keystone",
           {{"values", {{"global", {{"nodeSelector", {{"controller", {{hold, ns}}}}}}}}}}}}}}}};
  auto applied = kubectl_run({"apply", "-f", "-"}, deployment.dump());
  ASSERT_TRUE(applied.ok()) << applied.err;
  std::string job;
  ASSERT_TRUE(wait_for([&] {
    for (const auto& j :
         items({"get", "jobs", "-n", ns, "-l", "kolla.openstack.org/service=keystone"})) {
      if (!items({"get", "pods", "-n", ns, "-l", "batch.kubernetes.io/job-name=" + name_of(j)})
               .empty()) {
        job = name_of(j);
        return true;
      }
    }
    return false;
  })) << "no keystone Job pod; log: "
      << log_path("fail");
  auto patched = kubectl_run(
      {"patch", "job", job, "-n", ns, "--type=merge", "-p", R"({"spec":{"backoffLimit":0}})"});
  ASSERT_TRUE(patched.ok()) << patched.err;
  auto annotated =
      kubectl_run({"annotate", "pods", "-n", ns, "-l", "batch.kubernetes.io/job-name=" + job,
                   "kolla.openstack.org/fail=true"});
  ASSERT_TRUE(annotated.ok()) << annotated.err;
  json controllers = get_json({"get", "nodes", "-l", "kolla.openstack.org/controller=true"});
  ASSERT_FALSE(controllers.value("items", json::array()).empty());
  const std::string node = name_of(controllers["items"][0]);
  cleanups_.push_back({"label", "node", node, hold + "-"});
  ASSERT_TRUE(kubectl_run({"label", "node", node, hold + "=" + ns, "--overwrite"}).ok());

  json keystone;
  ASSERT_TRUE(wait_for([&] {
    keystone = get_json({"get", "openstackservice", "keystone", "-n", ns});
    return condition_true(keystone, "Degraded");
  })) << keystone.value("status", json()).dump(2);
  EXPECT_EQ(keystone.value("/status/phase"_json_pointer, std::string{}), "Failed");
  const std::string why = condition_message(keystone, "Degraded");
  EXPECT_NE(why.find("Job " + job + " failed"), std::string::npos) << why;
  json top;
  EXPECT_TRUE(wait_for([&] {
    top = osd(ns);
    return condition_true(top, "Degraded");
  })) << top.value("status", json()).dump(2);
  EXPECT_NE(condition_message(top, "Degraded").find("keystone"), std::string::npos)
      << condition_message(top, "Degraded");

  // Retried by deleting the failed Job: it runs again (no annotation now) and everything heals.
  ASSERT_TRUE(kubectl_run({"delete", "job", job, "-n", ns}).ok());
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << log_path("fail");
  EXPECT_FALSE(condition_true(osd(ns), "Degraded"));
  EXPECT_FALSE(
      condition_true(get_json({"get", "openstackservice", "keystone", "-n", ns}), "Degraded"));
}

// A node that stops its heartbeat (the local cluster's label kolla.openstack.org/heartbeat=stopped
// turns it NotReady at once) under pods of a Ready deployment: the services with pods there turn
// Degraded (NodeNotReady, naming the node and the workload) and so does the deployment; both
// clear when the node is Ready again. Nothing else changes: the pods still count as Ready.
TEST_F(OperatorE2E, LostNodeDegradesItsServicesUntilItIsBack) {
  const std::string ns = make_namespace("node");
  start_operator(ns, "node");
  ASSERT_TRUE(kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns)).ok());
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << log_path("node");

  // A long-running pod of keystone (not a Job's), its node and its workload.
  std::string node;
  std::string workload;
  for (const auto& p : items({"get", "pods", "-n", ns, "-l", "app.kubernetes.io/name=keystone"})) {
    const std::string owner =
        p.value("/metadata/ownerReferences/0/kind"_json_pointer, std::string{});
    if (owner == "Job" || owner.empty()) continue;
    node = p.value("/spec/nodeName"_json_pointer, std::string{});
    if (owner == "ReplicaSet") {
      const std::string rs =
          p.value("/metadata/ownerReferences/0/name"_json_pointer, std::string{});
      workload = "Deployment/" + rs.substr(0, rs.rfind('-'));
    } else {
      workload =
          owner + "/" + p.value("/metadata/ownerReferences/0/name"_json_pointer, std::string{});
    }
    if (!node.empty()) break;
  }
  ASSERT_FALSE(node.empty()) << kubectl_run({"get", "pods", "-n", ns, "-o", "wide"}).out;
  const std::string stopped = "kolla.openstack.org/heartbeat";
  cleanups_.push_back({"label", "node", node, stopped + "-"});
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(kubectl_run({"label", "node", node, stopped + "=stopped", "--overwrite"}).ok());

  json keystone;
  ASSERT_TRUE(wait_for([&] {
    keystone = get_json({"get", "openstackservice", "keystone", "-n", ns});
    return condition_true(keystone, "Degraded");
  })) << keystone.value("status", json()).dump(2)
      << "\nlog: " << log_path("node");
  const auto reported = std::chrono::steady_clock::now() - t0;
  std::printf("node %s stopped → keystone Degraded in %.2f s (polled every 0.5 s)\n", node.c_str(),
              std::chrono::duration<double>(reported).count());
  const auto ptr = json::json_pointer("/status/conditions");
  std::string reason;
  for (const auto& c : keystone.value(ptr, json::array())) {
    if (c.value("type", "") == "Degraded") reason = c.value("reason", "");
  }
  EXPECT_EQ(reason, "NodeNotReady");
  const std::string why = condition_message(keystone, "Degraded");
  EXPECT_NE(why.find("node " + node + " not ready"), std::string::npos) << why;
  EXPECT_NE(why.find(workload), std::string::npos) << why;
  json top;
  EXPECT_TRUE(wait_for([&] {
    top = osd(ns);
    return condition_true(top, "Degraded");
  })) << top.value("status", json()).dump(2);
  EXPECT_NE(condition_message(top, "Degraded").find(node), std::string::npos)
      << condition_message(top, "Degraded");
  const std::string events =
      kubectl_run({"get", "events", "-n", ns, "--field-selector", "reason=NodeNotReady"}).out;
  EXPECT_NE(events.find("keystone"), std::string::npos) << events;

  // Back: Ready again, nothing Degraded.
  ASSERT_TRUE(kubectl_run({"label", "node", node, stopped + "-"}).ok());
  EXPECT_TRUE(wait_for([&] {
    top = osd(ns);
    return !condition_true(top, "Degraded") &&
           !condition_true(get_json({"get", "openstackservice", "keystone", "-n", ns}), "Degraded");
  })) << top.value("status", json()).dump(2);
  EXPECT_TRUE(deployment_ready(ns)) << "log: " << log_path("node");
}

TEST_F(OperatorE2E, OnlyTheLeaderActsAndKillingItHandsOver) {
  const std::string ns = make_namespace("leader");
  const std::vector<std::string> le = {"--leader-elect", "--lease-namespace", ns};
  auto& a = start_operator(ns, "leader-a", le);
  auto& b = start_operator(ns, "leader-b", le);
  json lease;
  ASSERT_TRUE(wait_for([&] {
    lease = get_json({"get", "lease", "kolla-operator", "-n", ns});
    // null until the Lease exists (kubectl fails)
    return lease.is_object() &&
           !lease.value("/spec/holderIdentity"_json_pointer, std::string{}).empty();
  }));
  const std::string holder = lease["spec"]["holderIdentity"];
  const std::string a_suffix = "_" + std::to_string(a.pid());
  const bool a_leads =
      holder.size() > a_suffix.size() &&
      holder.compare(holder.size() - a_suffix.size(), a_suffix.size(), a_suffix) == 0;
  kolla::ChildProcess& leader = a_leads ? a : b;
  kolla::ChildProcess& follower = a_leads ? b : a;
  const std::string follower_log = log_path(a_leads ? "leader-b" : "leader-a");

  ASSERT_TRUE(kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns)).ok());
  ASSERT_TRUE(wait_for([&] { return !items({"get", "openstackservices", "-n", ns}).empty(); }));
  // The follower has not started its controllers, nor created anything.
  const std::string before = read_file(follower_log);
  EXPECT_EQ(before.find("controllers started"), std::string::npos) << before;
  EXPECT_EQ(before.find("created service"), std::string::npos) << before;

  ASSERT_EQ(::kill(leader.pid(), SIGKILL), 0);
  ASSERT_TRUE(deployment_ready(ns)) << "log: " << follower_log;
  ASSERT_TRUE(follower.running());
  lease = get_json({"get", "lease", "kolla-operator", "-n", ns});
  const std::string f_suffix = "_" + std::to_string(follower.pid());
  const std::string new_holder =
      lease.is_object() ? lease.value("/spec/holderIdentity"_json_pointer, std::string{}) : "";
  EXPECT_TRUE(new_holder.size() > f_suffix.size() &&
              new_holder.compare(new_holder.size() - f_suffix.size(), f_suffix.size(), f_suffix) ==
                  0)
      << new_holder;
  EXPECT_NE(read_file(follower_log).find("controllers started"), std::string::npos);
}

TEST_F(OperatorE2E, RunsUnderTheChartServiceAccountAndRbac) {
  auto helm = kolla::find_executable("helm");
  ASSERT_TRUE(helm) << "helm not found";
  const std::string ns = make_namespace("rbac");
  const std::string release = "op" + std::to_string(::getpid());
  kolla::RunOptions quiet;
  quiet.timeout = 60s;
  auto rendered =
      kolla::run_process({*helm, "template", release, source_ + "/charts/kolla-operator",
                          "--namespace", ns, "--set", "watchNamespace=" + ns, "--show-only",
                          "templates/rbac.yaml", "--show-only", "templates/serviceaccount.yaml"},
                         quiet);
  ASSERT_TRUE(rendered.ok()) << rendered.err;
  cleanups_.push_back({"delete", "clusterrole,clusterrolebinding", "-l",
                       "app.kubernetes.io/instance=" + release, "--ignore-not-found"});
  auto applied = kubectl_run({"apply", "-f", "-"}, rendered.out);
  ASSERT_TRUE(applied.ok()) << applied.err;
  const std::string sa = release + "-kolla-operator";

  // A token through the TokenRequest API, and a kubeconfig holding only it.
  auto token = kubectl_run({"create", "token", sa, "-n", ns, "--duration=1h"});
  ASSERT_TRUE(token.ok()) << token.err;
  std::string bearer = token.out;
  while (!bearer.empty() && (bearer.back() == '\n' || bearer.back() == '\r')) bearer.pop_back();
  json admin = get_json({"config", "view", "--raw", "--minify"});
  ASSERT_TRUE(admin.contains("clusters")) << admin.dump();
  json cluster = admin["clusters"][0]["cluster"];
  json kubeconfig = {
      {"apiVersion", "v1"},
      {"kind", "Config"},
      {"clusters", json::array({{{"name", "e2e"}, {"cluster", cluster}}})},
      {"users", json::array({{{"name", sa}, {"user", {{"token", bearer}}}}})},
      {"contexts",
       json::array({{{"name", "sa"}, {"context", {{"cluster", "e2e"}, {"user", sa}}}}})},
      {"current-context", "sa"}};
  const std::string path = log_path("rbac-kubeconfig");
  {
    std::ofstream out(path);
    out << kubeconfig.dump(2);
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  // The identity really is the ServiceAccount, and it cannot do more than the chart grants.
  auto can = kolla::run_process({kubectl_, "--kubeconfig", path, "auth", "can-i", "create",
                                 "deployments.apps", "-n", "default"},
                                quiet);
  EXPECT_EQ(can.out.find("yes"), std::string::npos) << can.out;

  auto& op = start_operator(ns, "rbac", {"--leader-elect", "--lease-namespace", ns}, path);
  ASSERT_TRUE(kubectl_run({"apply", "-f", "-"}, minimal_yaml(ns)).ok());
  EXPECT_TRUE(deployment_ready(ns)) << "log: " << log_path("rbac");
  EXPECT_TRUE(op.running());
  const std::string log = read_file(log_path("rbac"));
  EXPECT_EQ(log.find("Forbidden"), std::string::npos) << log;
  EXPECT_EQ(log.find(bearer), std::string::npos) << "the token leaked into the log";
  fs::remove(path);
}

}  // namespace
