#include "deploy/deployer.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "chart/passwords.hpp"
#include "common/redact.hpp"
#include "spec/spec.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::deploy {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

const kube::GroupVersionKind kDeploymentKind{"kolla.openstack.org", "v1alpha1",
                                             "OpenStackDeployment"};
const kube::GroupVersionKind kServiceKind{"kolla.openstack.org", "v1alpha1", "OpenStackService"};
constexpr const char* kDeploymentLabel = "kolla.openstack.org/deployment";
constexpr const char* kFieldManager = "kollakube";

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool established(const json& crd) {
  for (const auto& c : crd.value("/status/conditions"_json_pointer, json::array())) {
    if (c.value("type", "") == "Established" && c.value("status", "") == "True") return true;
  }
  return false;
}

std::int64_t wall_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

std::vector<std::string> apply_crds(kube::Client& client, const std::string& dir,
                                    std::chrono::seconds timeout) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  }
  if (ec) throw InputError(dir + ": " + ec.message());
  if (files.empty()) throw InputError(dir + ": no CRD files (*.yaml)");
  std::sort(files.begin(), files.end());
  std::vector<std::string> names;
  for (const auto& file : files) {
    json crd;
    try {
      crd = kolla::yaml::parse(read_text(file), file.string());
    } catch (const kolla::yaml::YamlError& e) {
      throw InputError(e.what());
    }
    if (crd.value("kind", "") != "CustomResourceDefinition") {
      throw InputError(file.string() + ": not a CustomResourceDefinition");
    }
    kube::ApplyOptions apply;
    apply.field_manager = kFieldManager;
    apply.force = true;
    client.apply(crd, apply);
    names.push_back(crd["metadata"].value("name", ""));
  }
  const auto deadline = Clock::now() + timeout;
  for (const auto& name : names) {
    while (true) {
      auto crd = client.get_optional(kube::gvk::kCustomResourceDefinition, "", name);
      if (crd && established(*crd)) break;
      if (Clock::now() > deadline) {
        throw kube::ApiError(
            kube::ErrorCode::kTimeout, 0,
            "CRD " + name + " not Established after " + std::to_string(timeout.count()) + "s");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  // The new kinds must be resolvable right away.
  client.discovery().invalidate();
  return names;
}

bool ensure_namespace(kube::Client& client, const std::string& ns) {
  if (client.get_optional(kube::gvk::kNamespace, "", ns)) return false;
  try {
    client.create({{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});
  } catch (const kube::ApiError& e) {
    if (!e.already_exists()) throw;
    return false;
  }
  return true;
}

PasswordsResult ensure_passwords(kube::Client& client, const std::string& ns,
                                 const std::string& name, const std::string& charts_dir) {
  std::set<std::string> keys = chart::contract_password_keys();
  for (const auto& key : chart::password_keys_in_charts(charts_dir)) keys.insert(key);
  PasswordsResult result;
  const auto existing = client.get_optional(kube::gvk::kSecret, ns, name);
  chart::PasswordSecret secret;
  secret.name = name;
  secret.namespace_ = ns;
  if (existing) {
    // JSON is YAML: the parser reads data (base64) and registers every value as a secret.
    json trimmed = {{"apiVersion", "v1"},
                    {"kind", "Secret"},
                    {"metadata", {{"name", name}, {"namespace", ns}}},
                    {"data", existing->value("data", json::object())}};
    secret = chart::parse_password_secret(trimmed.dump(), "Secret " + ns + "/" + name);
  }
  chart::FillResult filled = chart::fill_passwords(std::move(secret), keys);
  result.added = filled.added.size();
  result.kept = filled.kept.size();
  json string_data = json::object();
  for (const auto& key : filled.added) string_data[key] = filled.secret.values.at(key);
  if (!existing) {
    client.create({{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata",
                    {{"name", name},
                     {"namespace", ns},
                     {"labels",
                      {{"app.kubernetes.io/part-of", "openstack"},
                       {"app.kubernetes.io/managed-by", "kollakube"}}}}},
                   {"type", "Opaque"},
                   {"stringData", string_data}});
    result.created = true;
  } else if (!filled.added.empty()) {
    // Only the missing keys: a merge patch leaves every other key as it is.
    client.merge_patch(kube::gvk::kSecret, ns, name, {{"stringData", string_data}});
  }
  return result;
}

json load_deployment(const std::string& file, const std::string& namespace_override) {
  json doc;
  try {
    const std::string text = file == "-" ? [] {
      std::ostringstream in;
      in << std::cin.rdbuf();
      return in.str();
    }()
                                         : read_text(file);
    doc = kolla::yaml::parse(text, file == "-" ? "<stdin>" : file);
  } catch (const kolla::yaml::YamlError& e) {
    throw InputError(e.what());
  }
  if (!doc.is_object()) throw InputError(file + ": not an OpenStackDeployment");
  doc.erase("status");
  if (!doc.contains("metadata") || !doc["metadata"].is_object()) doc["metadata"] = json::object();
  if (!namespace_override.empty()) {
    doc["metadata"]["namespace"] = namespace_override;
  } else if (!doc["metadata"].contains("namespace")) {
    doc["metadata"]["namespace"] = "openstack";
  }
  for (const char* field :
       {"resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink"}) {
    doc["metadata"].erase(field);
  }
  try {
    spec::from_json(doc);
  } catch (const spec::SpecError& e) {
    throw InputError(file + ": " + e.what());
  }
  if (doc.value("apiVersion", "") != spec::kApiVersion || doc.value("kind", "") != spec::kKind) {
    throw InputError(file + ": expected apiVersion " + spec::kApiVersion + ", kind " + spec::kKind);
  }
  return doc;
}

json apply_deployment(kube::Client& client, const json& deployment) {
  kube::ApplyOptions apply;
  apply.field_manager = kFieldManager;
  apply.force = true;
  return client.apply(deployment, apply);
}

Snapshot read_snapshot(kube::Client& client, const std::string& ns, const std::string& name) {
  Snapshot snap;
  if (auto osd = client.get_optional(kDeploymentKind, ns, name)) snap.osd = std::move(*osd);
  kube::ListOptions list;
  list.label_selector = std::string(kDeploymentLabel) + "=" + name;
  snap.services = client.list(kServiceKind, ns, list).items;
  return snap;
}

std::vector<json> service_events(kube::Client& client, const std::string& ns,
                                 const ServiceRow& row) {
  std::vector<std::pair<std::string, std::string>> objects = {{"OpenStackService", row.name}};
  for (const auto& o : parse_waiting_on(row.waiting_on)) {
    if (objects.size() >= 4) break;
    objects.push_back(o);
  }
  std::vector<json> events;
  for (const auto& [kind, name] : objects) {
    kube::ListOptions list;
    list.field_selector = "involvedObject.kind=" + kind + ",involvedObject.name=" + name;
    try {
      auto found = client.list(kube::gvk::kEvent, ns, list).items;
      events.insert(events.end(), found.begin(), found.end());
    } catch (const kube::ApiError& e) {
      spdlog::debug("events of {}/{}: {}", kind, name, e.what());
    }
  }
  return events;
}

std::string render_screen(const DeploymentView& view, std::int64_t elapsed_seconds, bool show_bar) {
  std::ostringstream out;
  out << "OpenStackDeployment " << view.namespace_ << "/" << view.name;
  if (!view.reason.empty()) out << "  " << view.reason;
  if (elapsed_seconds >= 0) out << "  (" << format_duration(elapsed_seconds) << ")";
  out << "\n";
  if (!view.ready && !view.message.empty()) out << "  " << redact(view.message) << "\n";
  out << render_table(view);
  if (show_bar) out << render_progress_bar(view.ready_count, view.total) << "\n";
  return out.str();
}

FollowReport follow(kube::Client& client, const std::string& ns, const std::string& name,
                    const FollowOptions& options, std::ostream& out) {
  const auto start = Clock::now();
  const auto deadline = start + options.timeout;
  Clock::time_point degraded_since{};
  bool was_degraded = false;
  DeploymentView previous;
  std::size_t drawn_lines = 0;
  FollowReport report;
  bool missing_once = false;
  while (true) {
    Snapshot snap;
    try {
      snap = read_snapshot(client, ns, name);
    } catch (const kube::ApiError& e) {
      // The client already retried; a transient failure should not end a long deploy.
      if (!e.retryable()) throw;
      spdlog::warn("reading {}/{}: {}", ns, name, e.what());
      std::this_thread::sleep_for(options.interval);
      if (Clock::now() > deadline) break;
      continue;
    }
    DeploymentView view = make_view(snap.osd, snap.services, wall_now());
    const auto elapsed = static_cast<std::int64_t>(seconds_since(start));
    if (options.tty) {
      std::string screen = render_screen(view, elapsed, true);
      if (options.columns > 1) {
        // A wrapped line would throw the cursor-up count off.
        std::string cut_screen;
        std::istringstream lines(screen);
        for (std::string line; std::getline(lines, line);) {
          if (line.size() >= static_cast<std::size_t>(options.columns)) {
            line.resize(static_cast<std::size_t>(options.columns - 1));
          }
          cut_screen += line + "\n";
        }
        screen = cut_screen;
      }
      if (drawn_lines > 0) out << "\x1b[" << drawn_lines << "F\x1b[J";
      out << screen << std::flush;
      drawn_lines = static_cast<std::size_t>(std::count(screen.begin(), screen.end(), '\n'));
    } else {
      for (const auto& line : change_lines(previous, view, elapsed)) out << redact(line) << "\n";
      out << std::flush;
    }
    previous = view;
    report.view = view;
    report.seconds = seconds_since(start);
    switch (outcome(view)) {
      case Outcome::kReady:
        report.result = FollowResult::kReady;
        return report;
      case Outcome::kInvalidSpec:
        report.result = FollowResult::kInvalidSpec;
        return report;
      case Outcome::kMissing:
        // Right after apply a cached read may miss it once; twice is real.
        if (missing_once) {
          report.result = FollowResult::kMissing;
          return report;
        }
        missing_once = true;
        break;
      case Outcome::kDegraded:
        if (!was_degraded) degraded_since = Clock::now();
        was_degraded = true;
        if (Clock::now() - degraded_since >= options.degraded_grace) {
          report.result = FollowResult::kDegraded;
          return report;
        }
        break;
      case Outcome::kInProgress:
        was_degraded = false;
        break;
    }
    if (options.check) {
      if (std::string why = options.check(); !why.empty()) {
        report.result = FollowResult::kStopped;
        report.stop_message = why;
        return report;
      }
    }
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(options.interval);
  }
  report.result = FollowResult::kTimeout;
  report.seconds = seconds_since(start);
  return report;
}

std::string failure_report(kube::Client& client, const DeploymentView& view) {
  std::ostringstream out;
  out << "OpenStackDeployment " << view.namespace_ << "/" << view.name << " is not Ready ("
      << view.ready_count << "/" << view.total << " services ready)";
  if (!view.reason.empty()) out << ": " << view.reason;
  if (!view.message.empty()) out << ": " << view.message;
  out << "\n";
  if (const ServiceRow* row = failing_service(view)) {
    out << "failing service: " << row->name << " (" << (row->phase.empty() ? "-" : row->phase);
    if (!row->step.empty()) out << ", step " << row->step;
    out << ")\n";
    if (!row->waiting_on.empty()) out << "  waiting on: " << row->waiting_on << "\n";
    if (!row->message.empty()) out << "  blocker: " << row->message << "\n";
    std::vector<json> events;
    try {
      events = service_events(client, view.namespace_, *row);
    } catch (const std::exception& e) {
      out << "  (events unavailable: " << e.what() << ")\n";
    }
    const auto lines = format_events(events, 10);
    if (lines.empty()) {
      out << "  no events\n";
    } else {
      out << "last events:\n";
      for (const auto& line : lines) out << "  " << line << "\n";
    }
  }
  return redact(out.str());
}

DestroyReport destroy(kube::Client& client, const std::string& ns, const std::string& name,
                      const DestroyOptions& options, std::ostream& out) {
  const auto start = Clock::now();
  DestroyReport report;
  kube::DeleteOptions del;
  del.propagation_policy = "Background";
  report.existed = client.remove_if_exists(kDeploymentKind, ns, name, del);
  std::set<std::string> previous;
  bool first = true;
  while (true) {
    Snapshot snap = read_snapshot(client, ns, name);
    std::set<std::string> now;
    for (const auto& s : snap.services) now.insert(s["metadata"].value("name", ""));
    if (first && !now.empty()) {
      out << "deleting " << now.size() << " services of " << ns << "/" << name
          << " in reverse dependency order\n";
    }
    for (const auto& gone : previous) {
      if (!now.contains(gone)) {
        out << "[" << format_duration(static_cast<std::int64_t>(seconds_since(start))) << "] "
            << gone << " deleted\n";
      }
    }
    out << std::flush;
    first = false;
    previous = now;
    report.remaining.assign(now.begin(), now.end());
    report.seconds = seconds_since(start);
    if (snap.osd.is_null() && now.empty()) {
      report.gone = true;
      return report;
    }
    if (options.check) {
      if (std::string why = options.check(); !why.empty()) {
        report.stop_message = why;
        return report;
      }
    }
    if (Clock::now() - start >= options.timeout) return report;
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace kolla::deploy
