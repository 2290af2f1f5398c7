#include "cluster/profile.hpp"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <stdexcept>

namespace kolla::cluster {
namespace {

Millis duration_field(const YAML::Node& node, const std::string& where) {
  if (!node.IsScalar()) throw std::invalid_argument(where + ": expected a duration such as 20s");
  try {
    return parse_duration(node.Scalar());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
}

void check_keys(const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& where) {
  if (!map.IsMap()) throw std::invalid_argument(where + ": expected a mapping");
  for (const auto& kv : map) {
    auto key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) throw std::invalid_argument(where + ": unknown key '" + key + "'");
  }
}

bool valid_rule_name(const std::string& name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return name.front() != '-' && name.back() != '-';
}

// CEL string literal with escapes.
std::string cel_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// ---- Stage building -------------------------------------------------------------------------

struct Delay {
  int64_t ms = 0;
  int64_t jitter_ms = 0;  // upper bound of the delay (kwok semantics), 0: none
};

Delay scaled(Millis d, const StageOptions& opt, double jitter) {
  double ms = static_cast<double>(d.count()) * opt.time_scale;
  Delay out;
  out.ms = std::llround(ms);
  if (jitter > 0 && out.ms > 0) out.jitter_ms = std::llround(ms * (1.0 + jitter));
  return out;
}

nlohmann::json jq(const std::string& key, const std::string& op,
                  std::vector<std::string> values = {}) {
  nlohmann::json e;
  e["key"] = key;
  e["operator"] = op;
  if (!values.empty()) e["values"] = values;
  return e;
}

nlohmann::json cel(const std::string& expression) {
  nlohmann::json e;
  e["cel"]["expression"] = expression;
  return e;
}

nlohmann::json stage(const std::string& name, const std::string& kind,
                     std::vector<nlohmann::json> exprs, std::optional<Delay> delay) {
  nlohmann::json s;
  s["apiVersion"] = "kwok.x-k8s.io/v1alpha1";
  s["kind"] = "Stage";
  s["metadata"]["name"] = name;
  s["spec"]["resourceRef"]["apiGroup"] = "v1";
  s["spec"]["resourceRef"]["kind"] = kind;
  for (auto& e : exprs) s["spec"]["selector"]["matchExpressions"].push_back(e);
  if (delay && delay->ms > 0) {
    s["spec"]["delay"]["durationMilliseconds"] = delay->ms;
    if (delay->jitter_ms > delay->ms) {
      s["spec"]["delay"]["jitterDurationMilliseconds"] = delay->jitter_ms;
    }
  }
  return s;
}

const std::string kNotDeleting = ".metadata.deletionTimestamp";
const std::string kPhase = ".status.phase";
const std::string kPodIP = ".status.podIP";
const std::string kOwnerKinds = ".metadata.ownerReferences.[].kind";
const std::string kReadyStatus = R"(.status.conditions.[] | select( .type == "Ready" ) | .status)";

std::string fail_key() {
  return ".metadata.annotations[\"" + std::string(kFailAnnotation) + "\"]";
}
std::string heartbeat_key() {
  return ".metadata.labels[\"" + std::string(kHeartbeatLabel) + "\"]";
}

// Status templates: Go templates that kwok evaluates with its functions Now, Quote,
// NodeConditions, NodeIP, NodeIPWith and PodIPWith. They are put together from the fragments
// below, so that each block of status is written once.

// Every template first fixes the time, so that all its timestamps agree.
const std::string kNow = "{{ $now := Now }}\n";

// The node's `conditions`: `entry` for each of kwok's NodeConditions.
std::string node_conditions(const std::string& entry) {
  return "conditions:\n{{ range NodeConditions }}\n" + entry + "{{ end }}\n";
}

// One of kwok's NodeConditions (the dot, inside `range NodeConditions`) as it is, beating now;
// `since` is the template variable that gives its transition time ($now or $since).
std::string node_condition_as_is(const std::string& since) {
  return R"(- type: {{ .type | Quote }}
  status: {{ .status | Quote }}
  reason: {{ .reason | Quote }}
  message: {{ .message | Quote }}
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ )" +
         since + " | Quote }}\n";
}

// The nodes' status at start. The address comes from the node's own annotation.
std::string node_initialize_template(const NodeCapacity& cap) {
  std::ostringstream t;
  t << kNow << node_conditions(node_condition_as_is("$now")) << R"(addresses:
- type: InternalIP
  address: {{ or (index .metadata.annotations ")"
    << kNodeAddressAnnotation << R"(") NodeIP | Quote }}
- type: Hostname
  address: {{ .metadata.name | Quote }}
)";
  for (const char* field : {"capacity", "allocatable"}) {
    t << field << ":\n  cpu: \"" << cap.cpu << "\"\n  memory: \"" << cap.memory << "\"\n  pods: \""
      << cap.pods << "\"\n  ephemeral-storage: \"1Ti\"\n";
  }
  t << R"(nodeInfo:
  architecture: amd64
  operatingSystem: linux
  osImage: kolla-kubernetes simulated node
  kernelVersion: kwok
  containerRuntimeVersion: kwok
  kubeletVersion: kwok
  kubeProxyVersion: kwok
  machineID: ""
  systemUUID: ""
  bootID: ""
phase: Running
)";
  return t.str();
}

std::string node_heartbeat_template() {
  return kNow + "{{ $since := or .metadata.creationTimestamp $now }}\n" +
         node_conditions(node_condition_as_is("$since"));
}

// Fencing tests: Ready turns False, the other conditions stay as they are.
std::string node_stopped_template() {
  const std::string not_ready = R"({{ if eq .type "Ready" }}
- type: Ready
  status: "False"
  reason: HeartbeatStopped
  message: "heartbeat stopped by the label kolla.openstack.org/heartbeat=stopped"
  lastHeartbeatTime: {{ $now | Quote }}
  lastTransitionTime: {{ $now | Quote }}
{{ else }}
)";
  return kNow + node_conditions(not_ready + node_condition_as_is("$now") + "{{ end }}\n");
}

// A pod's ContainersReady and Ready conditions, both with `status` ("True" or "False") and
// `reason` (as written in YAML: "\"\"" for none).
std::string readiness_conditions(const std::string& status, const std::string& reason) {
  std::string out;
  for (const char* type : {"ContainersReady", "Ready"}) {
    out += std::string("- type: ") + type + "\n  status: \"" + status + "\"\n  reason: " + reason +
           "\n  lastTransitionTime: {{ $now | Quote }}\n";
  }
  return out;
}

// A status entry for each container of `.spec.<list>` (containers or initContainers); `state`
// ends each entry: its state (and lastState) keys, indented by two spaces.
std::string container_statuses(const std::string& list, bool ready, int restart_count, bool started,
                               const std::string& state) {
  std::ostringstream t;
  t << "{{ range .spec." << list << R"( }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: )"
    << (ready ? "true" : "false") << "\n  restartCount: " << restart_count
    << "\n  started: " << (started ? "true" : "false") << "\n"
    << state << "{{ end }}\n";
  return t.str();
}

// A container's `key` (state or lastState): terminated now with `exit_code` for `reason`.
std::string terminated(const std::string& key, int exit_code, const std::string& reason) {
  return "  " + key + ":\n    terminated:\n      exitCode: " + std::to_string(exit_code) +
         "\n      reason: " + reason + R"(
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
)";
}

// The init containers (when the pod has any), all completed.
std::string completed_init_containers() {
  return "{{ if .spec.initContainers }}\ninitContainerStatuses:\n" +
         container_statuses("initContainers", true, 0, false, terminated("state", 0, "Completed")) +
         "{{ end }}\n";
}

// A pod scheduled to a node, its containers being created.
std::string pod_create_template() {
  return kNow + R"(conditions:
- type: PodScheduled
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
- type: Initialized
  status: "True"
  lastTransitionTime: {{ $now | Quote }}
)" + readiness_conditions("False", "ContainersNotReady") +
         completed_init_containers() + "containerStatuses:\n" +
         container_statuses("containers", false, 0, false,
                            "  state:\n    waiting:\n      reason: ContainerCreating\n") +
         R"(hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
startTime: {{ $now | Quote }}
phase: Pending
)";
}

std::string pod_running_template() {
  return kNow + "conditions:\n" + readiness_conditions("True", "\"\"") + "containerStatuses:\n" +
         container_statuses("containers", true, 0, true,
                            "  state:\n    running:\n      startedAt: {{ $now | Quote }}\n") +
         "phase: Running\n";
}

std::string pod_finished_template(bool succeeded) {
  return kNow + "conditions:\n" + readiness_conditions("False", "PodCompleted") +
         "containerStatuses:\n" +
         container_statuses(
             "containers", false, 0, false,
             terminated("state", succeeded ? 0 : 1, succeeded ? "Completed" : "Error")) +
         "phase: " + (succeeded ? "Succeeded" : "Failed") + "\n";
}

std::string pod_crashloop_template() {
  return kNow + "conditions:\n" + readiness_conditions("False", "ContainersNotReady") +
         "containerStatuses:\n" +
         container_statuses("containers", false, 5, false,
                            terminated("lastState", 1, "Error") + R"(  state:
    waiting:
      reason: CrashLoopBackOff
      message: "failure requested by the annotation kolla.openstack.org/fail"
)") + "phase: Running\n";
}

void set_next(nlohmann::json& s, const std::string& status_template) {
  s["spec"]["next"]["statusTemplate"] = status_template;
}

// "(m_i) && !(m_0) && ... " over the rules that define the transition: first match wins.
std::vector<std::pair<const LatencyRule*, std::string>> exclusive(
    const std::vector<const LatencyRule*>& rules, std::string* rest) {
  std::vector<std::pair<const LatencyRule*, std::string>> out;
  std::string previous;  // "!(m_0) && !(m_1)"
  for (const LatencyRule* r : rules) {
    std::string m = "(" + cel_for_match(r->match) + ")";
    out.emplace_back(r, previous.empty() ? m : m + " && " + previous);
    previous = previous.empty() ? "!" + m : previous + " && !" + m;
  }
  *rest = previous;
  return out;
}

}  // namespace

LatencyProfile parse_profile(std::string_view yaml_text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("profile is not YAML: ") + e.what());
  }
  LatencyProfile p;
  if (!root || root.IsNull()) return p;
  check_keys(root, {"apiVersion", "kind", "defaults", "rules"}, "profile");
  if (root["kind"] && root["kind"].as<std::string>() != "LatencyProfile") {
    throw std::invalid_argument("profile: kind must be LatencyProfile");
  }
  if (auto d = root["defaults"]) {
    check_keys(d, {"podCreate", "ready", "jobStart", "complete", "fail", "delete", "jitter"},
               "defaults");
    if (d["podCreate"]) p.pod_create = duration_field(d["podCreate"], "defaults.podCreate");
    if (d["ready"]) p.ready = duration_field(d["ready"], "defaults.ready");
    if (d["jobStart"]) p.job_start = duration_field(d["jobStart"], "defaults.jobStart");
    if (d["complete"]) p.complete = duration_field(d["complete"], "defaults.complete");
    if (d["fail"]) p.fail = duration_field(d["fail"], "defaults.fail");
    if (d["delete"]) p.delete_grace = duration_field(d["delete"], "defaults.delete");
    if (d["jitter"]) {
      try {
        p.jitter = d["jitter"].as<double>();
      } catch (const YAML::Exception&) {
        throw std::invalid_argument("defaults.jitter: expected a number");
      }
      if (p.jitter < 0 || p.jitter > 10) {
        throw std::invalid_argument("defaults.jitter: must be within [0, 10]");
      }
    }
  }
  if (auto rules = root["rules"]) {
    if (!rules.IsSequence()) throw std::invalid_argument("rules: expected a list");
    std::set<std::string> names;
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node r = rules[i];
      std::string where = "rules[" + std::to_string(i) + "]";
      check_keys(r, {"name", "match", "ready", "complete"}, where);
      LatencyRule rule;
      rule.name = r["name"] ? r["name"].as<std::string>() : "";
      if (!valid_rule_name(rule.name)) {
        throw std::invalid_argument(where + ".name: lower-case letters, digits and '-' only");
      }
      if (!names.insert(rule.name).second) {
        throw std::invalid_argument(where + ".name: duplicate '" + rule.name + "'");
      }
      where = "rule " + rule.name;
      if (!r["match"]) throw std::invalid_argument(where + ": match is required");
      check_keys(r["match"], {"image", "labels"}, where + ".match");
      if (r["match"]["image"]) rule.match.image = r["match"]["image"].as<std::string>();
      if (auto labels = r["match"]["labels"]) {
        if (!labels.IsMap()) throw std::invalid_argument(where + ".match.labels: expected a map");
        for (const auto& kv : labels) {
          rule.match.labels[kv.first.as<std::string>()] = kv.second.as<std::string>();
        }
      }
      if (rule.match.empty()) throw std::invalid_argument(where + ".match: give image or labels");
      if (r["ready"]) rule.ready = duration_field(r["ready"], where + ".ready");
      if (r["complete"]) rule.complete = duration_field(r["complete"], where + ".complete");
      if (!rule.ready && !rule.complete) {
        throw std::invalid_argument(where + ": give ready and/or complete");
      }
      p.rules.push_back(std::move(rule));
    }
  }
  return p;
}

LatencyProfile load_profile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read profile " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return parse_profile(ss.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

std::string cel_for_match(const PodMatch& match) {
  std::vector<std::string> parts;
  if (!match.image.empty()) {
    parts.push_back("self.spec.containers.exists(c, c.image.contains(" + cel_string(match.image) +
                    "))");
  }
  for (const auto& [k, v] : match.labels) {
    parts.push_back("has(self.metadata.labels) && " + cel_string(k) +
                    " in self.metadata.labels && self.metadata.labels[" + cel_string(k) +
                    "] == " + cel_string(v));
  }
  if (parts.empty()) return "false";
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : " && ") + p;
  return out;
}

std::string generate_stages(const LatencyProfile& profile, const StageOptions& options) {
  if (!(options.time_scale > 0)) throw std::invalid_argument("time scale must be positive");
  std::vector<nlohmann::json> stages;
  const double j = profile.jitter;
  const std::string fail = fail_key();
  const std::string hb = heartbeat_key();
  const std::string stopped(kHeartbeatStopped);

  // Nodes: initialize, heartbeat (kept unscaled: it must beat the node monitor grace period),
  // and the stopped heartbeat used for fencing tests.
  {
    auto s = stage("kolla-node-initialize", "Node",
                   {jq(kReadyStatus, "NotIn", {"True"}), jq(hb, "NotIn", {stopped})}, std::nullopt);
    set_next(s, node_initialize_template(options.capacity));
    stages.push_back(s);
  }
  {
    auto s = stage("kolla-node-heartbeat", "Node",
                   {jq(kPhase, "In", {"Running"}), jq(kReadyStatus, "In", {"True"}),
                    jq(hb, "NotIn", {stopped})},
                   Delay{20000, 25000});
    set_next(s, node_heartbeat_template());
    s["spec"]["immediateNextStage"] = true;
    stages.push_back(s);
  }
  {
    auto s = stage("kolla-node-heartbeat-stopped", "Node",
                   {jq(hb, "In", {stopped}), jq(kReadyStatus, "In", {"True"})}, std::nullopt);
    set_next(s, node_stopped_template());
    stages.push_back(s);
  }

  // Pods.
  {
    auto s = stage("kolla-pod-create", "Pod",
                   {jq(kNotDeleting, "DoesNotExist"), jq(kPodIP, "DoesNotExist")},
                   scaled(profile.pod_create, options, j));
    set_next(s, pod_create_template());
    s["spec"]["next"]["event"]["type"] = "Normal";
    s["spec"]["next"]["event"]["reason"] = "Created";
    s["spec"]["next"]["event"]["message"] = "Created container (simulated)";
    stages.push_back(s);
  }
  auto pending_healthy = [&](bool job) {
    return std::vector<nlohmann::json>{
        jq(kNotDeleting, "DoesNotExist"), jq(kPhase, "In", {"Pending"}), jq(kPodIP, "Exists"),
        jq(kOwnerKinds, job ? "In" : "NotIn", {"Job"}), jq(fail, "NotIn", {"true"})};
  };
  std::vector<const LatencyRule*> ready_rules, complete_rules;
  for (const auto& r : profile.rules) {
    if (r.ready) ready_rules.push_back(&r);
    if (r.complete) complete_rules.push_back(&r);
  }
  std::string rest;
  for (const auto& [rule, expr] : exclusive(ready_rules, &rest)) {
    auto exprs = pending_healthy(false);
    exprs.push_back(cel(expr));
    auto s = stage("kolla-pod-ready-" + rule->name, "Pod", exprs, scaled(*rule->ready, options, j));
    set_next(s, pod_running_template());
    stages.push_back(s);
  }
  {
    auto exprs = pending_healthy(false);
    if (!rest.empty()) exprs.push_back(cel(rest));
    auto s = stage("kolla-pod-ready", "Pod", exprs, scaled(profile.ready, options, j));
    set_next(s, pod_running_template());
    stages.push_back(s);
  }
  {
    auto s = stage("kolla-pod-job-start", "Pod", pending_healthy(true),
                   scaled(profile.job_start, options, j));
    set_next(s, pod_running_template());
    stages.push_back(s);
  }
  auto running_job = [&] {
    return std::vector<nlohmann::json>{jq(kNotDeleting, "DoesNotExist"),
                                       jq(kPhase, "In", {"Running"}),
                                       jq(kReadyStatus, "In", {"True"}),
                                       jq(kOwnerKinds, "In", {"Job"}), jq(fail, "NotIn", {"true"})};
  };
  for (const auto& [rule, expr] : exclusive(complete_rules, &rest)) {
    auto exprs = running_job();
    exprs.push_back(cel(expr));
    auto s = stage("kolla-pod-complete-" + rule->name, "Pod", exprs,
                   scaled(*rule->complete, options, j));
    set_next(s, pod_finished_template(true));
    stages.push_back(s);
  }
  {
    auto exprs = running_job();
    if (!rest.empty()) exprs.push_back(cel(rest));
    auto s = stage("kolla-pod-complete", "Pod", exprs, scaled(profile.complete, options, j));
    set_next(s, pod_finished_template(true));
    stages.push_back(s);
  }
  auto pending_failing = [&](bool job) {
    return std::vector<nlohmann::json>{
        jq(kNotDeleting, "DoesNotExist"), jq(kPhase, "In", {"Pending"}), jq(kPodIP, "Exists"),
        jq(kOwnerKinds, job ? "In" : "NotIn", {"Job"}), jq(fail, "In", {"true"})};
  };
  {
    auto s =
        stage("kolla-pod-fail-job", "Pod", pending_failing(true), scaled(profile.fail, options, j));
    set_next(s, pod_finished_template(false));
    stages.push_back(s);
  }
  {
    auto s = stage("kolla-pod-crashloop", "Pod", pending_failing(false),
                   scaled(profile.fail, options, j));
    set_next(s, pod_crashloop_template());
    stages.push_back(s);
  }
  {
    auto s = stage("kolla-pod-delete", "Pod",
                   {jq(kNotDeleting, "Exists"), jq(".metadata.finalizers", "DoesNotExist")},
                   scaled(profile.delete_grace, options, 0));
    s["spec"]["next"]["delete"] = true;
    stages.push_back(s);
  }

  std::string out;
  for (const auto& s : stages) {
    out += "---\n";
    out += s.dump(2);
    out += "\n";
  }
  return out;
}

}  // namespace kolla::cluster
