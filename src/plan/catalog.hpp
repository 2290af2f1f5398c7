#pragma once
// The service catalog: which services exist and what each depends on, read only from chart data
// (docs/design/contracts.md §3). A service chart is an application chart directly under the
// charts directory whose Chart.yaml carries a kolla.openstack.org/depends-on or
// kolla.openstack.org/role annotation; library charts and other charts (kolla-operator) are not
// services. The service name is the chart directory name (and must equal Chart.yaml's name).

#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kolla::plan {

inline constexpr const char* kDependsOnAnnotation = "kolla.openstack.org/depends-on";
inline constexpr const char* kRoleAnnotation = "kolla.openstack.org/role";

// A chart that cannot be read, or a dependency graph that cannot be planned.
struct PlanError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CatalogEntry {
  std::string name;                     // service name = chart directory name
  std::filesystem::path chart_dir;      // absolute path of the chart
  std::string version;                  // Chart.yaml version
  std::vector<std::string> depends_on;  // from the annotation, in the order written
  std::string role;                     // informative (kolla.openstack.org/role), may be empty
};

class ServiceCatalog {
 public:
  ServiceCatalog() = default;
  explicit ServiceCatalog(std::vector<CatalogEntry> entries);

  // Reads every charts_dir/*/Chart.yaml. Throws PlanError for an unreadable charts directory or a
  // malformed service chart (naming the file).
  static ServiceCatalog load(const std::filesystem::path& charts_dir);
  // load(<source dir>/charts), see kolla::source_dir().
  static ServiceCatalog load_default();

  const CatalogEntry* find(const std::string& name) const;
  // Throws PlanError "unknown service 'x'; known services: a, b, …".
  const CatalogEntry& at(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
  std::size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, CatalogEntry> entries_;
};

// Splits a depends-on annotation ("a, b,c") into names; empty items are dropped.
std::vector<std::string> split_depends_on(const std::string& annotation);

}  // namespace kolla::plan
