#include "cluster/profile.hpp"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>

namespace kolla::cluster {
namespace {

std::vector<YAML::Node> stages_of(const std::string& text) {
  std::vector<YAML::Node> out;
  for (const auto& doc : YAML::LoadAll(text)) {
    if (doc && !doc.IsNull()) out.push_back(doc);
  }
  return out;
}

YAML::Node find_stage(const std::vector<YAML::Node>& stages, const std::string& name) {
  for (const auto& s : stages) {
    if (s["metadata"]["name"].as<std::string>() == name) return s;
  }
  ADD_FAILURE() << "no stage " << name;
  return {};
}

std::vector<std::string> cel_expressions(const YAML::Node& stage) {
  std::vector<std::string> out;
  for (const auto& e : stage["spec"]["selector"]["matchExpressions"]) {
    if (e["cel"]) out.push_back(e["cel"]["expression"].as<std::string>());
  }
  return out;
}

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration("20s"), Millis(20000));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1500));
  EXPECT_EQ(parse_duration("250ms"), Millis(250));
  EXPECT_EQ(parse_duration("2m"), Millis(120000));
  EXPECT_EQ(parse_duration("3"), Millis(3000));
  EXPECT_EQ(parse_duration(" 0s "), Millis(0));
  EXPECT_THROW(parse_duration(""), std::invalid_argument);
  EXPECT_THROW(parse_duration("10 parsecs"), std::invalid_argument);
  EXPECT_THROW(parse_duration("-1s"), std::invalid_argument);
  EXPECT_THROW(parse_duration("abc"), std::invalid_argument);
}

TEST(Profile, ParsesDefaultsAndRules) {
  auto p = parse_profile(R"(
apiVersion: kolla.openstack.org/v1alpha1
kind: LatencyProfile
defaults: {podCreate: 1s, ready: 4s, jobStart: 2s, complete: 12s, fail: 6s, jitter: 0.5}
rules:
- name: mariadb
  match: {image: mariadb}
  ready: 20s
- name: db-sync
  match: {labels: {app.kubernetes.io/component: db-sync}}
  complete: 45s
)");
  EXPECT_EQ(p.pod_create, Millis(1000));
  EXPECT_EQ(p.ready, Millis(4000));
  EXPECT_EQ(p.job_start, Millis(2000));
  EXPECT_EQ(p.complete, Millis(12000));
  EXPECT_EQ(p.fail, Millis(6000));
  EXPECT_DOUBLE_EQ(p.jitter, 0.5);
  ASSERT_EQ(p.rules.size(), 2u);
  EXPECT_EQ(p.rules[0].name, "mariadb");
  EXPECT_EQ(p.rules[0].match.image, "mariadb");
  EXPECT_EQ(p.rules[0].ready, Millis(20000));
  EXPECT_FALSE(p.rules[0].complete.has_value());
  EXPECT_EQ(p.rules[1].match.labels.at("app.kubernetes.io/component"), "db-sync");
  EXPECT_EQ(p.rules[1].complete, Millis(45000));
}

TEST(Profile, EmptyDocumentGivesDefaults) {
  auto p = parse_profile("");
  EXPECT_TRUE(p.rules.empty());
  EXPECT_GT(p.ready.count(), 0);
}

TEST(Profile, RejectsBadInput) {
  EXPECT_THROW(parse_profile("defaults: {redy: 1s}"), std::invalid_argument);
  EXPECT_THROW(parse_profile("rules: [{name: x, match: {}, ready: 1s}]"), std::invalid_argument);
  EXPECT_THROW(parse_profile("rules: [{name: X_Y, match: {image: a}, ready: 1s}]"),
               std::invalid_argument);
  EXPECT_THROW(parse_profile("rules: [{name: a, match: {image: a}}]"), std::invalid_argument);
  EXPECT_THROW(parse_profile("rules: [{name: a, match: {image: a}, ready: 1s},"
                             " {name: a, match: {image: b}, ready: 1s}]"),
               std::invalid_argument);
  EXPECT_THROW(parse_profile("kind: Other"), std::invalid_argument);
  EXPECT_THROW(parse_profile("defaults: {jitter: lots}"), std::invalid_argument);
  EXPECT_THROW(parse_profile("rules: [{name: a, match: {image: a}, ready: soon}]"),
               std::invalid_argument);
}

TEST(Profile, ShippedProfilesParse) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(KOLLA_SOURCE_DIR) / "profiles";
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    SCOPED_TRACE(entry.path().string());
    auto p = load_profile(entry.path().string());
    EXPECT_NO_THROW(generate_stages(p, {}));
  }
  EXPECT_GE(seen, 2);
  auto def = load_profile((dir / "default.yaml").string());
  bool mariadb = false;
  for (const auto& r : def.rules) {
    if (r.match.image == "mariadb") mariadb = r.ready.has_value() && *r.ready >= Millis(10000);
  }
  EXPECT_TRUE(mariadb) << "the default profile should make mariadb slow to start";
}

TEST(Cel, MatchExpressions) {
  PodMatch m;
  m.image = "mari\"adb";
  EXPECT_EQ(cel_for_match(m), R"(self.spec.containers.exists(c, c.image.contains("mari\"adb")))");
  PodMatch l;
  l.labels["app"] = "x";
  EXPECT_EQ(cel_for_match(l), R"(has(self.metadata.labels) && "app" in self.metadata.labels && )"
                              R"(self.metadata.labels["app"] == "x")");
  EXPECT_EQ(cel_for_match(PodMatch{}), "false");
}

TEST(Stages, GeneratesScaledExclusiveStages) {
  LatencyProfile p;
  p.jitter = 0.5;
  p.ready = Millis(2000);
  p.complete = Millis(10000);
  LatencyRule mariadb{"mariadb", {"mariadb", {}}, Millis(20000), std::nullopt};
  LatencyRule memcached{"memcached", {"memcached", {}}, Millis(2000), std::nullopt};
  LatencyRule sync{"db-sync", {"", {{"component", "db-sync"}}}, std::nullopt, Millis(30000)};
  p.rules = {mariadb, memcached, sync};
  StageOptions o;
  o.time_scale = 0.1;
  o.capacity.cpu = "16";
  auto stages = stages_of(generate_stages(p, o));

  for (const auto& s : stages) {
    EXPECT_EQ(s["apiVersion"].as<std::string>(), "kwok.x-k8s.io/v1alpha1");
    EXPECT_EQ(s["kind"].as<std::string>(), "Stage");
  }
  auto m = find_stage(stages, "kolla-pod-ready-mariadb");
  EXPECT_EQ(m["spec"]["resourceRef"]["kind"].as<std::string>(), "Pod");
  EXPECT_EQ(m["spec"]["delay"]["durationMilliseconds"].as<int64_t>(), 2000);
  EXPECT_EQ(m["spec"]["delay"]["jitterDurationMilliseconds"].as<int64_t>(), 3000);
  ASSERT_EQ(cel_expressions(m).size(), 1u);
  EXPECT_EQ(cel_expressions(m)[0], "(" + cel_for_match(mariadb.match) + ")");

  // A later rule excludes the earlier ones: first match wins, no random choice between stages.
  auto mc = find_stage(stages, "kolla-pod-ready-memcached");
  EXPECT_EQ(cel_expressions(mc)[0],
            "(" + cel_for_match(memcached.match) + ") && !(" + cel_for_match(mariadb.match) + ")");
  auto def = find_stage(stages, "kolla-pod-ready");
  EXPECT_EQ(cel_expressions(def)[0],
            "!(" + cel_for_match(mariadb.match) + ") && !(" + cel_for_match(memcached.match) + ")");
  EXPECT_EQ(def["spec"]["delay"]["durationMilliseconds"].as<int64_t>(), 200);

  // Jobs: the db-sync rule only shapes completion.
  auto c = find_stage(stages, "kolla-pod-complete-db-sync");
  EXPECT_EQ(c["spec"]["delay"]["durationMilliseconds"].as<int64_t>(), 3000);
  EXPECT_NE(c["spec"]["next"]["statusTemplate"].as<std::string>().find("phase: Succeeded"),
            std::string::npos);
  auto cd = find_stage(stages, "kolla-pod-complete");
  EXPECT_EQ(cel_expressions(cd)[0], "!(" + cel_for_match(sync.match) + ")");
  EXPECT_EQ(cd["spec"]["delay"]["durationMilliseconds"].as<int64_t>(), 1000);

  // Failing pods: Jobs' pods fail, other pods crash-loop; healthy stages skip them.
  auto f = find_stage(stages, "kolla-pod-fail-job");
  EXPECT_NE(f["spec"]["next"]["statusTemplate"].as<std::string>().find("phase: Failed"),
            std::string::npos);
  bool selects_fail = false;
  for (const auto& e : f["spec"]["selector"]["matchExpressions"]) {
    if (e["key"] &&
        e["key"].as<std::string>().find(std::string(kFailAnnotation)) != std::string::npos) {
      selects_fail = e["operator"].as<std::string>() == "In";
    }
  }
  EXPECT_TRUE(selects_fail);
  auto crash = find_stage(stages, "kolla-pod-crashloop");
  EXPECT_NE(crash["spec"]["next"]["statusTemplate"].as<std::string>().find("CrashLoopBackOff"),
            std::string::npos);
  bool ready_skips_fail = false;
  for (const auto& e : m["spec"]["selector"]["matchExpressions"]) {
    if (e["key"] &&
        e["key"].as<std::string>().find(std::string(kFailAnnotation)) != std::string::npos) {
      ready_skips_fail = e["operator"].as<std::string>() == "NotIn";
    }
  }
  EXPECT_TRUE(ready_skips_fail);

  // Pods being deleted go away; no delay at delete grace 0.
  auto del = find_stage(stages, "kolla-pod-delete");
  EXPECT_TRUE(del["spec"]["next"]["delete"].as<bool>());
  EXPECT_FALSE(del["spec"]["delay"]);

  // Nodes: capacity from the options, heartbeat unscaled, stopped heartbeat selected by label.
  auto init = find_stage(stages, "kolla-node-initialize");
  EXPECT_NE(init["spec"]["next"]["statusTemplate"].as<std::string>().find("cpu: \"16\""),
            std::string::npos);
  auto hb = find_stage(stages, "kolla-node-heartbeat");
  EXPECT_EQ(hb["spec"]["delay"]["durationMilliseconds"].as<int64_t>(), 20000);
  auto stopped = find_stage(stages, "kolla-node-heartbeat-stopped");
  bool by_label = false;
  for (const auto& e : stopped["spec"]["selector"]["matchExpressions"]) {
    if (e["key"] &&
        e["key"].as<std::string>().find(std::string(kHeartbeatLabel)) != std::string::npos) {
      by_label = e["values"][0].as<std::string>() == std::string(kHeartbeatStopped);
    }
  }
  EXPECT_TRUE(by_label);
}

TEST(Stages, DeterministicAndValidatesScale) {
  LatencyProfile p;
  EXPECT_EQ(generate_stages(p, {}), generate_stages(p, {}));
  StageOptions bad;
  bad.time_scale = 0;
  EXPECT_THROW(generate_stages(p, bad), std::invalid_argument);
}

}  // namespace
}  // namespace kolla::cluster
