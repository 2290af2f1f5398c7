#include "plan/catalog.hpp"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/process.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::plan {
namespace fs = std::filesystem;

namespace {

const std::regex kServiceName{R"(^[a-z][a-z0-9-]{0,38}[a-z0-9]$)"};

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::optional<CatalogEntry> read_chart(const fs::path& dir) {
  const fs::path file = dir / "Chart.yaml";
  std::ifstream in(file, std::ios::binary);
  if (!in) throw PlanError(file.string() + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  nlohmann::json chart;
  try {
    chart = yaml::parse(text.str(), file.string());
  } catch (const yaml::YamlError& e) {
    throw PlanError(e.what());
  }
  if (!chart.is_object()) throw PlanError(file.string() + ": must be a mapping");
  if (chart.value("type", std::string("application")) == "library") return std::nullopt;
  const nlohmann::json annotations = chart.value("annotations", nlohmann::json::object());
  if (!annotations.is_object()) throw PlanError(file.string() + ": annotations must be a mapping");
  if (!annotations.contains(kDependsOnAnnotation) && !annotations.contains(kRoleAnnotation)) {
    return std::nullopt;  // not a service chart (e.g. kolla-operator)
  }
  CatalogEntry entry;
  entry.name = dir.filename().string();
  entry.chart_dir = fs::absolute(dir).lexically_normal();
  auto string_field = [&](const nlohmann::json& object, const std::string& key) -> std::string {
    if (!object.contains(key) || object.at(key).is_null()) return "";
    if (!object.at(key).is_string()) {
      throw PlanError(file.string() + ": " + key + " must be a string");
    }
    return object.at(key).get<std::string>();
  };
  const std::string chart_name = string_field(chart, "name");
  if (chart_name != entry.name) {
    throw PlanError(file.string() + ": name '" + chart_name + "' differs from its directory '" +
                    entry.name + "' (service names are chart directory names)");
  }
  if (!std::regex_match(entry.name, kServiceName)) {
    throw PlanError(file.string() + ": '" + entry.name + "' is not a valid service name");
  }
  entry.version = string_field(chart, "version");
  if (entry.version.empty()) throw PlanError(file.string() + ": version is required");
  entry.role = string_field(annotations, kRoleAnnotation);
  entry.depends_on = split_depends_on(string_field(annotations, kDependsOnAnnotation));
  for (const auto& dep : entry.depends_on) {
    if (!std::regex_match(dep, kServiceName)) {
      throw PlanError(file.string() + ": " + kDependsOnAnnotation + ": '" + dep +
                      "' is not a service name");
    }
  }
  return entry;
}

}  // namespace

std::vector<std::string> split_depends_on(const std::string& annotation) {
  std::vector<std::string> names;
  std::stringstream in(annotation);
  std::string item;
  while (std::getline(in, item, ',')) {
    auto begin = item.find_first_not_of(" \t\n");
    if (begin == std::string::npos) continue;
    auto end = item.find_last_not_of(" \t\n");
    names.push_back(item.substr(begin, end - begin + 1));
  }
  return names;
}

ServiceCatalog::ServiceCatalog(std::vector<CatalogEntry> entries) {
  for (auto& entry : entries) {
    std::string name = entry.name;
    if (!entries_.emplace(name, std::move(entry)).second) {
      throw PlanError("service '" + name + "' is defined twice");
    }
  }
}

ServiceCatalog ServiceCatalog::load(const fs::path& charts_dir) {
  std::error_code ec;
  if (!fs::is_directory(charts_dir, ec)) {
    throw PlanError(charts_dir.string() + ": not a charts directory");
  }
  std::vector<fs::path> dirs;
  for (const auto& item : fs::directory_iterator(charts_dir)) {
    if (item.is_directory() && fs::exists(item.path() / "Chart.yaml")) dirs.push_back(item.path());
  }
  std::sort(dirs.begin(), dirs.end());
  std::vector<CatalogEntry> entries;
  for (const auto& dir : dirs) {
    if (auto entry = read_chart(dir)) entries.push_back(std::move(*entry));
  }
  return ServiceCatalog(std::move(entries));
}

ServiceCatalog ServiceCatalog::load_default() {
  return load(fs::path(kolla::source_dir()) / "charts");
}

const CatalogEntry* ServiceCatalog::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

const CatalogEntry& ServiceCatalog::at(const std::string& name) const {
  if (const auto* entry = find(name)) return *entry;
  throw PlanError(
      "unknown service '" + name + "'; known services: " +
      (entries_.empty() ? std::string("(none: no service charts found)") : join(names())));
}

std::vector<std::string> ServiceCatalog::names() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : entries_) out.push_back(name);
  return out;
}

}  // namespace kolla::plan
