// The fencing controller on the local cluster: kwok nodes created for the test (labelled and
// tainted so nothing else lands on them), one made NotReady for real by stopping its heartbeat
// (the kwok Stage behind the label kolla.openstack.org/heartbeat=stopped), a CommandAgent script
// that records each call in a file, and the controller running in this process.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "e2e.hpp"
#include "fencing/fencer.hpp"
#include "kube/client.hpp"

namespace kolla::fencing {
namespace {

using namespace std::chrono_literals;
using e2e::eventually;
using e2e::kubectl;

const std::string kTestLabel = "kolla.openstack.org/fencing-e2e";

std::string read_all(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int count_lines_starting(const std::string& text, const std::string& prefix) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) ++n;
  }
  return n;
}

class FencingE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!e2e::kubeconfig()) GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set";
    id_ = std::to_string(::getpid()) + "-" +
          ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::transform(id_.begin(), id_.end(), id_.begin(), [](unsigned char c) {
      return std::isalnum(c) ? static_cast<char>(std::tolower(c)) : '-';
    });
    dir_ = std::filesystem::temp_directory_path() / ("fence-e2e-" + id_);
    std::filesystem::create_directories(dir_);
    ns_ = std::make_unique<e2e::Namespace>("fence");
    client_ = kube::Client::from_kubeconfig({*e2e::kubeconfig(), ""});
    objects_ = std::make_unique<op::KubeObjectClient>(client_);
    events_ = std::make_unique<op::EventRecorder>(*objects_, "kolla-operator", "fencing-e2e");
    kubectl().must({"create", "secret", "generic", "fence-creds", "-n", ns_->name(),
                    "--from-literal=password=e2e-fence-password"});
  }

  void TearDown() override {
    if (controller_) controller_->stop();
    for (const auto& n : nodes_) kubectl().run({"delete", "node", n, "--wait=false"});
    ns_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Creates `count` kwok nodes for this test and waits for them to be Ready.
  void make_nodes(int count) {
    std::string yaml;
    for (int i = 0; i < count; ++i) {
      const std::string name = "fence-" + id_.substr(0, 40) + "-" + std::to_string(i);
      nodes_.push_back(name);
      yaml += "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: " + name +
              "\n  annotations:\n    kwok.x-k8s.io/node: fake\n  labels:\n    " + kTestLabel +
              ": \"" + id_.substr(0, 60) + "\"\n    kubernetes.io/hostname: " + name +
              "\n    type: kwok\nspec:\n  taints:\n  - key: " + kTestLabel +
              "\n    value: \"true\"\n    effect: NoSchedule\n";
    }
    kubectl().apply(yaml);
    for (const auto& n : nodes_) {
      ASSERT_TRUE(eventually(
          [&] {
            return e2e::condition(kubectl().get_json({"node", n}), "Ready") == "True";
          },
          60s))
          << "node " << n << " never became Ready";
    }
  }

  // The agent: records "<action> <node>" lines; off succeeds (or fails with fail_off) and marks
  // the node off; status prints off/on from the marker.
  std::vector<std::string> agent_command(bool fail_off) {
    const auto script = dir_ / "fence.sh";
    std::ofstream out(script);
    out << "#!/bin/sh\n"
        << "echo \"$2 $1\" >> '" << (dir_ / "calls").string() << "'\n"
        << "case \"$2\" in\n"
        << "  off) "
        << (fail_off ? "echo 'BMC unreachable' >&2; exit 1"
                     : "touch '" + (dir_ / "off-").string() + "'\"$1\"")
        << " ;;\n"
        << "  status) if [ -e '" << (dir_ / "off-").string()
        << "'\"$1\" ]; then echo off; else echo on; fi ;;\n"
        << "esac\n";
    out.close();
    std::filesystem::permissions(script, std::filesystem::perms::owner_all);
    return {script.string(), "{node}", "{action}"};
  }

  Config config(bool fail_off) {
    Config c;
    c.enabled = true;
    c.grace_period = 5s;
    c.max_unready_share = 0.4;
    c.node_selector = {{kTestLabel, id_.substr(0, 60)}};
    c.credentials_namespace = ns_->name();
    c.confirm_interval = 1s;
    c.confirm_timeout = 10s;
    c.retry_base = 3s;
    c.retry_max = 30s;
    c.force_delete_after = 5s;
    c.use_lease = false;
    AgentConfig agent;
    agent.name = "script";
    agent.type = AgentType::kCommand;
    agent.command = agent_command(fail_off);
    agent.credentials_secret = "fence-creds";
    c.agents["script"] = agent;
    return c;
  }

  void start(const Config& c) {
    controller_ =
        std::make_unique<FencingController>(client_, *objects_, *events_, [c] { return c; });
    controller_->start();
  }

  void stop_heartbeat(const std::string& node) {
    kubectl().must({"label", "node", node, "kolla.openstack.org/heartbeat=stopped", "--overwrite"});
    ASSERT_TRUE(eventually(
        [&] {
          return e2e::condition(kubectl().get_json({"node", node}), "Ready") == "False";
        },
        60s));
  }

  std::string fence_state(const std::string& node) {
    auto j = kubectl().get_json({"node", node});
    if (!j.is_object()) return "?";
    return j.value("/metadata/annotations"_json_pointer, json::object())
        .value(kStateAnnotation, "");
  }

  bool node_event(const std::string& node, const std::string& reason) {
    auto events = kubectl().get_json(
        {"events", "-A", "--field-selector", "involvedObject.name=" + node + ",reason=" + reason});
    return events.is_object() && !events.value("items", json::array()).empty();
  }

  std::string calls() { return read_all(dir_ / "calls"); }

  std::string statefulset_yaml() {
    return "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: mariadb\nspec:\n"
           "  replicas: 1\n  serviceName: mariadb\n  selector:\n    matchLabels: {app: mariadb}\n"
           "  template:\n    metadata:\n      labels: {app: mariadb}\n    spec:\n"
           "      nodeSelector: {\"" +
           kTestLabel + "\": \"" + id_.substr(0, 60) +
           "\"}\n"
           "      tolerations:\n      - {key: \"" +
           kTestLabel +
           "\", operator: Exists, effect: NoSchedule}\n"
           "      containers:\n      - name: mariadb\n        image: "
           "quay.io/openstack.kolla/mariadb-server:2025.1-ubuntu-noble\n";
  }

  json mariadb_pod() { return kubectl().get_json({"pod", "mariadb-0", "-n", ns_->name()}); }

  std::string id_;
  std::filesystem::path dir_;
  std::unique_ptr<e2e::Namespace> ns_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<op::KubeObjectClient> objects_;
  std::unique_ptr<op::EventRecorder> events_;
  std::unique_ptr<FencingController> controller_;
  std::vector<std::string> nodes_;
};

TEST_F(FencingE2E, NotReadyNodeIsFencedOnceAndItsStatefulSetPodMoves) {
  make_nodes(3);
  kubectl().apply(statefulset_yaml(), ns_->name());
  std::string first_node;
  ASSERT_TRUE(eventually(
      [&] {
        auto pod = mariadb_pod();
        if (e2e::condition(pod, "Ready") != "True") return false;
        first_node = pod.value("/spec/nodeName"_json_pointer, std::string{});
        return !first_node.empty();
      },
      120s));
  start(config(false));
  stop_heartbeat(first_node);

  ASSERT_TRUE(eventually([&] { return fence_state(first_node) == "done"; }, 120s))
      << "state " << fence_state(first_node) << ", calls:\n"
      << calls();
  EXPECT_EQ(count_lines_starting(calls(), "off " + first_node), 1) << calls();
  auto node = kubectl().get_json({"node", first_node});
  EXPECT_TRUE(has_out_of_service_taint(node));
  EXPECT_TRUE(node_event(first_node, "FencingComplete"));
  EXPECT_TRUE(node_event(first_node, "OutOfServiceTaintAdded"));

  // The StatefulSet is back to full strength on another node.
  EXPECT_TRUE(eventually(
      [&] {
        auto pod = mariadb_pod();
        const std::string on = pod.value("/spec/nodeName"_json_pointer, std::string{});
        auto sts = kubectl().get_json({"statefulset", "mariadb", "-n", ns_->name()});
        return !on.empty() && on != first_node && e2e::condition(pod, "Ready") == "True" &&
               sts.value("/status/readyReplicas"_json_pointer, 0) == 1;
      },
      180s))
      << mariadb_pod().dump();

  // Still fenced a while later: no second power-off; listed for the CLI.
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(count_lines_starting(calls(), "off "), 1) << calls();
  auto fenced = list_fenced(*objects_);
  EXPECT_TRUE(std::any_of(fenced.begin(), fenced.end(), [&](const FencedNode& f) {
    return f.name == first_node && f.state == "done";
  }));
  // Unfencing waits for the node to be Ready again.
  EXPECT_FALSE(unfence(*objects_, first_node).unfenced);
  kubectl().must({"label", "node", first_node, "kolla.openstack.org/heartbeat-"});
  kubectl().must({"label", "node", first_node, "kolla.openstack.org/unfence=true"});
  EXPECT_TRUE(eventually(
      [&] {
        return fence_state(first_node).empty() &&
               !has_out_of_service_taint(kubectl().get_json({"node", first_node}));
      },
      90s));
}

TEST_F(FencingE2E, FailingAgentTaintsNothingAndWarns) {
  make_nodes(3);
  kubectl().apply(statefulset_yaml(), ns_->name());
  std::string on;
  ASSERT_TRUE(eventually(
      [&] {
        auto pod = mariadb_pod();
        on = pod.value("/spec/nodeName"_json_pointer, std::string{});
        return e2e::condition(pod, "Ready") == "True" && !on.empty();
      },
      120s));
  const std::string uid = mariadb_pod().value("/metadata/uid"_json_pointer, std::string{});
  start(config(true));
  stop_heartbeat(on);
  ASSERT_TRUE(eventually([&] { return node_event(on, "FenceFailed"); }, 90s)) << calls();
  auto node = kubectl().get_json({"node", on});
  EXPECT_FALSE(has_out_of_service_taint(node));
  EXPECT_EQ(fence_state(on), "pending");
  EXPECT_EQ(count_lines_starting(calls(), "off " + on), 1) << calls();
  // The pod was not deleted: same object, same node.
  auto pod = mariadb_pod();
  EXPECT_EQ(pod.value("/metadata/uid"_json_pointer, std::string{}), uid);
  EXPECT_FALSE(pod.contains("/metadata/deletionTimestamp"_json_pointer));
}

TEST_F(FencingE2E, HalfTheNodesNotReadyMeansNoAction) {
  make_nodes(4);
  start(config(false));
  stop_heartbeat(nodes_[0]);
  stop_heartbeat(nodes_[1]);
  ASSERT_TRUE(eventually(
      [&] {
        return node_event(nodes_[0], "FencingSuppressed") ||
               node_event(nodes_[1], "FencingSuppressed");
      },
      60s));
  std::this_thread::sleep_for(8s);  // well past the 5s grace period
  EXPECT_EQ(calls(), "");
  EXPECT_EQ(fence_state(nodes_[0]), "");
  EXPECT_EQ(fence_state(nodes_[1]), "");
  EXPECT_FALSE(has_out_of_service_taint(kubectl().get_json({"node", nodes_[0]})));
}

}  // namespace
}  // namespace kolla::fencing
