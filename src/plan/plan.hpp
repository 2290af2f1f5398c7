#pragma once
// The dependency graph of a deployment's enabled services and the plan derived from it: waves
// (topological levels), what each service waits for, and the critical path under a cost
// function (default: every service costs 1; benchmarks pass measured phase durations).

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plan/catalog.hpp"
#include "spec/spec.hpp"

namespace kolla::plan {

class DependencyGraph {
 public:
  // The enabled services of the spec with their declared dependencies. Throws PlanError for an
  // unknown service (naming the known ones), a dependency on a service that is disabled or not
  // listed (naming both), a dependency without a chart, and a cycle ("a → b → a").
  static DependencyGraph build(const spec::Spec& spec, const ServiceCatalog& catalog);
  // From explicit edges (service → its dependencies); every dependency must be a node.
  static DependencyGraph from_edges(const std::map<std::string, std::vector<std::string>>& edges);

  std::vector<std::string> services() const;                                       // sorted
  const std::vector<std::string>& dependencies(const std::string& service) const;  // sorted
  std::vector<std::string> dependents(const std::string& service) const;           // sorted
  bool depends_on(const std::string& service, const std::string& other) const;     // transitively
  // Services in an order where each comes after its dependencies (wave, then name).
  std::vector<std::string> topological_order() const;

  // Graphviz: one node per service, an edge from each dependent to its dependency.
  std::string to_dot(const std::string& graph_name = "openstack") const;
  // {"services": [...], "edges": [{"from": dependent, "to": dependency}, ...]}
  nlohmann::json to_json() const;

 private:
  void check_acyclic() const;
  std::map<std::string, std::vector<std::string>> deps_;
};

// Duration of a service (any unit); must be >= 0.
using CostFunction = std::function<double(const std::string& service)>;

struct PlannedService {
  std::string name;
  int wave = 0;                        // 0-based
  std::vector<std::string> waits_for;  // direct dependencies, sorted
  double cost = 1;
  double start = 0;   // earliest start: max finish of its dependencies
  double finish = 0;  // start + cost
};

struct Plan {
  std::vector<std::vector<std::string>> waves;  // each sorted by name
  std::vector<PlannedService> services;         // topological order (wave, then name)
  std::vector<std::string> critical_path;       // first to last service of the longest chain
  double duration = 0;                          // finish of the critical path

  const PlannedService& at(const std::string& name) const;  // throws PlanError
  // {"waves": [[...]], "criticalPath": [...], "duration": d,
  //  "services": [{"name","wave","waitsFor","cost","start","finish"}]}
  nlohmann::json to_json() const;
};

// Plans the graph. Critical path ties break by name so the plan is deterministic.
Plan make_plan(const DependencyGraph& graph, const CostFunction& cost = {});

}  // namespace kolla::plan
