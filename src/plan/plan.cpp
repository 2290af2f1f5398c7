#include "plan/plan.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

namespace kolla::plan {
namespace {

std::string dot_id(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

DependencyGraph DependencyGraph::build(const spec::Spec& spec, const ServiceCatalog& catalog) {
  std::map<std::string, std::vector<std::string>> edges;
  for (const auto& name : spec.enabled_services()) {
    if (catalog.find(name) == nullptr) {
      std::string known;
      for (const auto& n : catalog.names()) known += (known.empty() ? "" : ", ") + n;
      throw PlanError("spec.services." + name + ": unknown service '" + name +
                      "'; known services: " +
                      (known.empty() ? std::string("(none: no service charts found)") : known));
    }
  }
  for (const auto& name : spec.enabled_services()) {
    const CatalogEntry& entry = catalog.at(name);
    auto& deps = edges[name];
    for (const auto& dep : entry.depends_on) {
      if (catalog.find(dep) == nullptr) {
        throw PlanError(name + " depends on '" + dep + "', which has no chart (" +
                        (entry.chart_dir / "Chart.yaml").string() + ")");
      }
      if (!spec.is_enabled(dep)) {
        const bool listed = spec.services.contains(dep);
        throw PlanError(name + " depends on " + dep + ", which is " +
                        (listed ? "disabled (spec.services." + dep + ".enabled: false)"
                                : "not enabled (add it to spec.services)"));
      }
      deps.push_back(dep);
    }
  }
  return from_edges(edges);
}

DependencyGraph DependencyGraph::from_edges(
    const std::map<std::string, std::vector<std::string>>& edges) {
  DependencyGraph graph;
  for (const auto& [name, deps] : edges) {
    std::set<std::string> unique(deps.begin(), deps.end());
    for (const auto& dep : unique) {
      if (!edges.contains(dep)) {
        throw PlanError(name + " depends on " + dep + ", which is not in the graph");
      }
    }
    graph.deps_[name] = std::vector<std::string>(unique.begin(), unique.end());
  }
  graph.check_acyclic();
  return graph;
}

void DependencyGraph::check_acyclic() const {
  enum class Color { kWhite, kGrey, kBlack };
  std::map<std::string, Color> color;
  for (const auto& [name, deps] : deps_) color[name] = Color::kWhite;
  std::vector<std::string> stack;
  std::function<void(const std::string&)> visit = [&](const std::string& node) {
    color[node] = Color::kGrey;
    stack.push_back(node);
    for (const auto& dep : deps_.at(node)) {
      if (color[dep] == Color::kGrey) {
        auto from = std::find(stack.begin(), stack.end(), dep);
        std::string path;
        for (auto it = from; it != stack.end(); ++it) path += *it + " → ";
        throw PlanError("dependency cycle: " + path + dep);
      }
      if (color[dep] == Color::kWhite) visit(dep);
    }
    stack.pop_back();
    color[node] = Color::kBlack;
  };
  for (const auto& [name, deps] : deps_) {
    if (color[name] == Color::kWhite) visit(name);
  }
}

std::vector<std::string> DependencyGraph::services() const {
  std::vector<std::string> out;
  for (const auto& [name, deps] : deps_) out.push_back(name);
  return out;
}

const std::vector<std::string>& DependencyGraph::dependencies(const std::string& service) const {
  auto it = deps_.find(service);
  if (it == deps_.end()) throw PlanError("'" + service + "' is not in the graph");
  return it->second;
}

std::vector<std::string> DependencyGraph::dependents(const std::string& service) const {
  std::vector<std::string> out;
  for (const auto& [name, deps] : deps_) {
    if (std::binary_search(deps.begin(), deps.end(), service)) out.push_back(name);
  }
  return out;
}

bool DependencyGraph::depends_on(const std::string& service, const std::string& other) const {
  std::set<std::string> seen;
  std::vector<std::string> todo = dependencies(service);
  while (!todo.empty()) {
    std::string next = todo.back();
    todo.pop_back();
    if (next == other) return true;
    if (!seen.insert(next).second) continue;
    const auto& deps = dependencies(next);
    todo.insert(todo.end(), deps.begin(), deps.end());
  }
  return false;
}

std::vector<std::string> DependencyGraph::topological_order() const {
  std::vector<std::string> order;
  for (const auto& wave : make_plan(*this).waves)
    order.insert(order.end(), wave.begin(), wave.end());
  return order;
}

std::string DependencyGraph::to_dot(const std::string& graph_name) const {
  std::ostringstream out;
  out << "digraph " << dot_id(graph_name) << " {\n  rankdir=BT;\n  node [shape=box];\n";
  for (const auto& [name, deps] : deps_) out << "  " << dot_id(name) << ";\n";
  for (const auto& [name, deps] : deps_) {
    for (const auto& dep : deps) out << "  " << dot_id(name) << " -> " << dot_id(dep) << ";\n";
  }
  out << "}\n";
  return out.str();
}

nlohmann::json DependencyGraph::to_json() const {
  nlohmann::json edges = nlohmann::json::array();
  for (const auto& [name, deps] : deps_) {
    for (const auto& dep : deps) edges.push_back({{"from", name}, {"to", dep}});
  }
  return {{"services", services()}, {"edges", edges}};
}

const PlannedService& Plan::at(const std::string& name) const {
  for (const auto& s : services) {
    if (s.name == name) return s;
  }
  throw PlanError("'" + name + "' is not in the plan");
}

nlohmann::json Plan::to_json() const {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& s : services) {
    list.push_back({{"name", s.name},
                    {"wave", s.wave},
                    {"waitsFor", s.waits_for},
                    {"cost", s.cost},
                    {"start", s.start},
                    {"finish", s.finish}});
  }
  return {{"waves", waves},
          {"criticalPath", critical_path},
          {"duration", duration},
          {"services", list}};
}

Plan make_plan(const DependencyGraph& graph, const CostFunction& cost) {
  Plan plan;
  std::map<std::string, int> wave;
  std::map<std::string, double> finish;
  std::map<std::string, std::string> via;  // the dependency that finishes last
  // Services sorted so each follows its dependencies: repeat until every wave is known.
  std::vector<std::string> pending = graph.services();
  std::vector<std::string> order;
  while (!pending.empty()) {
    std::vector<std::string> next;
    std::vector<std::string> ready;
    for (const auto& name : pending) {
      const auto& deps = graph.dependencies(name);
      bool all = std::all_of(deps.begin(), deps.end(),
                             [&](const std::string& d) { return wave.contains(d); });
      (all ? ready : next).push_back(name);
    }
    if (ready.empty()) throw PlanError("dependency cycle among: " + pending.front());
    for (const auto& name : ready) {
      int w = 0;
      for (const auto& d : graph.dependencies(name)) w = std::max(w, wave[d] + 1);
      wave[name] = w;
      order.push_back(name);
    }
    pending = std::move(next);
  }
  std::stable_sort(order.begin(), order.end(), [&](const std::string& a, const std::string& b) {
    return wave[a] != wave[b] ? wave[a] < wave[b] : a < b;
  });
  for (const auto& name : order) {
    PlannedService s;
    s.name = name;
    s.wave = wave[name];
    s.waits_for = graph.dependencies(name);
    s.cost = cost ? cost(name) : 1.0;
    if (!(s.cost >= 0) || std::isinf(s.cost)) {
      throw PlanError("cost of " + name + " must be a finite number >= 0");
    }
    for (const auto& d : s.waits_for) {
      if (finish[d] > s.start || (finish[d] == s.start && via[name].empty())) {
        s.start = finish[d];
        via[name] = d;
      }
    }
    s.finish = s.start + s.cost;
    finish[name] = s.finish;
    if (static_cast<std::size_t>(s.wave) >= plan.waves.size()) plan.waves.resize(s.wave + 1);
    plan.waves[s.wave].push_back(name);
    plan.services.push_back(std::move(s));
  }
  // The critical path ends at the latest finish (first by name on ties) and follows `via`.
  std::string last;
  for (const auto& s : plan.services) {
    if (last.empty() || s.finish > finish[last] || (s.finish == finish[last] && s.name < last)) {
      last = s.name;
    }
  }
  if (!last.empty()) {
    plan.duration = finish[last];
    for (std::string at = last; !at.empty(); at = via[at]) plan.critical_path.push_back(at);
    std::reverse(plan.critical_path.begin(), plan.critical_path.end());
  }
  return plan;
}

}  // namespace kolla::plan
