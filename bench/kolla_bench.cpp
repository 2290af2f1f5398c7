// kolla-bench: the C++ half of bench/run.
//
//   kolla-bench critical-path --spec F [--profile P] [--time-scale X] [--charts DIR]
//     Renders every enabled service's chart (the same `helm template` the operator runs), gives
//     each rendered workload the pod duration the latency profile assigns to it (first matching
//     rule, as the kwok Stages do), sums the phases of each service (a phase lasts as long as its
//     slowest workload) and plans the dependency graph with that cost: the critical path.
//     Prints JSON; also the measured render time of every service.
//
//   kolla-bench count-proxy --cluster-dir D --kubeconfig-out K --stats FILE
//     A pass-through proxy in front of the local cluster's API server (the fault proxy with no
//     fault) that counts the requests of whoever uses K. Writes {"requests": N} to FILE every
//     200 ms and at SIGTERM.

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "chart/render.hpp"
#include "cluster/fault_proxy.hpp"
#include "cluster/profile.hpp"
#include "common/log.hpp"
#include "common/process.hpp"
#include "common/signals.hpp"
#include "plan/catalog.hpp"
#include "plan/plan.hpp"
#include "spec/spec.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};

double seconds(kolla::cluster::Millis ms) {
  return static_cast<double>(ms.count()) / 1000.0;
}

bool matches(const kolla::cluster::PodMatch& match, const json& pod_template) {
  if (match.empty()) return false;
  const json labels = pod_template.value("/metadata/labels"_json_pointer, json::object());
  for (const auto& [k, v] : match.labels) {
    if (!labels.contains(k) || !labels[k].is_string() || labels[k].get<std::string>() != v) {
      return false;
    }
  }
  if (!match.image.empty()) {
    bool any = false;
    for (const auto& c : pod_template.value("/spec/containers"_json_pointer, json::array())) {
      if (c.value("image", std::string{}).find(match.image) != std::string::npos) any = true;
    }
    if (!any) return false;
  }
  return true;
}

struct PodTime {
  double seconds = 0;  // scheduled → Ready (or Succeeded), without jitter
  std::string rule;    // the rule that set the main delay, "defaults" when none
};

// The nominal time the profile gives a pod of this template (time-scaled, no jitter).
PodTime pod_time(const kolla::cluster::LatencyProfile& profile, const json& pod_template, bool job,
                 double scale) {
  PodTime t;
  t.rule = "defaults";
  double main = seconds(job ? profile.complete : profile.ready);
  for (const auto& rule : profile.rules) {
    const auto& d = job ? rule.complete : rule.ready;
    if (d && matches(rule.match, pod_template)) {
      main = seconds(*d);
      t.rule = rule.name;
      break;
    }
  }
  t.seconds = scale * (seconds(profile.pod_create) + (job ? seconds(profile.job_start) : 0) + main);
  return t;
}

int replicas_of(const json& object) {
  return object.value("/spec/replicas"_json_pointer, 1);
}

json critical_path(const std::string& spec_file, const std::string& profile_file, double scale,
                   const std::string& charts_dir) {
  const auto spec = kolla::spec::load_file(spec_file);
  const auto profile = kolla::cluster::load_profile(profile_file);
  const auto catalog = kolla::plan::ServiceCatalog::load(charts_dir);
  const auto graph = kolla::plan::DependencyGraph::build(spec, catalog);

  json services = json::object();
  std::map<std::string, double> cost;
  double render_total = 0;
  for (const auto& name : graph.services()) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto rendered = kolla::chart::render_service(spec, catalog.at(name));
    const double render_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    render_total += render_s;
    json phases = json::array();
    double total = 0;
    for (const auto& phase : rendered.phases()) {
      double longest = 0;
      json workloads = json::array();
      for (const auto& o : rendered.objects) {
        if (o.phase != phase) continue;
        const std::string kind = o.kind();
        if (kind != "Job" && kind != "Deployment" && kind != "StatefulSet" && kind != "DaemonSet") {
          continue;
        }
        const json tmpl = o.object.value("/spec/template"_json_pointer, json::object());
        PodTime t = pod_time(profile, tmpl, kind == "Job", scale);
        double d = t.seconds;
        // An OrderedReady StatefulSet starts its pods one after the other.
        if (kind == "StatefulSet" &&
            o.object.value("/spec/podManagementPolicy"_json_pointer, std::string("OrderedReady")) ==
                "OrderedReady") {
          d *= std::max(1, replicas_of(o.object));
        }
        longest = std::max(longest, d);
        workloads.push_back({{"object", o.id()}, {"rule", t.rule}, {"seconds", d}});
      }
      total += longest;
      phases.push_back(
          {{"phase", phase.to_string()}, {"seconds", longest}, {"workloads", workloads}});
    }
    cost[name] = total;
    services[name] = {{"seconds", total},
                      {"render_seconds", render_s},
                      {"phases", phases},
                      {"values", rendered.values}};
  }
  const auto plan = kolla::plan::make_plan(graph, [&](const std::string& s) { return cost.at(s); });
  const double jitter = profile.jitter;
  json out;
  out["spec"] = spec_file;
  out["profile"] = profile_file;
  out["time_scale"] = scale;
  out["jitter"] = jitter;
  // kwok draws each delay uniformly in [d, d·(1+jitter)]: the expected chain is d·(1+jitter/2).
  out["critical_path_nominal_seconds"] = plan.duration;
  out["critical_path_seconds"] = plan.duration * (1.0 + jitter / 2.0);
  out["critical_path_upper_seconds"] = plan.duration * (1.0 + jitter);
  out["critical_path"] = plan.critical_path;
  out["render_seconds_total"] = render_total;
  double render_on_path = 0;
  for (const auto& s : plan.critical_path)
    render_on_path += services[s]["render_seconds"].get<double>();
  out["render_seconds_critical_path"] = render_on_path;
  out["services"] = services;
  out["plan"] = plan.to_json();
  return out;
}

int count_proxy(const std::string& cluster_dir, const std::string& kubeconfig_out,
                const std::string& stats_file) {
  const std::string pki = cluster_dir + "/pki/";
  const std::string kubeconfig = cluster_dir + "/kubeconfig";
  std::ifstream in(kubeconfig);
  if (!in) throw std::runtime_error("cannot read " + kubeconfig);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto server_at = text.find("server: ");
  if (server_at == std::string::npos) throw std::runtime_error("no server in " + kubeconfig);
  const auto end = text.find('\n', server_at);
  const std::string upstream = text.substr(server_at + 8, end - server_at - 8);

  kolla::cluster::FaultProxyOptions o;
  o.upstream = upstream;
  o.upstream_tls = {pki + "ca.crt", pki + "admin.crt", pki + "admin.key"};
  o.serve_cert = pki + "fault-proxy.crt";
  o.serve_key = pki + "fault-proxy.key";
  kolla::cluster::FaultProxy proxy(o);
  proxy.start();
  std::string out = text;
  out.replace(server_at + 8, end - server_at - 8,
              fmt::format("https://127.0.0.1:{}", proxy.port()));
  {
    std::ofstream k(kubeconfig_out);
    k << out;
  }
  auto write_stats = [&] {
    const auto st = proxy.stats();
    const std::string tmp = stats_file + ".tmp";
    {
      std::ofstream s(tmp);
      s << json{{"requests", st.requests}}.dump() << "\n";
    }
    fs::rename(tmp, stats_file);
  };
  while (!g_stop.load()) {
    write_stats();
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  write_stats();
  proxy.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kolla-bench: critical path and request counting for bench/run"};
  app.require_subcommand(1);
  std::string spec_file, profile_file = kolla::source_dir() + "/profiles/default.yaml";
  std::string charts_dir = kolla::source_dir() + "/charts";
  double scale = 1.0;
  auto* cp = app.add_subcommand("critical-path", "Critical path of a spec under a profile (JSON)");
  cp->add_option("--spec", spec_file, "Deployment spec")->required();
  cp->add_option("--profile", profile_file, "Latency profile")->capture_default_str();
  cp->add_option("--time-scale", scale, "Multiply every pod delay")->capture_default_str();
  cp->add_option("--charts", charts_dir, "Charts directory")->capture_default_str();

  std::string cluster_dir, kubeconfig_out, stats_file;
  auto* px = app.add_subcommand("count-proxy", "Request-counting proxy to the local cluster");
  px->add_option("--cluster-dir", cluster_dir, "State directory of the local cluster")->required();
  px->add_option("--kubeconfig-out", kubeconfig_out, "Kubeconfig through the proxy")->required();
  px->add_option("--stats", stats_file, "JSON file with the request count")->required();
  CLI11_PARSE(app, argc, argv);
  kolla::init_logging("warn");

  kolla::install_stop_signals(g_stop);
  try {
    if (cp->parsed()) {
      std::cout << critical_path(spec_file, profile_file, scale, charts_dir).dump(2) << "\n";
      return 0;
    }
    return count_proxy(cluster_dir, kubeconfig_out, stats_file);
  } catch (const std::exception& e) {
    std::cerr << "kolla-bench: " << e.what() << "\n";
    return 1;
  }
}
