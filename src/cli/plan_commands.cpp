// kollakube graph, plan, render and genpwd: everything that reads a deployment spec and the
// charts without talking to a cluster.

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "chart/passwords.hpp"
#include "chart/render.hpp"
#include "cli/cli.hpp"
#include "common/process.hpp"
#include "plan/catalog.hpp"
#include "plan/plan.hpp"
#include "spec/spec.hpp"

namespace kolla::cli {
namespace {

namespace fs = std::filesystem;

struct PlanOptions {
  std::string file;    // -f: the OpenStackDeployment
  std::string charts;  // --charts: the charts directory
  std::string output;  // graph/plan format, genpwd file
  std::string service;
  bool show = false;
};

fs::path charts_dir(const PlanOptions& options) {
  return options.charts.empty() ? fs::path(kolla::source_dir()) / "charts"
                                : fs::path(options.charts);
}

spec::Spec load_spec(const PlanOptions& options, const GlobalOptions& global) {
  try {
    spec::Spec spec = options.file == "-" ? [] {
      std::ostringstream text;
      text << std::cin.rdbuf();
      return spec::parse_yaml(text.str(), "<stdin>");
    }()
                                          : spec::load_file(options.file);
    if (!global.namespace_.empty()) spec.namespace_ = global.namespace_;
    return spec;
  } catch (const spec::SpecError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
}

plan::ServiceCatalog load_catalog(const PlanOptions& options) {
  try {
    return plan::ServiceCatalog::load(charts_dir(options));
  } catch (const plan::PlanError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
}

plan::DependencyGraph build_graph(const spec::Spec& spec, const plan::ServiceCatalog& catalog) {
  try {
    return plan::DependencyGraph::build(spec, catalog);
  } catch (const plan::PlanError& e) {
    throw CommandError(kInvalidInput, e.what());
  }
}

std::string join(const std::vector<std::string>& items, const std::string& separator) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : separator) + item;
  return out;
}

void print_plan_table(const spec::Spec& spec, const plan::Plan& plan) {
  std::size_t width = 7;
  for (const auto& s : plan.services) width = std::max(width, s.name.size());
  std::cout << "Plan for " << spec.namespace_ << "/" << spec.name << ": " << plan.services.size()
            << " services in " << plan.waves.size() << " waves\n\n";
  std::cout << std::left << std::setw(6) << "WAVE" << std::setw(static_cast<int>(width) + 2)
            << "SERVICE"
            << "WAITS FOR\n";
  for (const auto& s : plan.services) {
    std::cout << std::setw(6) << s.wave << std::setw(static_cast<int>(width) + 2) << s.name
              << (s.waits_for.empty() ? "-" : join(s.waits_for, ", ")) << "\n";
  }
  std::cout << "\nCritical path (" << plan.critical_path.size()
            << " services, 1 unit each): " << join(plan.critical_path, " → ") << "\n";
}

int render_exit_code(chart::RenderError::Kind kind) {
  switch (kind) {
    case chart::RenderError::Kind::kToolMissing:
      return kToolMissing;
    case chart::RenderError::Kind::kInvalidValues:
      return kInvalidInput;
    default:
      return kFailed;
  }
}

// Writes text to path atomically with mode 0600 (a temp file beside it, then rename).
void write_private_file(const fs::path& path, const std::string& text) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmp_template = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  std::vector<char> name(tmp_template.begin(), tmp_template.end());
  name.push_back('\0');
  int fd = ::mkstemp(name.data());
  if (fd < 0) {
    throw CommandError(kFailed, "cannot write " + path.string() + ": " + std::strerror(errno));
  }
  ::fchmod(fd, 0600);
  const char* data = text.data();
  std::size_t left = text.size();
  bool ok = true;
  while (left > 0) {
    ssize_t n = ::write(fd, data, left);
    if (n <= 0) {
      ok = false;
      break;
    }
    data += n;
    left -= static_cast<std::size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  std::error_code ec;
  if (ok) fs::rename(name.data(), path, ec);
  if (!ok || ec) {
    fs::remove(name.data(), ec);
    throw CommandError(kFailed, "cannot write " + path.string());
  }
}

void run_genpwd(const PlanOptions& options, const GlobalOptions& global) {
  std::optional<spec::Spec> spec;
  if (!options.file.empty()) spec = load_spec(options, global);
  std::optional<chart::PasswordSecret> existing;
  if (!options.output.empty() && fs::exists(options.output)) {
    std::ifstream in(options.output, std::ios::binary);
    if (!in) throw CommandError(kInvalidInput, options.output + ": cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    try {
      existing = chart::parse_password_secret(text.str(), options.output);
    } catch (const chart::PasswordError& e) {
      throw CommandError(kInvalidInput, std::string(e.what()) + " (nothing written)");
    }
  }
  const bool to_terminal = options.output.empty() && ::isatty(STDOUT_FILENO) == 1;
  if (to_terminal && !options.show) {
    throw CommandError(kUsage,
                       "refusing to print passwords to a terminal: use -o FILE, pipe the output "
                       "(kollakube genpwd | kubectl apply -f -) or pass --show");
  }
  chart::PasswordSecret secret = existing.value_or(chart::PasswordSecret{});
  if (spec) {
    secret.name = spec->passwords_secret;
    secret.namespace_ = spec->namespace_;
  }
  if (!global.namespace_.empty()) secret.namespace_ = global.namespace_;
  std::set<std::string> keys = chart::contract_password_keys();
  for (const auto& key : chart::password_keys_in_charts(charts_dir(options))) keys.insert(key);
  chart::FillResult result;
  try {
    result = chart::fill_passwords(std::move(secret), keys);
  } catch (const chart::PasswordError& e) {
    throw CommandError(kFailed, e.what());
  }
  const std::string manifest = chart::to_manifest(result.secret);
  if (!options.output.empty()) {
    write_private_file(options.output, manifest);
    spdlog::info("wrote {}: Secret {}/{} with {} keys ({} added, {} kept)", options.output,
                 result.secret.namespace_, result.secret.name, result.secret.values.size(),
                 result.added.size(), result.kept.size());
  }
  if (options.output.empty() || options.show) std::cout << manifest << std::flush;
}

void run_render(const PlanOptions& options, const GlobalOptions& global) {
  const spec::Spec spec = load_spec(options, global);
  const auto catalog = load_catalog(options);
  const auto graph = build_graph(spec, catalog);
  std::vector<std::string> services = graph.topological_order();
  if (!options.service.empty()) {
    if (!spec.is_enabled(options.service)) {
      throw CommandError(kInvalidInput, "--service " + options.service +
                                            ": not an enabled service of " + options.file +
                                            " (enabled: " + join(services, ", ") + ")");
    }
    services = {options.service};
  }
  std::ostringstream out;  // printed only when every service rendered
  for (const auto& name : services) {
    chart::RenderedService rendered;
    try {
      rendered = chart::render_service(spec, catalog.at(name));
    } catch (const chart::RenderError& e) {
      throw CommandError(render_exit_code(e.kind), e.what());
    }
    spdlog::info("rendered {}: {} objects in {} phases (values {})", name, rendered.objects.size(),
                 rendered.phases().size(), rendered.values_hash.substr(0, 12));
    for (const auto& object : rendered.objects) {
      out << "---\n# service: " << name << "\n# phase: " << object.phase.to_string() << "\n"
          << object.yaml;
      if (!object.yaml.empty() && object.yaml.back() != '\n') out << '\n';
    }
  }
  std::cout << out.str() << std::flush;
}

}  // namespace

void add_plan_commands(CLI::App& app, GlobalOptions& global) {
  const std::string charts_help = "Charts directory (default: <source dir>/charts)";

  auto graph_options = std::make_shared<PlanOptions>();
  auto* graph =
      app.add_subcommand("graph", "Print the dependency graph of a deployment's services");
  graph->add_option("-f,--filename", graph_options->file, "OpenStackDeployment file ('-': stdin)")
      ->required();
  graph->add_option("--output,-o", graph_options->output, "dot or json")
      ->check(CLI::IsMember({"dot", "json"}))
      ->default_val("dot");
  graph->add_option("--charts", graph_options->charts, charts_help);
  graph->fallthrough();
  graph->callback([graph_options, &global] {
    const auto spec = load_spec(*graph_options, global);
    const auto g = build_graph(spec, load_catalog(*graph_options));
    if (graph_options->output == "json") {
      std::cout << g.to_json().dump(2) << "\n";
    } else {
      std::cout << g.to_dot(spec.name);
    }
  });

  auto plan_options = std::make_shared<PlanOptions>();
  auto* plan = app.add_subcommand("plan",
                                  "Show the waves, what each service waits for and the "
                                  "critical path");
  plan->add_option("-f,--filename", plan_options->file, "OpenStackDeployment file ('-': stdin)")
      ->required();
  plan->add_option("-o,--output", plan_options->output, "table or json")
      ->check(CLI::IsMember({"table", "json"}))
      ->default_val("table");
  plan->add_option("--charts", plan_options->charts, charts_help);
  plan->fallthrough();
  plan->callback([plan_options, &global] {
    const auto spec = load_spec(*plan_options, global);
    const auto result = plan::make_plan(build_graph(spec, load_catalog(*plan_options)));
    if (plan_options->output == "json") {
      std::cout << result.to_json().dump(2) << "\n";
    } else {
      print_plan_table(spec, result);
    }
  });

  auto render_options = std::make_shared<PlanOptions>();
  auto* render = app.add_subcommand(
      "render", "Render the charts with helm: every object as YAML, in apply order");
  render->add_option("-f,--filename", render_options->file, "OpenStackDeployment file ('-': stdin)")
      ->required();
  render->add_option("--service", render_options->service, "Render only this service");
  render->add_option("--charts", render_options->charts, charts_help);
  render->fallthrough();
  render->callback([render_options, &global] { run_render(*render_options, global); });

  auto genpwd_options = std::make_shared<PlanOptions>();
  auto* genpwd = app.add_subcommand(
      "genpwd", "Write the passwords Secret with every key the charts use (keeps existing values)");
  genpwd->add_option("-f,--filename", genpwd_options->file,
                     "OpenStackDeployment file (Secret name and namespace)");
  genpwd->add_option("-o,--output", genpwd_options->output,
                     "Secret manifest to write or complete (mode 0600)");
  genpwd->add_flag("--show", genpwd_options->show, "Also print the manifest with the values");
  genpwd->add_option("--charts", genpwd_options->charts, charts_help);
  genpwd->fallthrough();
  genpwd->callback([genpwd_options, &global] { run_genpwd(*genpwd_options, global); });
}

}  // namespace kolla::cli
