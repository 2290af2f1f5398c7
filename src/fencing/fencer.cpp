#include "fencing/fencer.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "common/redact.hpp"
#include "kube/informer.hpp"

namespace kolla::fencing {

namespace {

using namespace std::chrono_literals;

constexpr op::Result kSoon{false, std::chrono::milliseconds(10)};

op::Result after(Millis d) {
  return op::Result{false, std::max(d, Millis(1))};
}

bool is_ready(const json& node) {
  return node_health(node, nullptr, false).ready;
}

std::vector<json> pods_on(op::ObjectClient& client, const std::string& node) {
  std::vector<json> out;
  for (auto& pod : client.list(kube::gvk::kPod, "", "")) {
    if (pod.value("/spec/nodeName"_json_pointer, std::string{}) == node) {
      out.push_back(std::move(pod));
    }
  }
  return out;
}

}  // namespace

ForceDelete force_delete_for(op::ObjectClient& client) {
  if (auto* kube_client = dynamic_cast<op::KubeObjectClient*>(&client)) {
    return [kube_client](const std::string& ns, const std::string& name) {
      kube::DeleteOptions options;
      options.grace_period_seconds = 0;
      kube_client->client().remove_if_exists(kube::gvk::kPod, ns, name, options);
    };
  }
  return [&client](const std::string& ns, const std::string& name) {
    client.remove(kube::gvk::kPod, ns, name, "Background");
  };
}

std::string choose_agent(const json& node, const Config& config, const json& agent_configmap,
                         std::string& why) {
  const json labels = node.value("/metadata/labels"_json_pointer, json::object());
  const std::string name = node_name(node);
  std::string chosen;
  if (!config.agent_label.empty() && labels.contains(config.agent_label) &&
      labels[config.agent_label].is_string()) {
    chosen = labels[config.agent_label].get<std::string>();
    why = "label " + config.agent_label;
  } else if (agent_configmap.is_object() && agent_configmap.contains("data") &&
             agent_configmap["data"].contains(name) && agent_configmap["data"][name].is_string()) {
    chosen = agent_configmap["data"][name].get<std::string>();
    why = "ConfigMap " + config.agent_configmap_namespace + "/" + config.agent_configmap_name;
  } else if (!config.default_agent.empty()) {
    chosen = config.default_agent;
    why = "defaultAgent";
  } else if (config.agents.size() == 1) {
    chosen = config.agents.begin()->first;
    why = "the only agent";
  } else {
    why = "no agent label, ConfigMap entry or defaultAgent for the node";
    return {};
  }
  if (!config.agents.contains(chosen)) {
    why = "agent \"" + chosen + "\" (from " + why + ") is not configured";
    return {};
  }
  return chosen;
}

FencingReconciler::FencingReconciler(op::ObjectClient& client, op::EventRecorder& events,
                                     ConfigProvider config, FencingDeps deps,
                                     const op::Clock& clock)
    : client_(client),
      events_(events),
      config_(std::move(config)),
      deps_(std::move(deps)),
      clock_(clock) {
  if (!deps_.agents) {
    deps_.agents = [](const AgentConfig& c, Credentials creds) {
      return make_agent(c, std::move(creds));
    };
  }
  if (!deps_.storage) {
    deps_.storage = [](const StorageConfig& c, Credentials creds) {
      return make_storage_release(c, std::move(creds));
    };
  }
  if (!deps_.force_delete) deps_.force_delete = force_delete_for(client_);
}

json FencingReconciler::save(json node, const FenceRecord& record) {
  write_record(node, record);
  return client_.update(node);
}

Credentials FencingReconciler::credentials(const std::string& secret, const Config& config) {
  if (secret.empty()) return {};
  auto s = client_.get(kube::gvk::kSecret, config.credentials_namespace, secret);
  if (!s) {
    throw AgentError("Secret " + config.credentials_namespace + "/" + secret + " not found");
  }
  return credentials_from_secret(*s);
}

Target FencingReconciler::target_of(const json& node, const AgentConfig& agent) const {
  Target t;
  t.node = node_name(node);
  std::string annotated;
  const json annotations = node.value("/metadata/annotations"_json_pointer, json::object());
  if (annotations.contains(kBmcAddressAnnotation) &&
      annotations[kBmcAddressAnnotation].is_string()) {
    annotated = annotations[kBmcAddressAnnotation].get<std::string>();
  }
  t.address = !annotated.empty() ? annotated : expand(agent.address, {{"node", t.node}});
  return t;
}

std::unique_ptr<FenceAgent> FencingReconciler::agent_for(const FenceRecord& record,
                                                         const Config& config, std::string& error) {
  auto it = config.agents.find(record.agent);
  if (it == config.agents.end()) {
    error = "agent \"" + record.agent + "\" is not configured";
    return nullptr;
  }
  try {
    return deps_.agents(it->second, credentials(it->second.credentials_secret, config));
  } catch (const std::exception& e) {
    error = redact(e.what());
    return nullptr;
  }
}

op::Result FencingReconciler::fail_attempt(json node, FenceRecord record, const Config& config,
                                           const std::string& reason, const std::string& message) {
  const auto now = clock_.wall();
  const Millis delay = retry_delay(config, std::max(1, record.attempts));
  record.requested.reset();
  record.next_attempt = now + delay;
  record.updated = now;
  record.message = redact(message);
  node = save(std::move(node), record);
  events_.warning(node, reason,
                  fmt::format("{}; no further step, retry in {}s (attempt {})", record.message,
                              delay.count() / 1000, record.attempts));
  spdlog::warn("fencing {}: {}: {}", node_name(node), reason, record.message);
  return after(delay);
}

op::Result FencingReconciler::power_off(json node, FenceRecord record, const Config& config) {
  const auto now = clock_.wall();
  std::string error;
  auto agent = agent_for(record, config, error);
  if (!agent) {
    ++record.attempts;
    return fail_attempt(std::move(node), record, config, "FenceAgentError", error);
  }
  const Target target = target_of(node, config.agents.at(record.agent));
  // Ask first: after a crash between the power-off and its record, the node is already off and
  // must not be fenced again.
  PowerState state = PowerState::kUnknown;
  try {
    state = agent->power_status(target);
  } catch (const AgentError& e) {
    spdlog::info("fencing {}: power status before power-off: {}", target.node, e.what());
  }
  if (state == PowerState::kOff) {
    const std::string event =
        "agent " + record.agent + " reports the node powered off (no power-off sent)";
    return record_powered_off(std::move(node), std::move(record), now,
                              "the node was already powered off", event);
  }
  // Record the attempt before sending it.
  ++record.attempts;
  record.requested = now;
  record.next_attempt.reset();
  record.updated = now;
  record.message = "power-off sent through agent " + record.agent;
  node = save(std::move(node), record);
  try {
    agent->power_off(target);
  } catch (const AgentError& e) {
    return fail_attempt(std::move(node), record, config, "FenceFailed",
                        "agent " + record.agent + " failed to power the node off: " + e.what());
  }
  events_.normal(node, "FenceRequested",
                 fmt::format("power-off sent through agent {} ({}), attempt {}", record.agent,
                             agent->kind(), record.attempts));
  return after(config.confirm_interval);
}

op::Result FencingReconciler::record_powered_off(json node, FenceRecord record,
                                                 std::chrono::system_clock::time_point now,
                                                 const std::string& message,
                                                 const std::string& event) {
  record.state = FenceState::kPoweredOff;
  record.powered_off = now;
  record.updated = now;
  record.requested.reset();
  record.next_attempt.reset();
  record.message = message;
  node = save(std::move(node), record);
  events_.normal(node, "NodePoweredOff", event);
  return kSoon;
}

op::Result FencingReconciler::check_power(json node, FenceRecord record, const Config& config) {
  const auto now = clock_.wall();
  std::string error;
  auto agent = agent_for(record, config, error);
  PowerState state = PowerState::kUnknown;
  if (agent) {
    try {
      state = agent->power_status(target_of(node, config.agents.at(record.agent)));
    } catch (const AgentError& e) {
      error = e.what();
    }
  }
  if (state == PowerState::kOff) {
    const std::string event = fmt::format("agent {} confirms the node is powered off (attempt {})",
                                          record.agent, record.attempts);
    return record_powered_off(std::move(node), std::move(record), now, "power-off confirmed",
                              event);
  }
  const auto deadline = record.requested.value_or(now) + config.confirm_timeout;
  if (now < deadline) {
    return after(
        std::min(config.confirm_interval, std::chrono::duration_cast<Millis>(deadline - now)));
  }
  std::string message = "power-off not confirmed within " +
                        std::to_string(config.confirm_timeout.count() / 1000) +
                        "s: the power state is " + std::string(to_string(state));
  if (!error.empty()) message += " (" + error + ")";
  return fail_attempt(std::move(node), record, config, "FenceUnconfirmed", message);
}

op::Result FencingReconciler::release_storage(json node, FenceRecord record, const Config& config) {
  const auto now = clock_.wall();
  std::vector<std::string> done;
  const NodeInfo info = node_info(node);
  for (const auto& s : config.storage) {
    try {
      auto hook = deps_.storage(s, credentials(s.credentials_secret, config));
      done.push_back(s.name + ": " + hook->release(info));
    } catch (const std::exception& e) {
      ++record.step_failures;
      const Millis delay = retry_delay(config, record.step_failures);
      record.next_attempt = now + delay;
      record.updated = now;
      record.message = redact("storage release " + s.name + " failed: " + e.what());
      node = save(std::move(node), record);
      events_.warning(node, "StorageReleaseFailed",
                      fmt::format("{}; the node stays without the out-of-service taint, retry "
                                  "in {}s",
                                  record.message, delay.count() / 1000));
      return after(delay);
    }
  }
  record.state = FenceState::kStorageReleased;
  record.step_failures = 0;
  record.next_attempt.reset();
  record.updated = now;
  std::string summary;
  for (const auto& d : done) summary += (summary.empty() ? "" : "; ") + d;
  record.message = done.empty() ? "no storage backend configured" : summary;
  node = save(std::move(node), record);
  events_.normal(node, "StorageReleased", record.message);
  return kSoon;
}

op::Result FencingReconciler::taint(json node, FenceRecord record, const std::string& reason) {
  const auto now = clock_.wall();
  add_out_of_service_taint(node, now);
  record.state = FenceState::kTainted;
  if (!record.tainted) record.tainted = now;
  record.updated = now;
  record.message = "out-of-service taint added";
  node = save(std::move(node), record);
  events_.normal(node, "OutOfServiceTaintAdded",
                 std::string(kOutOfServiceTaint) + "=" + kOutOfServiceValue + ":NoExecute added (" +
                     reason +
                     "); Kubernetes now deletes the node's pods and detaches their volumes");
  return kSoon;
}

op::Result FencingReconciler::force_delete(const json& node, const std::vector<json>& stuck) {
  std::vector<std::string> names;
  for (const auto& pod : stuck) {
    const std::string ns = pod.value("/metadata/namespace"_json_pointer, std::string{});
    const std::string name = pod.value("/metadata/name"_json_pointer, std::string{});
    deps_.force_delete(ns, name);
    names.push_back(ns + "/" + name);
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  events_.normal(node, "PodsForceDeleted",
                 fmt::format("force-deleted {} pods stuck Terminating: {}", names.size(), list));
  return kSoon;
}

op::Result FencingReconciler::reconcile(const std::string& name) {
  const Config config = config_();
  auto fetched = client_.get(kube::gvk::kNode, "", name);
  if (!fetched) {
    std::lock_guard lock(mutex_);
    warned_back_.erase(name);
    return {};
  }
  json node = std::move(*fetched);
  FenceRecord record = read_record(node);
  if (!record.valid) {
    events_.warning(node, "FenceStateInvalid",
                    "unknown value in " + std::string(kStateAnnotation) +
                        "; treated as pending (a power-off may be under way)");
  }
  if (!config.enabled && record.state == FenceState::kNone) return {};
  const auto now = clock_.wall();

  NodeView view;
  view.node = node;
  if (config.use_lease) {
    try {
      if (auto lease = client_.get(kube::gvk::kLease, kNodeLeaseNamespace, name)) {
        view.lease = std::move(*lease);
      }
    } catch (const kube::ApiError& e) {
      spdlog::debug("fencing {}: lease not readable: {}", name, e.what());
    }
  }
  if (record.state == FenceState::kNone || record.state == FenceState::kPending) {
    // Only a node that is itself unready needs the guard; avoid listing every node otherwise.
    if (!node_health(node, view.lease, config.use_lease).ready ||
        record.state != FenceState::kNone) {
      std::vector<json> leases;
      if (config.use_lease) {
        try {
          leases = client_.list(kube::gvk::kLease, kNodeLeaseNamespace, "");
        } catch (const kube::ApiError& e) {
          spdlog::debug("fencing: leases not listable: {}", e.what());
        }
      }
      view.guard = partition_guard(client_.list(kube::gvk::kNode, "", ""), leases, config, now);
    }
  }
  std::vector<json> stuck;
  if (record.state == FenceState::kTainted) {
    for (auto& pod : pods_on(client_, name)) {
      ++view.pods_on_node;
      if (pod.contains("metadata") && pod["metadata"].contains("deletionTimestamp")) {
        ++view.stuck_pods;
        stuck.push_back(std::move(pod));
      }
    }
  }

  const Decision d = next_step(view, config, now);
  spdlog::debug("fencing {}: state {} → {} ({})", name, to_string(record.state),
                to_string(d.action), d.reason);
  switch (d.action) {
    case Action::kNothing: {
      if (record.state == FenceState::kDone && is_ready(node)) {
        std::lock_guard lock(mutex_);
        if (warned_back_.insert(name).second) {
          events_.warning(node, "FencedNodeReady", d.reason);
        }
      } else if (record.state == FenceState::kDone) {
        std::lock_guard lock(mutex_);
        warned_back_.erase(name);
      }
      return {};
    }
    case Action::kWait:
      return after(d.requeue_after);
    case Action::kSuppressed:
      events_.warning(node, "FencingSuppressed", d.reason + "; no action taken");
      return after(d.requeue_after);
    case Action::kStart: {
      std::string why;
      json configmap;
      if (!config.agent_configmap_name.empty()) {
        if (auto cm = client_.get(kube::gvk::kConfigMap, config.agent_configmap_namespace,
                                  config.agent_configmap_name)) {
          configmap = std::move(*cm);
        }
      }
      const std::string agent = choose_agent(node, config, configmap, why);
      if (agent.empty()) {
        events_.warning(node, "FenceAgentMissing", why + "; the node cannot be fenced");
        return after(config.retry_max);
      }
      record = FenceRecord{};
      record.state = FenceState::kPending;
      record.agent = agent;
      record.started = now;
      record.updated = now;
      record.message = d.reason;
      node = save(std::move(node), record);
      events_.warning(node, "FencingStarted",
                      d.reason + "; fencing through agent " + agent + " (chosen by " + why + ")");
      return kSoon;
    }
    case Action::kCancel: {
      const FenceRecord cancelled{};
      node = save(std::move(node), cancelled);
      events_.normal(node, "FencingCancelled", d.reason + "; fencing cancelled before power-off");
      return {};
    }
    case Action::kPowerOff:
      return power_off(std::move(node), record, config);
    case Action::kCheckPower:
      return check_power(std::move(node), record, config);
    case Action::kReleaseStorage:
      return release_storage(std::move(node), record, config);
    case Action::kTaint:
      return taint(std::move(node), record, d.reason);
    case Action::kForceDelete:
      return force_delete(node, stuck);
    case Action::kFinish: {
      record.state = FenceState::kDone;
      record.updated = now;
      record.message = "fenced: " + d.reason;
      node = save(std::move(node), record);
      events_.normal(node, "FencingComplete",
                     fmt::format("node fenced through agent {} after {} power-off attempt(s); "
                                 "unfence with the label {}=true or kollakube node unfence {}",
                                 record.agent, record.attempts, config.unfence_label, name));
      return {};
    }
    case Action::kUnfence: {
      auto r = unfence(client_, name, &events_, config.unfence_label);
      std::lock_guard lock(mutex_);
      warned_back_.erase(name);
      if (!r.unfenced) return after(config.confirm_interval);
      return {};
    }
  }
  return {};
}

std::vector<FencedNode> list_fenced(op::ObjectClient& client) {
  std::vector<FencedNode> out;
  for (const auto& node : client.list(kube::gvk::kNode, "", "")) {
    const FenceRecord r = read_record(node);
    const bool tainted = has_out_of_service_taint(node);
    if (r.state == FenceState::kNone && !tainted) continue;
    FencedNode f;
    f.name = node_name(node);
    f.state = r.valid ? std::string(to_string(r.state)) : "invalid";
    if (f.state.empty()) f.state = "tainted-manually";
    f.agent = r.agent;
    f.attempts = r.attempts;
    if (r.started) f.started = op::format_time(*r.started);
    if (r.updated) f.updated = op::format_time(*r.updated);
    f.message = r.message;
    f.ready = is_ready(node);
    f.tainted = tainted;
    out.push_back(std::move(f));
  }
  std::sort(out.begin(), out.end(),
            [](const FencedNode& a, const FencedNode& b) { return a.name < b.name; });
  return out;
}

UnfenceResult unfence(op::ObjectClient& client, const std::string& name, op::EventRecorder* events,
                      const std::string& unfence_label) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto fetched = client.get(kube::gvk::kNode, "", name);
    if (!fetched) return {false, "node " + name + " not found"};
    json node = std::move(*fetched);
    const FenceRecord r = read_record(node);
    const bool tainted = has_out_of_service_taint(node);
    json& labels = node["metadata"]["labels"];
    const bool labelled = labels.is_object() && labels.contains(unfence_label);
    if (r.state == FenceState::kNone && !tainted && !labelled) {
      return {false, "node " + name + " is not fenced"};
    }
    if (!is_ready(node)) {
      return {false, "node " + name + " is not Ready; it stays fenced until it is back"};
    }
    remove_out_of_service_taint(node);
    write_record(node, FenceRecord{});
    if (labelled) labels.erase(unfence_label);
    try {
      node = client.update(node);
    } catch (const kube::ApiError& e) {
      if (e.conflict()) continue;
      throw;
    }
    const std::string message = "unfenced: out-of-service taint and fence record removed (was " +
                                std::string(r.valid ? to_string(r.state) : "invalid") + ")";
    if (events != nullptr) events->normal(node, "Unfenced", message);
    return {true, message};
  }
  return {false, "node " + name + " kept changing; try again"};
}

FencingController::FencingController(std::shared_ptr<kube::Client> client,
                                     op::ObjectClient& objects, op::EventRecorder& events,
                                     ConfigProvider config, FencingDeps deps,
                                     op::ControllerMetrics* metrics)
    : reconciler_(objects, events, std::move(config), std::move(deps)),
      controller_(
          "fencing", [this](const std::string& key) { return reconciler_.reconcile(key); },
          op::ControllerOptions{
              1, op::RateLimit{std::chrono::milliseconds(500), std::chrono::milliseconds(60'000)}},
          metrics),
      informer_(std::make_unique<kube::Informer>(std::move(client), kube::gvk::kNode)) {
  auto enqueue = [this](const kube::ObjectPtr& node) {
    controller_.enqueue(node->value("/metadata/name"_json_pointer, std::string{}));
  };
  informer_->add_handlers(
      {enqueue, [enqueue](const kube::ObjectPtr&, const kube::ObjectPtr& n) { enqueue(n); },
       enqueue});
}

FencingController::~FencingController() {
  stop();
}

void FencingController::start() {
  if (started_) return;
  started_ = true;
  informer_->start();
  controller_.start();
}

void FencingController::stop() {
  if (!started_) return;
  started_ = false;
  informer_->stop();
  controller_.stop();
}

bool FencingController::has_synced() const {
  return informer_->has_synced();
}

}  // namespace kolla::fencing
