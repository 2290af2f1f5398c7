#pragma once
// Rendering one service's chart with the real `helm template` and ordering the result for apply
// (docs/design/contracts.md §4).
//
// Values: the chart's values.yaml ⟵ {global: global_values(spec)} ⟵ the service's `values` from
// the spec (helm merges maps deeply; a null removes a default). Release name = service name,
// namespace = the spec's. Rendering has no randomness: the same inputs give the same bytes.

#include <chrono>
#include <compare>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "plan/catalog.hpp"
#include "spec/spec.hpp"

namespace kolla::chart {

struct RenderError : std::runtime_error {
  enum class Kind {
    kToolMissing,    // helm not found
    kInvalidValues,  // the chart's values.schema.json rejected the values (helm's message)
    kHelmFailed,     // helm failed otherwise (its stderr, redacted)
    kBadManifest,    // helm's output is not a list of Kubernetes objects
  };
  RenderError(Kind k, const std::string& message) : std::runtime_error(message), kind(k) {}
  Kind kind;
};

// Where an object sits in a chart's apply order.
enum class Stage { kPreInstall = 0, kMain = 1, kPostInstall = 2 };

struct Phase {
  Stage stage = Stage::kMain;
  int weight = 0;  // helm.sh/hook-weight; 0 for main objects
  auto operator<=>(const Phase&) const = default;
  // "pre-install weight -10", "main", "post-install weight 0"
  std::string to_string() const;
};

struct RenderedObject {
  nlohmann::json object;  // the object as JSON
  std::string yaml;       // the document exactly as helm printed it (with its "# Source:" line)
  std::string source;     // the template it came from ("keystone/templates/db-init.yaml")
  Phase phase;

  std::string kind() const;
  std::string name() const;
  std::string api_version() const;
  std::string id() const;  // "Kind/name"
};

struct RenderedService {
  std::string service;
  std::string namespace_;
  std::string values_hash;              // see values_hash()
  nlohmann::json values;                // what was passed to helm over the chart's defaults
  std::vector<RenderedObject> objects;  // in apply order
  std::vector<RenderedObject> skipped;  // hooks not run on install/upgrade (pre-delete, …)

  std::vector<Phase> phases() const;  // distinct phases of `objects`, in order
};

struct RenderOptions {
  std::string helm;  // helm executable; empty: kolla::find_executable("helm")
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
};

// Deep merge: objects merge key by key, anything else in `over` replaces `base`.
nlohmann::json merge_values(nlohmann::json base, const nlohmann::json& over);

// {global: global_values(spec)} ⟵ spec.services[service].values
nlohmann::json service_values(const spec::Spec& spec, const std::string& service);

// sha256 (hex) of the chart's files (and those of its file:// dependencies, not the packaged
// copies in charts/), the release name, namespace and service_values(). Changes exactly when
// a render could change; cheap enough to decide whether to render again.
std::string values_hash(const spec::Spec& spec, const plan::CatalogEntry& entry);

// Splits helm's multi-document output into objects with their phases, sorted in apply order:
// pre-install hooks by ascending weight, main objects, post-install hooks by ascending weight;
// within one phase, by kind (Namespaces, ServiceAccounts, Secrets, ConfigMaps, …, Jobs) and
// then in helm's order. Hooks only for other events (test, *-delete, *-rollback) go to skipped.
// Throws RenderError(kBadManifest) naming the source template of a bad document.
struct ParsedManifests {
  std::vector<RenderedObject> objects;
  std::vector<RenderedObject> skipped;
};
ParsedManifests parse_manifests(std::string_view helm_output);

// Runs `helm dependency build` when the chart declares dependencies and charts/ is missing one
// or holds a copy older than a file:// dependency's sources. Serialised per process.
void ensure_dependencies(const std::filesystem::path& chart_dir, const RenderOptions& options = {});

// Renders one service: ensure_dependencies, then `helm template <service> <chart> --namespace
// <ns> --skip-tests -f -` with service_values() on stdin, then parse_manifests.
RenderedService render_service(const spec::Spec& spec, const plan::CatalogEntry& entry,
                               const RenderOptions& options = {});

}  // namespace kolla::chart
