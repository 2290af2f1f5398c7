#include "operator/node_watch.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace kolla::op {

namespace {

std::string name_of(const json& o) {
  return o.value("/metadata/name"_json_pointer, std::string{});
}

const json* ready_condition(const json& node) {
  const auto ptr = "/status/conditions"_json_pointer;
  if (!node.is_object() || !node.contains(ptr) || !node.at(ptr).is_array()) return nullptr;
  for (const auto& c : node.at(ptr)) {
    if (c.is_object() && c.value("type", "") == "Ready") return &c;
  }
  return nullptr;
}

// The controller ownerReference of an object, or null.
const json* controller_owner(const json& o) {
  const auto ptr = "/metadata/ownerReferences"_json_pointer;
  if (!o.contains(ptr) || !o.at(ptr).is_array()) return nullptr;
  for (const auto& ref : o.at(ptr)) {
    if (ref.is_object() && ref.value("controller", false)) return &ref;
  }
  return nullptr;
}

}  // namespace

bool node_ready(const json& node) {
  const json* c = ready_condition(node);
  return c != nullptr && c->value("status", "") == "True";
}

std::string node_unready_reason(const json& node) {
  const json* c = ready_condition(node);
  if (c == nullptr) return "no Ready condition";
  const std::string status = c->value("status", "Unknown");
  const std::string reason = c->value("reason", "");
  return reason.empty() ? fmt::format("Ready={}", status)
                        : fmt::format("Ready={} ({})", status, reason);
}

void keep_node_readiness(json& node) {
  json kept = {{"apiVersion", node.value("apiVersion", "v1")},
               {"kind", node.value("kind", "Node")},
               {"metadata", json::object()}};
  for (const char* field : {"name", "uid", "resourceVersion"}) {
    if (node.contains("metadata") && node["metadata"].contains(field)) {
      kept["metadata"][field] = node["metadata"][field];
    }
  }
  if (const json* c = ready_condition(node)) {
    json ready = {{"type", "Ready"}};
    for (const char* field : {"status", "reason"}) {
      if (c->contains(field)) ready[field] = (*c)[field];
    }
    kept["status"]["conditions"] = json::array({ready});
  }
  node = std::move(kept);
}

std::optional<std::string> pod_workload(const json& pod) {
  const json* owner = controller_owner(pod);
  if (owner == nullptr) return std::nullopt;
  const std::string kind = owner->value("kind", "");
  std::string name = owner->value("name", "");
  if (kind.empty() || name.empty()) return std::nullopt;
  if (kind == "ReplicaSet") {
    // A Deployment's ReplicaSet is named <deployment>-<pod-template-hash>.
    const std::string hash =
        pod.value("/metadata/labels/pod-template-hash"_json_pointer, std::string{});
    const std::string suffix = "-" + hash;
    if (!hash.empty() && name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return "Deployment/" + name.substr(0, name.size() - suffix.size());
    }
  }
  return kind + "/" + name;
}

bool pod_terminal(const json& pod) {
  const std::string phase = pod.value("/status/phase"_json_pointer, std::string{});
  return phase == "Succeeded" || phase == "Failed";
}

std::vector<LostNode> lost_nodes(NodeView& view, const std::string& ns,
                                 const std::set<std::string>& workloads) {
  std::vector<LostNode> out;
  if (workloads.empty()) return out;
  for (const auto& [node, why] : view.unready_nodes()) {
    std::set<std::string> hit;
    for (const auto& pod : view.pods_on(ns, node)) {
      if (pod_terminal(pod)) continue;
      if (pod.value("/spec/nodeName"_json_pointer, std::string{}) != node) continue;
      if (auto w = pod_workload(pod); w && workloads.contains(*w)) hit.insert(*w);
    }
    if (!hit.empty()) out.push_back({node, why, {hit.begin(), hit.end()}});
  }
  return out;
}

std::string lost_nodes_message(const std::vector<LostNode>& lost) {
  std::vector<std::string> parts;
  for (const auto& l : lost) {
    parts.push_back(
        fmt::format("node {} not ready ({}): {}", l.node, l.why, fmt::join(l.workloads, ", ")));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::map<std::string, std::string> ClientNodeView::unready_nodes() {
  std::map<std::string, std::string> out;
  for (const auto& node : client_.list(kube::gvk::kNode, "", "")) {
    if (!node_ready(node)) out[name_of(node)] = node_unready_reason(node);
  }
  return out;
}

std::vector<json> ClientNodeView::pods_on(const std::string& ns, const std::string& node) {
  std::vector<json> out;
  for (auto& pod : client_.list(kube::gvk::kPod, ns, "")) {
    if (pod.value("/spec/nodeName"_json_pointer, std::string{}) == node) {
      out.push_back(std::move(pod));
    }
  }
  return out;
}

bool NodeTracker::observe(const json& node) {
  const std::string name = name_of(node);
  if (name.empty()) return false;
  std::lock_guard lock(mutex_);
  if (node_ready(node)) return unready_.erase(name) > 0;
  const bool is_new = !unready_.contains(name);
  unready_[name] = node_unready_reason(node);
  return is_new;
}

bool NodeTracker::forget(const json& node) {
  std::lock_guard lock(mutex_);
  return unready_.erase(name_of(node)) > 0;
}

std::map<std::string, std::string> NodeTracker::unready_nodes() {
  std::lock_guard lock(mutex_);
  return unready_;
}

std::vector<json> NodeTracker::pods_on(const std::string& ns, const std::string& node) {
  return pods_ ? pods_(ns, node) : std::vector<json>{};
}

kube::EventHandlers node_event_handlers(
    Controller& services, NodeTracker& tracker, std::string ns,
    std::function<std::optional<std::string>(const json& pod)> service_of_pod) {
  auto route = [&services, &tracker, ns = std::move(ns),
                service_of_pod = std::move(service_of_pod)](const json& node) {
    std::set<std::string> keys;
    try {
      for (const auto& pod : tracker.pods_on(ns, name_of(node))) {
        if (pod_terminal(pod)) continue;
        if (auto key = service_of_pod(pod)) keys.insert(*key);
      }
    } catch (const std::exception& e) {
      spdlog::warn("node {}: cannot list its pods: {}", name_of(node), e.what());
    }
    for (const auto& key : keys) services.enqueue(key);
  };
  auto observed = [&tracker, route](const kube::ObjectPtr& node) {
    if (tracker.observe(*node)) route(*node);
  };
  return {observed, [observed](const kube::ObjectPtr&, const kube::ObjectPtr& n) { observed(n); },
          [&tracker, route](const kube::ObjectPtr& node) {
            if (tracker.forget(*node)) route(*node);
          }};
}

}  // namespace kolla::op
