// Lints and renders every chart under charts/ with the real helm, then checks the chart contracts
// (docs/design/contracts.md): Kolla images by default, no passwords in ConfigMaps, ordered hook
// weights, deterministic rendering, schema validation, checksum/config on pods that mount config.

#include <gtest/gtest.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "common/process.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kChartsDir = fs::path(KOLLA_SOURCE_DIR) / "charts";
const std::string kHelm = std::string(KOLLA_TOOLS_DIR) + "/bin/helm";

// Every directory under charts/ holding a Chart.yaml, sorted.
std::vector<std::string> chart_names() {
  std::vector<std::string> names;
  if (!fs::is_directory(kChartsDir)) return names;
  for (const auto& entry : fs::directory_iterator(kChartsDir)) {
    if (entry.is_directory() && fs::exists(entry.path() / "Chart.yaml")) {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

kolla::ProcessResult helm(const std::vector<std::string>& args) {
  std::vector<std::string> argv{kHelm};
  argv.insert(argv.end(), args.begin(), args.end());
  kolla::RunOptions options;
  options.timeout = std::chrono::minutes(2);
  return kolla::run_process(argv, options);
}

std::vector<YAML::Node> parse_documents(const std::string& text) {
  std::vector<YAML::Node> docs;
  for (auto& doc : YAML::LoadAll(text)) {
    if (doc.IsMap()) docs.push_back(doc);
  }
  return docs;
}

std::string str(const YAML::Node& node) {
  return node && node.IsScalar() ? node.as<std::string>() : "";
}

bool is_workload(const std::string& kind) {
  return kind == "Deployment" || kind == "StatefulSet" || kind == "DaemonSet" || kind == "Job";
}

// Phases of pre-install Jobs in the order contracts §4 requires.
const std::vector<std::string> kJobPhases{"db-init", "db-sync", "ks-register", "rabbit-init",
                                          "bootstrap"};

std::optional<size_t> job_phase(const YAML::Node& job) {
  const std::string component = str(job["metadata"]["labels"]["app.kubernetes.io/component"]);
  const std::string name = str(job["metadata"]["name"]);
  for (size_t i = 0; i < kJobPhases.size(); ++i) {
    const std::string& phase = kJobPhases[i];
    if (component == phase) return i;
    if (name.size() > phase.size() &&
        name.compare(name.size() - phase.size(), phase.size(), phase) == 0) {
      return i;
    }
  }
  return std::nullopt;
}

// Finds the dotted path of the first key named "replicas" in the chart's values.yaml.
std::optional<std::string> find_replicas(const YAML::Node& node, const std::string& prefix) {
  if (!node.IsMap()) return std::nullopt;
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    const std::string path = prefix.empty() ? key : prefix + "." + key;
    if (key == "replicas" && kv.second.IsScalar()) return path;
    if (auto found = find_replicas(kv.second, path)) return found;
  }
  return std::nullopt;
}

std::vector<std::string> test_passwords() {
  std::vector<std::string> values;
  const YAML::Node file =
      YAML::LoadFile((fs::path(KOLLA_SOURCE_DIR) / "tests/charts/test-passwords.yaml").string());
  for (const auto& kv : file) values.push_back(kv.second.as<std::string>());
  return values;
}

// Every way a rendered manifest's ConfigMaps could leak a secret: an ini "password = ...", a
// Python "...PASSWORD = '...'" / "SECRET_KEY = '...'", credentials in a URL, or one of the test
// passwords verbatim. Returns one line per finding ("<configmap>/<key>: <why>").
std::vector<std::string> configmap_secret_findings(const std::string& manifest,
                                                   const std::vector<std::string>& passwords,
                                                   int* configmaps = nullptr) {
  static const std::regex ini_password(R"((^|\n)\s*[A-Za-z_]*password\s*=\s*\S+)",
                                       std::regex::icase);
  static const std::regex python_secret(R"((PASSWORD|SECRET_KEY)'?\s*[:=]\s*'[^']+')");
  static const std::regex url_credentials(R"([a-z+]+://[^/\s:@]+:[^@\s/]+@)");
  std::vector<std::string> findings;
  int count = 0;
  for (const auto& doc : parse_documents(manifest)) {
    if (str(doc["kind"]) != "ConfigMap") continue;
    ++count;
    for (const auto& kv : doc["data"]) {
      const std::string where = str(doc["metadata"]["name"]) + "/" + kv.first.as<std::string>();
      const std::string value = str(kv.second);
      if (std::regex_search(value, ini_password)) findings.push_back(where + ": sets a password");
      if (std::regex_search(value, python_secret)) findings.push_back(where + ": sets a secret");
      if (std::regex_search(value, url_credentials)) {
        findings.push_back(where + ": has URL credentials");
      }
      for (const auto& password : passwords) {
        if (value.find(password) != std::string::npos) {
          findings.push_back(where + ": contains a test password");
        }
      }
    }
  }
  if (configmaps) *configmaps = count;
  return findings;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

class ChartTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = (kChartsDir / GetParam()).string();
    chart_ = YAML::LoadFile(dir_ + "/Chart.yaml");
    library_ = str(chart_["type"]) == "library";
    service_ = chart_["annotations"] && chart_["annotations"]["kolla.openstack.org/depends-on"];
    if (chart_["dependencies"] && chart_["dependencies"].size() > 0) {
      const auto built = helm({"dependency", "build", dir_});
      ASSERT_TRUE(built.ok()) << "helm dependency build " << dir_ << ":\n" << built.err;
    }
  }

  std::string render(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"template", "kolla-test", dir_, "--namespace", "openstack"};
    args.insert(args.end(), extra.begin(), extra.end());
    const auto result = helm(args);
    EXPECT_TRUE(result.ok()) << "helm template " << dir_ << ":\n" << result.err;
    return result.out;
  }

  std::string dir_;
  YAML::Node chart_;
  bool library_ = false;
  bool service_ = false;
};

TEST_P(ChartTest, LintStrictPasses) {
  const auto result = helm({"lint", "--strict", dir_});
  EXPECT_TRUE(result.ok()) << result.out << result.err;
  EXPECT_NE(result.out.find("0 chart(s) failed"), std::string::npos) << result.out;
}

TEST_P(ChartTest, ServiceChartHasContractFiles) {
  if (!service_) GTEST_SKIP() << "not a service chart (no kolla.openstack.org/depends-on)";
  EXPECT_TRUE(fs::exists(dir_ + "/values.schema.json"));
  EXPECT_TRUE(fs::exists(dir_ + "/templates/NOTES.txt"));
  bool uses_common = false;
  for (const auto& dep : chart_["dependencies"]) uses_common |= str(dep["name"]) == "kolla-common";
  EXPECT_TRUE(uses_common) << "service charts depend on kolla-common";
}

TEST_P(ChartTest, RenderingIsDeterministic) {
  if (library_) GTEST_SKIP() << "library chart";
  const std::string first = render();
  const std::string second = render();
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first, second);
}

TEST_P(ChartTest, PodsUseKollaImagesByDefault) {
  if (library_ || !service_) GTEST_SKIP() << "not a service chart";
  int containers = 0;
  for (const auto& doc : parse_documents(render())) {
    const std::string kind = str(doc["kind"]);
    if (!is_workload(kind)) continue;
    const YAML::Node pod = doc["spec"]["template"]["spec"];
    for (const char* list : {"containers", "initContainers"}) {
      for (const auto& c : pod[list]) {
        ++containers;
        EXPECT_EQ(str(c["image"]).rfind("quay.io/openstack.kolla/", 0), 0u)
            << kind << "/" << str(doc["metadata"]["name"]) << " uses " << str(c["image"]);
      }
    }
  }
  EXPECT_GT(containers, 0) << "a service chart runs at least one container";
}

TEST_P(ChartTest, ConfigMapsHoldNoPasswords) {
  if (library_) GTEST_SKIP() << "library chart";
  int configmaps = 0;
  const auto findings = configmap_secret_findings(render(), test_passwords(), &configmaps);
  EXPECT_TRUE(findings.empty()) << join_lines(findings);
  if (service_) {
    EXPECT_GT(configmaps, 0) << "Kolla containers need a config.json ConfigMap";
  }
}

TEST_P(ChartTest, PreInstallJobWeightsFollowPhaseOrder) {
  if (library_) GTEST_SKIP() << "library chart";
  std::map<size_t, std::vector<int>> weights;  // phase index -> weights seen
  for (const auto& doc : parse_documents(render())) {
    if (str(doc["kind"]) != "Job") continue;
    const YAML::Node annotations = doc["metadata"]["annotations"];
    const std::string hook = str(annotations["helm.sh/hook"]);
    if (hook.find("pre-install") == std::string::npos) continue;
    EXPECT_EQ(str(annotations["helm.sh/hook-delete-policy"]), "before-hook-creation")
        << str(doc["metadata"]["name"]);
    EXPECT_EQ(str(doc["spec"]["template"]["spec"]["restartPolicy"]), "OnFailure")
        << str(doc["metadata"]["name"]);
    const auto phase = job_phase(doc);
    ASSERT_TRUE(phase.has_value())
        << "pre-install Job " << str(doc["metadata"]["name"]) << " belongs to no known phase";
    weights[*phase].push_back(std::stoi(str(annotations["helm.sh/hook-weight"])));
  }
  if (weights.empty()) GTEST_SKIP() << "no pre-install Jobs";
  for (auto a = weights.begin(); a != weights.end(); ++a) {
    for (auto b = std::next(a); b != weights.end(); ++b) {
      const int max_a = *std::max_element(a->second.begin(), a->second.end());
      const int min_b = *std::min_element(b->second.begin(), b->second.end());
      EXPECT_LT(max_a, min_b) << kJobPhases[a->first] << " must run before "
                              << kJobPhases[b->first];
    }
  }
}

TEST_P(ChartTest, PodsMountingConfigCarryChecksum) {
  if (library_) GTEST_SKIP() << "library chart";
  for (const auto& doc : parse_documents(render())) {
    if (!is_workload(str(doc["kind"]))) continue;
    const YAML::Node tmpl = doc["spec"]["template"];
    bool mounts_config = false;
    for (const auto& volume : tmpl["spec"]["volumes"]) mounts_config |= bool(volume["configMap"]);
    if (!mounts_config) continue;
    const std::string checksum = str(tmpl["metadata"]["annotations"]["checksum/config"]);
    EXPECT_TRUE(std::regex_match(checksum, std::regex("[0-9a-f]{64}")))
        << str(doc["kind"]) << "/" << str(doc["metadata"]["name"]) << " lacks checksum/config";
  }
}

TEST_P(ChartTest, SchemaRejectsBadValue) {
  if (library_) GTEST_SKIP() << "library chart";
  if (!fs::exists(dir_ + "/values.schema.json")) GTEST_SKIP() << "no values.schema.json";
  const auto replicas = find_replicas(YAML::LoadFile(dir_ + "/values.yaml"), "");
  // Without a replicas key, a number where the image registry (a string) belongs.
  const std::string bad = replicas ? *replicas + "=three" : "global.image.registry=5";
  const auto result = helm({"template", "kolla-test", dir_, "--set", bad});
  EXPECT_FALSE(result.ok()) << "--set " << bad << " was accepted";
  EXPECT_NE(result.err.find("values don't meet the specifications of the schema"),
            std::string::npos)
      << result.err;
}

std::string chart_test_name(const ::testing::TestParamInfo<std::string>& param_info) {
  std::string name = param_info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

// The password check must really fire: a crafted manifest with each kind of leak.
TEST(ChartChecks, PasswordCheckerFiresOnCraftedManifest) {
  const std::string manifest = R"(---
apiVersion: v1
kind: ConfigMap
metadata: {name: leaky}
data:
  glance-api.conf: |
    [keystone_authtoken]
    username = glance
    password = hunter2
  local_settings.py: |
    SECRET_KEY = 'abc'
  nova.conf: |
    [database]
    connection = mysql+pymysql://nova:s3cret@mariadb:3306/nova
  plain.conf: |
    region_name = Tadmin5mw
---
apiVersion: v1
kind: ConfigMap
metadata: {name: clean}
data:
  glance-api.conf: |
    # password comes from OS_KEYSTONE_AUTHTOKEN__PASSWORD
    [keystone_authtoken]
    username = glance
    connection_recycle_time = 10
---
apiVersion: v1
kind: Secret
metadata: {name: not-a-configmap}
stringData: {conf: "password = fine-in-a-secret"}
)";
  int configmaps = 0;
  const auto findings = configmap_secret_findings(manifest, {"Tadmin5mw"}, &configmaps);
  EXPECT_EQ(configmaps, 2);
  const std::vector<std::string> expected{
      "leaky/glance-api.conf: sets a password", "leaky/local_settings.py: sets a secret",
      "leaky/nova.conf: has URL credentials", "leaky/plain.conf: contains a test password"};
  EXPECT_EQ(findings, expected) << join_lines(findings);
}

// ...and fires on a real render: a values override that smuggles a password line into cinder.conf
// (global.region is a free string and lands in the config file).
TEST(ChartChecks, PasswordCheckerFiresOnInjectedValue) {
  const std::string dir = (kChartsDir / "cinder").string();
  if (!fs::exists(dir + "/Chart.yaml")) GTEST_SKIP() << "no cinder chart";
  ASSERT_TRUE(helm({"dependency", "build", dir}).ok());
  const auto clean = helm({"template", "kolla-test", dir, "--namespace", "openstack"});
  ASSERT_TRUE(clean.ok()) << clean.err;
  EXPECT_TRUE(configmap_secret_findings(clean.out, test_passwords()).empty());
  const auto bad = helm({"template", "kolla-test", dir, "--namespace", "openstack", "--set-string",
                         "global.region=RegionOne\npassword = Tadmin5mw"});
  ASSERT_TRUE(bad.ok()) << bad.err;
  const auto findings = configmap_secret_findings(bad.out, test_passwords());
  EXPECT_FALSE(findings.empty()) << "the checker missed a password injected into a ConfigMap";
  bool named = false;
  for (const auto& f : findings) named |= f.find("contains a test password") != std::string::npos;
  EXPECT_TRUE(named) << join_lines(findings);
}

// A scratch copy of charts/<name> plus kolla-common side by side, so file://../kolla-common works.
class ScratchChart {
 public:
  explicit ScratchChart(const std::string& name) {
    root_ =
        fs::temp_directory_path() / ("kolla-chart-test-" + name + "-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
    for (const std::string& chart : {name, std::string("kolla-common")}) {
      fs::copy(kChartsDir / chart, root_ / chart, fs::copy_options::recursive);
    }
    dir_ = (root_ / name).string();
    fs::remove_all(root_ / name / "charts");
    fs::remove(root_ / name / "Chart.lock");
  }
  ~ScratchChart() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& dir() const { return dir_; }
  void write_values(const std::string& text) const {
    std::ofstream(dir_ + "/values.yaml", std::ios::trunc) << text;
  }

 private:
  fs::path root_;
  std::string dir_;
};

TEST(ChartChecks, LintStrictFailsOnInvalidValues) {
  if (!fs::exists(kChartsDir / "memcached" / "Chart.yaml")) GTEST_SKIP() << "no memcached chart";
  ScratchChart chart("memcached");
  const auto built = helm({"dependency", "build", chart.dir()});
  ASSERT_TRUE(built.ok()) << built.err;
  const auto good = helm({"lint", "--strict", chart.dir()});
  ASSERT_TRUE(good.ok()) << "the unmodified copy must lint clean:\n" << good.out << good.err;

  // A value the schema rejects: a number where the image registry (a string) belongs.
  YAML::Node values = YAML::LoadFile(chart.dir() + "/values.yaml");
  values["global"]["image"]["registry"] = 5;
  YAML::Emitter out;
  out << values;
  chart.write_values(out.c_str());
  const auto schema = helm({"lint", "--strict", chart.dir()});
  EXPECT_FALSE(schema.ok()) << "lint accepted a values.yaml violating the schema:\n" << schema.out;
  EXPECT_NE((schema.out + schema.err).find("schema"), std::string::npos)
      << schema.out << schema.err;

  // A values.yaml that is not YAML at all.
  chart.write_values("global: [unclosed\n  image: {registry\n");
  const auto syntax = helm({"lint", "--strict", chart.dir()});
  EXPECT_FALSE(syntax.ok()) << "lint accepted an unparsable values.yaml:\n" << syntax.out;
}

// contracts §3: depends-on names chart directories, has no cycle, and the infrastructure charts
// depend on nothing.
TEST(ChartChecks, DependsOnIsAcyclicAndNamesCharts) {
  std::map<std::string, std::vector<std::string>> deps;
  for (const auto& name : chart_names()) {
    const YAML::Node chart = YAML::LoadFile((kChartsDir / name / "Chart.yaml").string());
    const YAML::Node annotations = chart["annotations"];
    if (!annotations || !annotations.IsMap()) continue;
    const YAML::Node annotation = annotations["kolla.openstack.org/depends-on"];
    if (!annotation) continue;
    std::vector<std::string> list;
    std::stringstream in(str(annotation));
    for (std::string item; std::getline(in, item, ',');) {
      if (!item.empty()) list.push_back(item);
    }
    deps[name] = list;
  }
  if (deps.empty()) GTEST_SKIP() << "no service charts";
  for (const char* infra : {"mariadb", "rabbitmq", "memcached", "openvswitch"}) {
    if (deps.count(infra)) {
      EXPECT_TRUE(deps[infra].empty()) << infra << " must depend on nothing";
    }
  }
  for (const auto& [name, list] : deps) {
    for (const auto& dep : list) {
      EXPECT_TRUE(deps.count(dep)) << name << " depends on unknown service " << dep;
      EXPECT_NE(dep, name) << name << " depends on itself";
    }
  }
  // Kahn's algorithm: everything must come out.
  std::map<std::string, int> pending;
  for (const auto& [name, list] : deps) {
    int n = 0;
    for (const auto& dep : list) n += deps.count(dep) ? 1 : 0;
    pending[name] = n;
  }
  std::vector<std::string> ready, order;
  for (const auto& [name, n] : pending) {
    if (n == 0) ready.push_back(name);
  }
  while (!ready.empty()) {
    const std::string done = ready.back();
    ready.pop_back();
    order.push_back(done);
    for (const auto& [name, list] : deps) {
      if (std::find(list.begin(), list.end(), done) != list.end() && --pending[name] == 0) {
        ready.push_back(name);
      }
    }
  }
  EXPECT_EQ(order.size(), deps.size()) << "kolla.openstack.org/depends-on has a cycle";
}

INSTANTIATE_TEST_SUITE_P(Charts, ChartTest, ::testing::ValuesIn(chart_names()), chart_test_name);

}  // namespace
