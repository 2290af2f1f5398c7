// kollakube deploy, status and destroy: CRDs, the operator (a local process or the chart), the
// passwords Secret and the OpenStackDeployment; then following it to Ready with a live table.
#include "cli/deploy_commands.hpp"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>

#include "chart/passwords.hpp"
#include "cluster/local_cluster.hpp"
#include "common/duration.hpp"
#include "common/process.hpp"
#include "common/redact.hpp"
#include "deploy/deployer.hpp"
#include "deploy/local_operator.hpp"
#include "deploy/progress.hpp"
#include "kube/client.hpp"
#include "spec/spec.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::cli {
namespace {

namespace fs = std::filesystem;
namespace kd = kolla::deploy;
using kolla::kube::json;

struct DeployFlags {
  std::string file;
  std::string timeout = "10m";
  std::string operator_mode;  // "", local, cluster
  std::string operator_image;
  std::string cluster_name = "kolla";
  std::string charts;
  std::string degraded_grace = "60s";
  bool keep_operator = false;
  bool no_wait = false;
};

struct StatusFlags {
  std::string name;
  std::string output = "table";
  std::string cluster_name = "kolla";
};

// Where the cluster is and how the operator runs.
struct Target {
  std::string kubeconfig;  // the file the operator gets
  std::string context;
  bool local_cluster = false;
  std::string state_dir;  // the operator's pid and log file (local mode)
  std::shared_ptr<kube::Client> client;
};

std::chrono::seconds parse_timeout(const std::string& text, const char* flag) {
  try {
    auto timeout = std::chrono::duration_cast<std::chrono::seconds>(parse_duration(text));
    if (timeout.count() <= 0) throw std::invalid_argument("must be at least one second");
    return timeout;
  } catch (const std::invalid_argument& e) {
    throw CommandError(kUsage, std::string(flag) + ": " + e.what());
  }
}

std::string charts_dir(const std::string& flag) {
  return flag.empty() ? (fs::path(source_dir()) / "charts").string() : flag;
}

// --kubeconfig, else $KUBECONFIG; empty: the local cluster (docs/cli.md).
std::string explicit_kubeconfig(const GlobalOptions& global) {
  if (!global.kubeconfig.empty()) return global.kubeconfig;
  const char* env = std::getenv("KUBECONFIG");
  if (env != nullptr && *env != '\0') {
    std::string first = env;
    return first.substr(0, first.find(':'));
  }
  return {};
}

std::string operator_state_dir(const std::string& server) {
  std::string key;
  for (char c : server) key += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return (fs::path(cluster::clusters_root()).parent_path() / "operators" / key).string();
}

std::shared_ptr<kube::Client> make_client(const std::string& kubeconfig,
                                          const std::string& context) {
  try {
    return kube::Client::from_kubeconfig({kubeconfig, context});
  } catch (const kube::KubeConfigError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
}

// Connects to the given cluster, or starts (reuses) the local one when none is given.
Target connect(const GlobalOptions& global, const std::string& cluster_name, bool start_local) {
  Target t;
  t.kubeconfig = explicit_kubeconfig(global);
  t.context = global.context;
  if (t.kubeconfig.empty()) {
    t.local_cluster = true;
    cluster::LocalCluster local(cluster_name);
    if (start_local) {
      try {
        cluster::find_k8s_bin_dir();
      } catch (const std::runtime_error& e) {
        throw CommandError(kToolMissing, e.what());
      }
      cluster::UpResult up;
      try {
        up = local.up({});
      } catch (const std::runtime_error& e) {
        std::string what = e.what();
        throw CommandError(what.rfind("timed out", 0) == 0 ? kTimeout : kFailed,
                           "local cluster " + cluster_name + ": " + what);
      }
      std::cerr << "cluster " << cluster_name << (up.reused ? " reused" : " started") << " in "
                << std::fixed << std::setprecision(1) << up.seconds << "s (" << up.nodes
                << " nodes)\n";
      t.kubeconfig = up.kubeconfig;
    } else {
      const auto st = local.status();
      if (!st.exists) {
        throw CommandError(kFailed,
                           "no kubeconfig given ($KUBECONFIG unset) and the local cluster " +
                               cluster_name + " is not running (kollakube cluster up)");
      }
      t.kubeconfig = (fs::path(local.dir()) / "kubeconfig").string();
    }
    t.state_dir = local.dir();
  }
  t.client = make_client(t.kubeconfig, t.context);
  if (t.state_dir.empty()) t.state_dir = operator_state_dir(t.client->config().server);
  return t;
}

int api_exit_code(const kube::ApiError& e) {
  switch (e.code()) {
    case kube::ErrorCode::kTimeout:
      return kTimeout;
    case kube::ErrorCode::kInvalid:
    case kube::ErrorCode::kBadRequest:
      return kInvalidInput;
    default:
      return kFailed;
  }
}

// Runs fn, turning API and input errors into CommandErrors.
template <typename Fn>
auto guarded(const std::string& what, Fn&& fn) {
  try {
    return fn();
  } catch (const kube::ApiError& e) {
    throw CommandError(api_exit_code(e), what + ": " + e.what());
  } catch (const kd::InputError& e) {
    throw CommandError(kInvalidInput, e.what());
  } catch (const chart::PasswordError& e) {
    throw CommandError(kFailed, what + ": " + e.what());
  }
}

kd::LocalOperator start_local_operator(const Target& t, const std::string& ns,
                                       const std::string& charts, const GlobalOptions& global) {
  auto binary = kd::find_operator_binary();
  if (!binary) {
    throw CommandError(kToolMissing,
                       "kolla-operator not found next to kollakube, in $KOLLA_OPERATOR_BIN or in "
                       "PATH (build it: ninja kolla-operator)");
  }
  kd::LocalOperatorOptions o;
  o.binary = *binary;
  o.kubeconfig = fs::absolute(t.kubeconfig).string();
  o.context = t.context;
  o.namespace_ = ns;
  o.charts_dir = fs::absolute(charts).string();
  o.state_dir = t.state_dir;
  o.log_level =
      global.log_level == "trace" || global.log_level == "debug" ? global.log_level : "info";
  try {
    auto op = kd::LocalOperator::start(o);
    std::cerr << "operator: " << (op.reused() ? "reusing" : "started") << " local kolla-operator"
              << " (pid " << op.pid() << "), log " << op.log_file() << "\n";
    return op;
  } catch (const std::system_error& e) {
    throw CommandError(kToolMissing, std::string("cannot start kolla-operator: ") + e.what());
  } catch (const std::runtime_error& e) {
    throw CommandError(kFailed, e.what());
  }
}

void install_operator_chart(const Target& t, const DeployFlags& f, const std::string& charts) {
  auto helm = find_executable("helm");
  if (!helm) throw CommandError(kToolMissing, "helm not found (run scripts/setup)");
  std::vector<std::string> argv = {*helm,
                                   "upgrade",
                                   "--install",
                                   "kolla-operator",
                                   (fs::path(charts) / "kolla-operator").string(),
                                   "--namespace",
                                   "kolla-system",
                                   "--create-namespace",
                                   "--kubeconfig",
                                   t.kubeconfig,
                                   "--wait",
                                   "--timeout",
                                   "5m"};
  if (!t.context.empty()) argv.insert(argv.end(), {"--kube-context", t.context});
  if (!f.operator_image.empty()) {
    // REPOSITORY[:TAG]; a ':' after the last '/' starts the tag.
    const auto slash = f.operator_image.rfind('/');
    const auto colon = f.operator_image.rfind(':');
    const bool has_tag =
        colon != std::string::npos && (slash == std::string::npos || colon > slash);
    argv.insert(argv.end(),
                {"--set", "image.repository=" +
                              f.operator_image.substr(0, has_tag ? colon : std::string::npos)});
    if (has_tag)
      argv.insert(argv.end(), {"--set", "image.tag=" + f.operator_image.substr(colon + 1)});
  }
  std::cerr << "operator: helm upgrade --install kolla-operator -n kolla-system\n";
  RunOptions run;
  run.timeout = std::chrono::minutes(6);
  auto r = run_process(argv, run);
  if (!r.ok()) {
    throw CommandError(r.timed_out ? kTimeout : kFailed,
                       "helm upgrade --install kolla-operator failed:\n" + redact(r.err + r.out));
  }
}

void run_deploy(const DeployFlags& f, CLI::App* cmd, const GlobalOptions& global) {
  const auto timeout = parse_timeout(f.timeout, "--timeout");
  const auto grace = parse_timeout(f.degraded_grace, "--degraded-grace");
  const auto start = std::chrono::steady_clock::now();
  const std::string charts = charts_dir(f.charts);
  // The spec first: nothing starts for an invalid file.
  const json doc = guarded("spec", [&] { return kd::load_deployment(f.file, global.namespace_); });
  const std::string ns = doc["metadata"]["namespace"];
  const std::string name = doc["metadata"]["name"];
  const std::string secret = spec::from_json(doc).passwords_secret;

  Target t = connect(global, f.cluster_name, true);
  std::string mode = f.operator_mode;
  if (mode.empty()) mode = t.local_cluster ? "local" : "cluster";
  if (t.local_cluster && mode == "cluster") {
    throw CommandError(kUsage,
                       "--operator=cluster needs a real cluster: the local cluster's pods are "
                       "simulated (use --operator=local or --kubeconfig)");
  }
  (void)cmd;
  kube::Client& client = *t.client;
  guarded("namespace " + ns, [&] {
    if (kd::ensure_namespace(client, ns)) std::cerr << "namespace " << ns << " created\n";
    return 0;
  });
  guarded("CRDs", [&] {
    auto names = kd::apply_crds(client, (fs::path(charts) / "kolla-operator" / "crds").string(),
                                std::chrono::seconds(60));
    std::cerr << "CRDs applied and Established: " << names.size() << "\n";
    return 0;
  });
  guarded("passwords Secret " + ns + "/" + secret, [&] {
    auto r = kd::ensure_passwords(client, ns, secret, charts);
    if (r.created) {
      std::cerr << "Secret " << ns << "/" << secret << " created with " << r.added << " keys\n";
    } else {
      std::cerr << "Secret " << ns << "/" << secret << ": " << r.kept << " keys kept, " << r.added
                << " added\n";
    }
    return 0;
  });
  std::optional<kd::LocalOperator> op;
  if (mode == "local") {
    op = start_local_operator(t, ns, charts, global);
  } else {
    install_operator_chart(t, f, charts);
  }
  guarded("apply OpenStackDeployment " + ns + "/" + name, [&] {
    kd::apply_deployment(client, doc);
    return 0;
  });
  std::cerr << "OpenStackDeployment " << ns << "/" << name << " applied\n";
  if (op && f.keep_operator) op->keep();
  if (f.no_wait) {
    if (op && !f.keep_operator) {
      std::cerr << "note: --no-wait stops the local operator now; add --keep-operator\n";
    }
    return;
  }

  kd::FollowOptions fo;
  const auto spent =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  fo.timeout = timeout > spent ? timeout - spent : std::chrono::seconds(1);
  fo.degraded_grace = grace;
  fo.tty = ::isatty(STDOUT_FILENO) == 1;
  if (struct winsize ws{}; fo.tty && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) {
    fo.columns = ws.ws_col;
  }
  if (op) {
    fo.check = [&op]() -> std::string {
      if (op->running()) return {};
      return "the local kolla-operator exited (log " + op->log_file() + "):\n" + op->log_tail();
    };
  }
  const auto report = guarded("following " + ns + "/" + name,
                              [&] { return kd::follow(client, ns, name, fo, std::cout); });
  const double total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  switch (report.result) {
    case kd::FollowResult::kReady:
      std::cout << "OpenStackDeployment " << ns << "/" << name << " Ready: " << report.view.total
                << " services in " << std::fixed << std::setprecision(1) << total << "s\n";
      if (op && f.keep_operator) {
        std::cout << "operator left running (pid " << op->pid() << "), log " << op->log_file()
                  << "\n";
      }
      return;
    case kd::FollowResult::kInvalidSpec:
      throw CommandError(kInvalidInput, "the operator refused the spec: " + report.view.message);
    case kd::FollowResult::kMissing:
      throw CommandError(kFailed,
                         "OpenStackDeployment " + ns + "/" + name + " disappeared while deploying");
    case kd::FollowResult::kStopped:
      std::cerr << kd::failure_report(client, report.view);
      throw CommandError(kFailed, report.stop_message);
    case kd::FollowResult::kDegraded:
      std::cerr << kd::failure_report(client, report.view);
      throw CommandError(kFailed, "deployment Degraded for " + std::to_string(grace.count()) + "s");
    case kd::FollowResult::kTimeout:
      std::cerr << kd::failure_report(client, report.view);
      throw CommandError(kTimeout, "not Ready after " + f.timeout + " (" +
                                       std::to_string(report.view.ready_count) + "/" +
                                       std::to_string(report.view.total) + " services ready)");
  }
}

void run_status(const StatusFlags& f, const GlobalOptions& global) {
  Target t = connect(global, f.cluster_name, false);
  kube::Client& client = *t.client;
  const kube::GroupVersionKind osd_kind{"kolla.openstack.org", "v1alpha1", "OpenStackDeployment"};
  std::vector<std::pair<std::string, std::string>> targets;  // (ns, name)
  guarded("status", [&] {
    if (!f.name.empty()) {
      targets.emplace_back(global.namespace_.empty() ? "openstack" : global.namespace_, f.name);
    } else {
      for (const auto& o : client.list(osd_kind, global.namespace_).items) {
        targets.emplace_back(o["metadata"].value("namespace", ""), o["metadata"].value("name", ""));
      }
    }
    return 0;
  });
  if (targets.empty()) {
    throw CommandError(
        kFailed,
        "no OpenStackDeployment found" +
            (global.namespace_.empty() ? std::string() : " in namespace " + global.namespace_));
  }
  json documents = json::array();
  bool first = true;
  for (const auto& [ns, name] : targets) {
    const auto snap = guarded("status", [&] { return kd::read_snapshot(client, ns, name); });
    if (snap.osd.is_null()) {
      throw CommandError(kFailed, "OpenStackDeployment " + ns + "/" + name + " not found");
    }
    const auto view = kd::make_view(snap.osd, snap.services,
                                    std::chrono::duration_cast<std::chrono::seconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
    if (f.output == "table") {
      if (!first) std::cout << "\n";
      std::cout << redact(kd::render_screen(view, -1, true));
    } else {
      documents.push_back(kd::status_document(snap.osd, snap.services));
    }
    first = false;
  }
  if (f.output != "table") {
    const json out = documents.size() == 1 && !f.name.empty() ? documents[0] : documents;
    std::cout << redact(f.output == "json" ? out.dump(2) + "\n" : kolla::yaml::emit(out));
  }
}

void run_destroy(const DeployFlags& f, const GlobalOptions& global) {
  const auto timeout = parse_timeout(f.timeout, "--timeout");
  const json doc = guarded("spec", [&] { return kd::load_deployment(f.file, global.namespace_); });
  const std::string ns = doc["metadata"]["namespace"];
  const std::string name = doc["metadata"]["name"];
  Target t = connect(global, f.cluster_name, false);
  std::string mode = f.operator_mode;
  if (mode.empty()) mode = t.local_cluster ? "local" : "cluster";
  std::optional<kd::LocalOperator> op;
  // The teardown runs in the operator (finalizers): a local one must run while we wait.
  const bool present = guarded("destroy", [&] {
    return t.client
        ->get_optional(
            kube::GroupVersionKind{"kolla.openstack.org", "v1alpha1", "OpenStackDeployment"}, ns,
            name)
        .has_value();
  });
  if (!present) {
    std::cout << "OpenStackDeployment " << ns << "/" << name << " not found: nothing to destroy\n";
    return;
  }
  if (mode == "local") op = start_local_operator(t, ns, charts_dir(f.charts), global);
  kd::DestroyOptions o;
  o.timeout = timeout;
  if (op) {
    o.check = [&op]() -> std::string {
      if (op->running()) return {};
      return "the local kolla-operator exited (log " + op->log_file() + "):\n" + op->log_tail();
    };
  }
  const auto report = guarded("destroy " + ns + "/" + name,
                              [&] { return kd::destroy(*t.client, ns, name, o, std::cout); });
  if (!report.stop_message.empty()) throw CommandError(kFailed, report.stop_message);
  if (!report.gone) {
    std::string left;
    for (const auto& s : report.remaining) left += (left.empty() ? "" : ", ") + s;
    throw CommandError(kTimeout, "OpenStackDeployment " + ns + "/" + name + " still there after " +
                                     f.timeout +
                                     (left.empty() ? "" : " (services left: " + left + ")"));
  }
  std::cout << "OpenStackDeployment " << ns << "/" << name << " and its services deleted in "
            << std::fixed << std::setprecision(1) << report.seconds << "s\n";
}

}  // namespace

void add_deploy_commands(CLI::App& app, GlobalOptions& global) {
  const std::string charts_help = "Charts directory (default: <source dir>/charts)";
  const std::string cluster_help =
      "Local cluster to use when no kubeconfig is given (default kolla)";

  auto df = std::make_shared<DeployFlags>();
  auto* deploy = app.add_subcommand(
      "deploy",
      "Deploy an OpenStackDeployment: CRDs, operator, passwords, the deployment; follow to Ready");
  deploy->add_option("-f,--filename", df->file, "OpenStackDeployment file ('-': stdin)")
      ->required();
  deploy->add_option("--timeout", df->timeout, "Give up after this long (e.g. 300s, 10m)")
      ->capture_default_str();
  deploy
      ->add_option("--operator", df->operator_mode,
                   "local: run kolla-operator on this machine; cluster: install the chart "
                   "(default: local for the local cluster, else cluster)")
      ->check(CLI::IsMember({"local", "cluster"}));
  deploy->add_option("--operator-image", df->operator_image,
                     "REPOSITORY[:TAG] of the operator image (--operator=cluster)");
  deploy->add_flag("--keep-operator", df->keep_operator,
                   "Leave the local operator running after kollakube exits");
  deploy->add_flag("--no-wait", df->no_wait, "Apply and return without following");
  deploy
      ->add_option("--degraded-grace", df->degraded_grace,
                   "Fail when the deployment stays Degraded this long")
      ->capture_default_str();
  deploy->add_option("--cluster-name", df->cluster_name, cluster_help)->capture_default_str();
  deploy->add_option("--charts", df->charts, charts_help);
  deploy->fallthrough();
  deploy->callback([df, deploy, &global] { run_deploy(*df, deploy, global); });

  auto sf = std::make_shared<StatusFlags>();
  auto* status = app.add_subcommand("status", "Show OpenStackDeployments and their services");
  status->add_option("name", sf->name, "The OpenStackDeployment (default: every one)");
  status->add_option("-o,--output", sf->output, "table, json or yaml")
      ->check(CLI::IsMember({"table", "json", "yaml"}))
      ->capture_default_str();
  status->add_option("--cluster-name", sf->cluster_name, cluster_help)->capture_default_str();
  status->fallthrough();
  status->callback([sf, &global] { run_status(*sf, global); });

  auto xf = std::make_shared<DeployFlags>();
  auto* destroy = app.add_subcommand(
      "destroy", "Delete an OpenStackDeployment and wait until it and its services are gone");
  destroy->add_option("-f,--filename", xf->file, "OpenStackDeployment file ('-': stdin)")
      ->required();
  destroy->add_option("--timeout", xf->timeout, "Give up after this long")->capture_default_str();
  destroy
      ->add_option("--operator", xf->operator_mode,
                   "local: run kolla-operator here during the teardown; cluster: the "
                   "installed one (default: local for the local cluster)")
      ->check(CLI::IsMember({"local", "cluster"}));
  destroy->add_option("--cluster-name", xf->cluster_name, cluster_help)->capture_default_str();
  destroy->add_option("--charts", xf->charts, charts_help);
  destroy->fallthrough();
  destroy->callback([xf, &global] { run_destroy(*xf, global); });
}

}  // namespace kolla::cli
