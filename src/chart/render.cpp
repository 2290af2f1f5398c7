#include "chart/render.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include "common/process.hpp"
#include "common/redact.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::chart {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Helm's install order of kinds (pkg/release/util/kind_sorter.go), used within one phase.
constexpr std::array<std::string_view, 35> kKindOrder{"Namespace",
                                                      "NetworkPolicy",
                                                      "ResourceQuota",
                                                      "LimitRange",
                                                      "PodSecurityPolicy",
                                                      "PodDisruptionBudget",
                                                      "ServiceAccount",
                                                      "Secret",
                                                      "SecretList",
                                                      "ConfigMap",
                                                      "StorageClass",
                                                      "PersistentVolume",
                                                      "PersistentVolumeClaim",
                                                      "CustomResourceDefinition",
                                                      "ClusterRole",
                                                      "ClusterRoleList",
                                                      "ClusterRoleBinding",
                                                      "ClusterRoleBindingList",
                                                      "Role",
                                                      "RoleList",
                                                      "RoleBinding",
                                                      "RoleBindingList",
                                                      "Service",
                                                      "DaemonSet",
                                                      "Pod",
                                                      "ReplicationController",
                                                      "ReplicaSet",
                                                      "Deployment",
                                                      "HorizontalPodAutoscaler",
                                                      "StatefulSet",
                                                      "Job",
                                                      "CronJob",
                                                      "IngressClass",
                                                      "Ingress",
                                                      "APIService"};

std::size_t kind_rank(const std::string& kind) {
  auto it = std::find(kKindOrder.begin(), kKindOrder.end(), kind);
  return static_cast<std::size_t>(it - kKindOrder.begin());  // unknown kinds last
}

std::string trim(std::string_view text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return "";
  auto end = text.find_last_not_of(" \t\r\n");
  return std::string(text.substr(begin, end - begin + 1));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    item = trim(item);
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

std::string find_helm(const RenderOptions& options) {
  if (!options.helm.empty()) {
    if (::access(options.helm.c_str(), X_OK) != 0) {
      throw RenderError(RenderError::Kind::kToolMissing,
                        "helm not found at " + options.helm + "; install it with scripts/setup");
    }
    return options.helm;
  }
  if (auto helm = kolla::find_executable("helm")) return *helm;
  throw RenderError(
      RenderError::Kind::kToolMissing,
      "helm not found in PATH or " + kolla::tools_dir() + "/bin; install it with scripts/setup");
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The dependencies: list of a Chart.yaml ({name, repository} pairs).
std::vector<std::pair<std::string, std::string>> chart_dependencies(const fs::path& chart_dir) {
  json chart;
  try {
    chart = yaml::parse(read_file(chart_dir / "Chart.yaml"), (chart_dir / "Chart.yaml").string());
  } catch (const yaml::YamlError& e) {
    throw RenderError(RenderError::Kind::kBadManifest, e.what());
  }
  std::vector<std::pair<std::string, std::string>> deps;
  if (!chart.is_object() || !chart.contains("dependencies") || !chart["dependencies"].is_array()) {
    return deps;
  }
  for (const auto& dep : chart["dependencies"]) {
    if (!dep.is_object() || !dep.value("name", json()).is_string()) continue;
    const json repo = dep.value("repository", json(""));
    deps.emplace_back(dep["name"].get<std::string>(),
                      repo.is_string() ? repo.get<std::string>() : "");
  }
  return deps;
}

std::optional<fs::path> local_dependency(const fs::path& chart_dir, const std::string& repository) {
  if (repository.rfind("file://", 0) != 0) return std::nullopt;
  return (chart_dir / repository.substr(7)).lexically_normal();
}

// Files of a chart, sorted, without the packaged dependencies (charts/) and Chart.lock.
std::vector<fs::path> chart_files(const fs::path& chart_dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(chart_dir)) return files;
  for (auto it = fs::recursive_directory_iterator(chart_dir);
       it != fs::recursive_directory_iterator(); ++it) {
    const fs::path rel = it->path().lexically_relative(chart_dir);
    if (it.depth() == 0 && (rel == "charts" || rel == "Chart.lock")) {
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file()) files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

class Sha256 {
 public:
  Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(ctx_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void add(std::string_view data) {
    EVP_DigestUpdate(ctx_, data.data(), data.size());
    EVP_DigestUpdate(ctx_, "\0", 1);  // separates fields
  }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_, digest.data(), &size);
    static const char* kHex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < size; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 0xf];
    }
    return out;
  }

 private:
  EVP_MD_CTX* ctx_;
};

void hash_chart(Sha256& hash, const fs::path& chart_dir, std::set<fs::path>& seen) {
  if (!seen.insert(chart_dir).second) return;
  for (const auto& file : chart_files(chart_dir)) {
    hash.add(file.lexically_relative(chart_dir).generic_string());
    hash.add(read_file(file));
  }
  for (const auto& [name, repository] : chart_dependencies(chart_dir)) {
    hash.add("dependency:" + name);
    if (auto local = local_dependency(chart_dir, repository)) {
      hash_chart(hash, *local, seen);
    } else {  // a remote dependency: its packaged copy
      const fs::path charts = chart_dir / "charts";
      if (fs::is_directory(charts)) {
        std::vector<fs::path> archives;
        for (const auto& item : fs::directory_iterator(charts)) {
          if (item.path().filename().string().rfind(name + "-", 0) == 0) {
            archives.push_back(item.path());
          }
        }
        std::sort(archives.begin(), archives.end());
        for (const auto& a : archives) hash.add(read_file(a));
      }
    }
  }
}

RenderedObject parse_document(const std::string& text) {
  RenderedObject out;
  out.yaml = text;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# Source: ", 0) == 0) {
      out.source = trim(line.substr(10));
      break;
    }
  }
  const std::string where = out.source.empty() ? "helm output" : out.source;
  try {
    out.object = yaml::parse(text, where);
  } catch (const yaml::YamlError& e) {
    throw RenderError(RenderError::Kind::kBadManifest, e.what());
  }
  if (out.object.is_null()) return out;
  if (!out.object.is_object() || !out.object.value("apiVersion", json()).is_string() ||
      !out.object.value("kind", json()).is_string() || !out.object.contains("metadata") ||
      !out.object["metadata"].is_object() ||
      !out.object["metadata"].value("name", json()).is_string()) {
    throw RenderError(RenderError::Kind::kBadManifest,
                      where + ": not a Kubernetes object (needs apiVersion, kind, metadata.name)");
  }
  return out;
}

// nullopt: a hook for other events (not run on install/upgrade).
std::optional<Phase> phase_of(const RenderedObject& item, const std::string& where) {
  const json annotations = item.object["metadata"].value("annotations", json::object());
  if (!annotations.is_object() || !annotations.contains("helm.sh/hook")) return Phase{};
  if (!annotations["helm.sh/hook"].is_string()) {
    throw RenderError(RenderError::Kind::kBadManifest, where + ": helm.sh/hook must be a string");
  }
  const auto hooks = split_commas(annotations["helm.sh/hook"].get<std::string>());
  auto has = [&](const char* h) { return std::find(hooks.begin(), hooks.end(), h) != hooks.end(); };
  Phase phase;
  if (has("pre-install") || has("pre-upgrade")) {
    phase.stage = Stage::kPreInstall;
  } else if (has("post-install") || has("post-upgrade")) {
    phase.stage = Stage::kPostInstall;
  } else {
    return std::nullopt;
  }
  if (annotations.contains("helm.sh/hook-weight")) {
    const json& w = annotations["helm.sh/hook-weight"];
    std::string text = w.is_string() ? trim(w.get<std::string>()) : w.dump();
    if (!text.empty() && text.front() == '+') text.erase(0, 1);
    int value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      throw RenderError(RenderError::Kind::kBadManifest,
                        where + ": helm.sh/hook-weight '" + text + "' is not an integer");
    }
    phase.weight = value;
  }
  return phase;
}

std::mutex& dependency_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

std::string Phase::to_string() const {
  switch (stage) {
    case Stage::kPreInstall:
      return "pre-install weight " + std::to_string(weight);
    case Stage::kMain:
      return "main";
    case Stage::kPostInstall:
      return "post-install weight " + std::to_string(weight);
  }
  return "main";
}

std::string RenderedObject::kind() const {
  return object.value("kind", "");
}
std::string RenderedObject::api_version() const {
  return object.value("apiVersion", "");
}
std::string RenderedObject::name() const {
  return object.contains("metadata") ? object["metadata"].value("name", "") : "";
}
std::string RenderedObject::id() const {
  return kind() + "/" + name();
}

std::vector<Phase> RenderedService::phases() const {
  std::vector<Phase> out;
  for (const auto& o : objects) {
    if (out.empty() || out.back() != o.phase) out.push_back(o.phase);
  }
  return out;
}

json merge_values(json base, const json& over) {
  if (!base.is_object() || !over.is_object()) return over;
  for (const auto& [key, value] : over.items()) {
    if (base.contains(key) && base[key].is_object() && value.is_object()) {
      base[key] = merge_values(base[key], value);
    } else {
      base[key] = value;
    }
  }
  return base;
}

json service_values(const spec::Spec& spec, const std::string& service) {
  json values = {{"global", spec::global_values(spec)}};
  if (auto it = spec.services.find(service); it != spec.services.end()) {
    values = merge_values(values, it->second.values);
  }
  return values;
}

std::string values_hash(const spec::Spec& spec, const plan::CatalogEntry& entry) {
  Sha256 hash;
  std::set<fs::path> seen;
  hash_chart(hash, entry.chart_dir, seen);
  hash.add("release:" + entry.name);
  hash.add("namespace:" + spec.namespace_);
  hash.add(service_values(spec, entry.name).dump());
  return hash.hex();
}

ParsedManifests parse_manifests(std::string_view helm_output) {
  std::vector<std::string> documents;
  std::string current;
  std::istringstream in{std::string(helm_output)};
  for (std::string line; std::getline(in, line);) {
    if (line == "---" || line.rfind("--- ", 0) == 0 || line == "---\r") {
      documents.push_back(std::move(current));
      current.clear();
      continue;
    }
    current += line;
    current += '\n';
  }
  documents.push_back(std::move(current));

  struct Item {
    RenderedObject object;
    std::size_t index;
  };
  std::vector<Item> items;
  ParsedManifests out;
  for (const auto& text : documents) {
    RenderedObject object = parse_document(text);
    if (object.object.is_null()) continue;  // empty document (a template that rendered nothing)
    auto phase = phase_of(object, object.source.empty() ? object.id() : object.source);
    if (!phase) {
      out.skipped.push_back(std::move(object));
      continue;
    }
    object.phase = *phase;
    items.push_back({std::move(object), items.size()});
  }
  std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
    if (a.object.phase != b.object.phase) return a.object.phase < b.object.phase;
    auto ka = kind_rank(a.object.kind());
    auto kb = kind_rank(b.object.kind());
    if (ka != kb) return ka < kb;
    return a.index < b.index;
  });
  for (auto& item : items) out.objects.push_back(std::move(item.object));
  return out;
}

void ensure_dependencies(const fs::path& chart_dir, const RenderOptions& options) {
  const auto deps = chart_dependencies(chart_dir);
  if (deps.empty()) return;
  std::lock_guard lock(dependency_mutex());
  bool stale = false;
  const fs::path charts = chart_dir / "charts";
  for (const auto& [name, repository] : deps) {
    std::optional<fs::file_time_type> packaged;
    if (fs::is_directory(charts)) {
      for (const auto& item : fs::directory_iterator(charts)) {
        const std::string file = item.path().filename().string();
        if (file.rfind(name + "-", 0) == 0 && item.path().extension() == ".tgz") {
          packaged = std::max(packaged.value_or(fs::file_time_type::min()), item.last_write_time());
        }
      }
    }
    if (!packaged) {
      stale = true;
      break;
    }
    if (auto local = local_dependency(chart_dir, repository)) {
      for (const auto& file : chart_files(*local)) {
        if (fs::last_write_time(file) > *packaged) stale = true;
      }
      if (fs::last_write_time(*local / "Chart.yaml") > *packaged) stale = true;
    }
  }
  if (!stale) return;
  const std::string helm = find_helm(options);
  RunOptions run;
  run.timeout = options.timeout;
  auto result =
      kolla::run_process({helm, "dependency", "build", chart_dir.string(), "--skip-refresh"}, run);
  if (!result.ok() && result.err.find("out of sync") != std::string::npos) {
    result = kolla::run_process(
        {helm, "dependency", "update", chart_dir.string(), "--skip-refresh"}, run);
  }
  if (!result.ok()) {
    throw RenderError(RenderError::Kind::kHelmFailed, "helm dependency build " +
                                                          chart_dir.string() + " failed" +
                                                          (result.timed_out ? " (timed out)" : "") +
                                                          ": " + kolla::redact(trim(result.err)));
  }
}

RenderedService render_service(const spec::Spec& spec, const plan::CatalogEntry& entry,
                               const RenderOptions& options) {
  const std::string helm = find_helm(options);
  ensure_dependencies(entry.chart_dir, options);
  RenderedService out;
  out.service = entry.name;
  out.namespace_ = spec.namespace_;
  out.values = service_values(spec, entry.name);
  out.values_hash = values_hash(spec, entry);
  RunOptions run;
  run.timeout = options.timeout;
  run.stdin_data = out.values.dump();
  auto result = kolla::run_process({helm, "template", entry.name, entry.chart_dir.string(),
                                    "--namespace", spec.namespace_, "--skip-tests", "-f", "-"},
                                   run);
  if (!result.ok()) {
    std::string message = kolla::redact(trim(result.err));
    if (message.rfind("Error: ", 0) == 0) message.erase(0, 7);
    if (message.find("schema") != std::string::npos) {
      throw RenderError(RenderError::Kind::kInvalidValues,
                        "values for " + entry.name + " do not match " +
                            (entry.chart_dir / "values.schema.json").string() + ": " + message);
    }
    throw RenderError(RenderError::Kind::kHelmFailed,
                      "helm template " + entry.name + " failed" +
                          (result.timed_out ? " (timed out)"
                                            : " (exit " + std::to_string(result.exit_code) + ")") +
                          ": " + message);
  }
  auto parsed = parse_manifests(result.out);
  out.objects = std::move(parsed.objects);
  out.skipped = std::move(parsed.skipped);
  return out;
}

}  // namespace kolla::chart
