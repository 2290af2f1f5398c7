#include "chart/render.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/process.hpp"

namespace kolla::chart {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A private copy of the fixture charts: rendering runs `helm dependency build`, which writes.
class FixtureCharts : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!kolla::find_executable("helm")) GTEST_SKIP() << "helm not installed (scripts/setup)";
    char pattern[] = "/tmp/kolla-chart-test-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    fs::copy(fs::path(KOLLA_SOURCE_DIR) / "src/chart/testdata/charts", dir_,
             fs::copy_options::recursive);
    catalog_ = plan::ServiceCatalog::load(dir_);
    spec_.name = "test";
    spec_.namespace_ = "cloud";
    spec_.region = "RegionX";
    spec_.services["hooked"] = spec::ServiceSpec{};
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
  plan::ServiceCatalog catalog_;
  spec::Spec spec_;
};

std::vector<std::string> ids_with_phases(const std::vector<RenderedObject>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.phase.to_string() + " " + o.id());
  return out;
}

TEST(ParseManifests, OrdersByPhaseWeightAndKind) {
  const char* output = R"(---
# Source: x/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
---
# Source: x/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
---
# Source: x/templates/empty.yaml
---
# Source: x/templates/post.yaml
apiVersion: batch/v1
kind: Job
metadata:
  name: post
  annotations: {helm.sh/hook: post-install, helm.sh/hook-weight: "3"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: sync
  annotations: {helm.sh/hook: "pre-upgrade,pre-install", helm.sh/hook-weight: "-8"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: init
  annotations: {helm.sh/hook: "pre-install", helm.sh/hook-weight: "-10"}
---
apiVersion: v1
kind: Secret
metadata:
  name: boot
  annotations: {helm.sh/hook: "pre-install", helm.sh/hook-weight: "-8"}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: gone
  annotations: {helm.sh/hook: "pre-delete"}
)";
  auto parsed = parse_manifests(output);
  EXPECT_EQ(ids_with_phases(parsed.objects),
            (std::vector<std::string>{"pre-install weight -10 Job/init",
                                      "pre-install weight -8 Secret/boot",
                                      "pre-install weight -8 Job/sync", "main ConfigMap/cfg",
                                      "main Deployment/api", "post-install weight 3 Job/post"}));
  ASSERT_EQ(parsed.skipped.size(), 1u);
  EXPECT_EQ(parsed.skipped[0].name(), "gone");
  EXPECT_EQ(parsed.objects[3].source, "x/templates/cm.yaml");
  EXPECT_EQ(parsed.objects[3].yaml.rfind("# Source: x/templates/cm.yaml\n", 0), 0u);
}

TEST(ParseManifests, RejectsBadDocuments) {
  try {
    parse_manifests("---\n# Source: x/templates/a.yaml\nkind: ConfigMap\n");
    FAIL();
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind, RenderError::Kind::kBadManifest);
    EXPECT_NE(std::string(e.what()).find("x/templates/a.yaml: not a Kubernetes object"),
              std::string::npos);
  }
  try {
    parse_manifests(
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  annotations:\n"
        "    helm.sh/hook: pre-install\n    helm.sh/hook-weight: heavy\n");
    FAIL();
  } catch (const RenderError& e) {
    EXPECT_NE(std::string(e.what()).find("hook-weight 'heavy' is not an integer"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_manifests("---\na: [\n"), RenderError);
}

TEST(Values, MergeOrderIsGlobalThenServiceValues) {
  spec::Spec spec;
  spec.name = "x";
  spec.release = "2024.2";
  spec.services["svc"].values = {{"api", {{"replicas", 3}}}, {"global", {{"region", "Override"}}}};
  json v = service_values(spec, "svc");
  EXPECT_EQ(v["global"]["release"], "2024.2");
  EXPECT_EQ(v["global"]["region"], "Override");
  EXPECT_EQ(v["global"]["image"]["registry"], "quay.io");
  EXPECT_EQ(v["api"]["replicas"], 3);
  EXPECT_EQ(merge_values({{"a", {{"b", 1}, {"c", 2}}}}, {{"a", {{"c", 3}}}, {"d", nullptr}}),
            json({{"a", {{"b", 1}, {"c", 3}}}, {"d", nullptr}}));
}

TEST_F(FixtureCharts, RendersHooksInPhaseOrder) {
  auto rendered = render_service(spec_, catalog_.at("hooked"));
  EXPECT_EQ(rendered.service, "hooked");
  EXPECT_EQ(rendered.namespace_, "cloud");
  EXPECT_EQ(
      ids_with_phases(rendered.objects),
      (std::vector<std::string>{
          "pre-install weight -20 ConfigMap/hooked-bootstrap-scripts",
          "pre-install weight -10 Job/hooked-db-init", "pre-install weight -8 Job/hooked-db-sync",
          "pre-install weight -2 Job/hooked-bootstrap", "main ConfigMap/hooked-config",
          "main Service/hooked-api", "main Deployment/hooked-api",
          "post-install weight 0 Job/hooked-register",
          "post-install weight 5 Job/hooked-discover"}));
  ASSERT_EQ(rendered.skipped.size(), 1u);  // pre-delete; the test hook is skipped by helm
  EXPECT_EQ(rendered.skipped[0].name(), "hooked-cleanup");
  EXPECT_EQ(rendered.phases().size(), 7u);
  // Global values from the spec reached the templates; chart defaults filled the rest.
  const auto& config = rendered.objects[4].object;
  EXPECT_EQ(config["metadata"]["namespace"], "cloud");
  EXPECT_EQ(config["data"]["region"], "RegionX");
  EXPECT_EQ(rendered.objects[6].object["spec"]["replicas"], 1);
  EXPECT_EQ(rendered.objects[6].object["spec"]["template"]["spec"]["containers"][0]["image"],
            "quay.io/openstack.kolla/hooked-api:2025.1-ubuntu-noble");
  EXPECT_TRUE(fs::exists(dir_ / "hooked/charts/fixlib-0.1.0.tgz"));
  EXPECT_EQ(rendered.values_hash.size(), 64u);
}

TEST_F(FixtureCharts, ServiceValuesOverrideChartDefaults) {
  spec_.services["hooked"].values = {{"api", {{"replicas", 3}}}, {"debug", true}};
  spec_.images.tag = "custom";
  auto rendered = render_service(spec_, catalog_.at("hooked"));
  bool found_debug = false;
  for (const auto& o : rendered.objects) {
    if (o.id() == "Deployment/hooked-api") {
      EXPECT_EQ(o.object["spec"]["replicas"], 3);
      EXPECT_EQ(o.object["spec"]["template"]["spec"]["containers"][0]["image"],
                "quay.io/openstack.kolla/hooked-api:custom");
    }
    if (o.id() == "ConfigMap/hooked-debug") found_debug = true;
  }
  EXPECT_TRUE(found_debug);
}

TEST_F(FixtureCharts, ReRenderIsIdenticalAndHashTracksInputs) {
  auto first = render_service(spec_, catalog_.at("hooked"));
  auto second = render_service(spec_, catalog_.at("hooked"));
  ASSERT_EQ(first.objects.size(), second.objects.size());
  for (std::size_t i = 0; i < first.objects.size(); ++i) {
    EXPECT_EQ(first.objects[i].yaml, second.objects[i].yaml);
  }
  EXPECT_EQ(first.values_hash, second.values_hash);
  EXPECT_EQ(values_hash(spec_, catalog_.at("hooked")), first.values_hash);

  spec_.services["hooked"].values = {{"api", {{"replicas", 2}}}};
  const std::string by_values = values_hash(spec_, catalog_.at("hooked"));
  EXPECT_NE(by_values, first.values_hash);
  // A change in the library chart changes the hash and triggers a dependency rebuild.
  const auto tgz = dir_ / "hooked/charts/fixlib-0.1.0.tgz";
  const auto before = fs::last_write_time(tgz);
  {
    std::ofstream out(dir_ / "fixlib/templates/_extra.tpl");
    out << "{{- define \"fixlib.extra\" -}}x{{- end -}}\n";
  }
  fs::last_write_time(dir_ / "fixlib/templates/_extra.tpl", before + std::chrono::seconds(5));
  EXPECT_NE(values_hash(spec_, catalog_.at("hooked")), by_values);
  render_service(spec_, catalog_.at("hooked"));
  EXPECT_GT(fs::last_write_time(tgz), before);
}

TEST_F(FixtureCharts, SchemaErrorsCarryHelmsMessage) {
  spec_.services["hooked"].values = {{"api", {{"replicas", "three"}}}};
  try {
    render_service(spec_, catalog_.at("hooked"));
    FAIL();
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind, RenderError::Kind::kInvalidValues);
    EXPECT_NE(std::string(e.what()).find("values.schema.json"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("replicas"), std::string::npos) << e.what();
  }
}

TEST_F(FixtureCharts, HelmFailureAndMissingHelm) {
  {
    std::ofstream out(dir_ / "hooked/templates/broken.yaml");
    out << "{{ .Values.nothing.here }}\n";
  }
  try {
    render_service(spec_, catalog_.at("hooked"));
    FAIL();
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind, RenderError::Kind::kHelmFailed);
    EXPECT_NE(std::string(e.what()).find("broken.yaml"), std::string::npos) << e.what();
  }
  try {
    render_service(spec_, catalog_.at("hooked"), RenderOptions{"/nonexistent/helm"});
    FAIL();
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind, RenderError::Kind::kToolMissing);
    EXPECT_NE(std::string(e.what()).find("scripts/setup"), std::string::npos);
  }
}

}  // namespace
}  // namespace kolla::chart
