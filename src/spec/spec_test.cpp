#include "spec/spec.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace kolla::spec {
namespace {

const char* kGood = R"(apiVersion: kolla.openstack.org/v1alpha1
kind: OpenStackDeployment
metadata:
  name: aio
  namespace: cloud
spec:
  release: "2024.2"
  images:
    registry: registry.local:5000
    pullPolicy: Always
  region: RegionTwo
  network:
    internalAddress: 10.0.0.10
  nodes:
    compute: {node-role/compute: "yes"}
  services:
    mariadb: {}
    memcached:
    keystone:
      enabled: true
      values: {api: {replicas: 3}}
    horizon:
      enabled: false
)";

TEST(Spec, ParsesAGoodSpecWithDefaults) {
  Spec spec = parse_yaml(kGood, "good.yaml");
  EXPECT_EQ(spec.name, "aio");
  EXPECT_EQ(spec.namespace_, "cloud");
  EXPECT_EQ(spec.release, "2024.2");
  EXPECT_EQ(spec.images.registry, "registry.local:5000");
  EXPECT_EQ(spec.images.namespace_, "openstack.kolla");  // default
  EXPECT_EQ(spec.images.tag_suffix, "ubuntu-noble");
  EXPECT_EQ(spec.images.pull_policy, "Always");
  EXPECT_EQ(spec.region, "RegionTwo");
  EXPECT_EQ(spec.passwords_secret, "openstack-passwords");
  EXPECT_EQ(spec.network.internal_address, "10.0.0.10");
  EXPECT_EQ(spec.network.interface_, "eth0");
  EXPECT_EQ(spec.nodes.at("compute"), (NodeSelector{{"node-role/compute", "yes"}}));
  EXPECT_EQ(spec.nodes.at("controller"),
            (NodeSelector{{"kolla.openstack.org/controller", "true"}}));
  EXPECT_EQ(spec.enabled_services(),
            (std::vector<std::string>{"keystone", "mariadb", "memcached"}));
  EXPECT_FALSE(spec.is_enabled("horizon"));
  EXPECT_EQ(spec.services.at("keystone").values["api"]["replicas"], 3);
  EXPECT_TRUE(spec.services.at("memcached").values.is_object());
}

TEST(Spec, JsonRoundTripIsLossless) {
  Spec spec = parse_yaml(kGood, "good.yaml");
  Spec again = from_json(to_json(spec));
  EXPECT_EQ(to_json(again), to_json(spec));
  EXPECT_EQ(to_json(spec)["spec"]["services"]["horizon"]["enabled"], false);
}

TEST(Spec, FencingBlockIsKeptAsGiven) {
  std::string text = std::string(kGood) + "  fencing:\n    enabled: true\n    gracePeriod: 60s\n";
  Spec spec = parse_yaml(text, "fencing.yaml");
  EXPECT_EQ(spec.fencing["gracePeriod"], "60s");
  EXPECT_EQ(to_json(from_json(to_json(spec)))["spec"]["fencing"]["enabled"], true);
  EXPECT_FALSE(to_json(parse_yaml(kGood, "good.yaml"))["spec"].contains("fencing"));
  EXPECT_THROW(parse_yaml(std::string(kGood) + "  fencing: [1]\n", "bad.yaml"), SpecError);
}

TEST(Spec, GlobalValuesFollowContract) {
  Spec spec = parse_yaml(kGood, "good.yaml");
  auto g = global_values(spec);
  EXPECT_EQ(g["release"], "2024.2");
  EXPECT_EQ(g["image"]["registry"], "registry.local:5000");
  EXPECT_EQ(g["image"]["tag"], "");
  EXPECT_EQ(g["image"]["tagSuffix"], "ubuntu-noble");
  EXPECT_EQ(g["region"], "RegionTwo");
  EXPECT_EQ(g["passwordsSecret"], "openstack-passwords");
  EXPECT_EQ(g["network"]["externalInterface"], "eth1");
  EXPECT_EQ(g["nodeSelector"]["network"]["kolla.openstack.org/network"], "true");
  EXPECT_EQ(g["nodeSelector"]["compute"]["node-role/compute"], "yes");
}

TEST(Spec, MalformedYamlNamesTheLine) {
  const char* text =
      "apiVersion: kolla.openstack.org/v1alpha1\nkind: OpenStackDeployment\n"
      "spec:\n  services: {mariadb: {}\n  region: [\n";
  try {
    parse_yaml(text, "bad.yaml");
    FAIL() << "expected a SpecError";
  } catch (const SpecError& e) {
    EXPECT_GT(e.line, 3);
    EXPECT_NE(std::string(e.what()).find("bad.yaml:" + std::to_string(e.line)), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("malformed YAML"), std::string::npos) << e.what();
  }
}

struct BadField {
  std::string replace_from;
  std::string replace_to;
  std::string expected_message;
  int expected_line;
};

class SpecBadField : public ::testing::TestWithParam<BadField> {};

TEST_P(SpecBadField, NamesPathAndLine) {
  std::string text = kGood;
  const auto& p = GetParam();
  auto pos = text.find(p.replace_from);
  ASSERT_NE(pos, std::string::npos);
  text.replace(pos, p.replace_from.size(), p.replace_to);
  try {
    parse_yaml(text, "f.yaml");
    FAIL() << "expected a SpecError for " << p.expected_message;
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find(p.expected_message), std::string::npos) << e.what();
    EXPECT_EQ(e.line, p.expected_line) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Fields, SpecBadField,
    ::testing::Values(BadField{"values: {api: {replicas: 3}}", "values: [1, 2]",
                               "spec.services.keystone.values: must be a mapping, not a list", 21},
                      BadField{"enabled: true", "enabled: maybe",
                               "spec.services.keystone.enabled: must be true or false", 20},
                      BadField{"release: \"2024.2\"", "release: 2024.2",
                               "spec.release: must be a string, not a number (quote it)", 7},
                      BadField{"pullPolicy: Always", "pullPolicy: Sometimes",
                               "spec.images.pullPolicy: 'Sometimes' is not valid", 10},
                      BadField{"region: RegionTwo", "regoin: RegionTwo",
                               "spec.regoin: unknown field", 11},
                      BadField{"{node-role/compute: \"yes\"}", "{node-role/compute: yes}",
                               "spec.nodes.compute.node-role/compute: must be a string", 15},
                      BadField{"    mariadb: {}", "    MariaDB: {}",
                               "spec.services.MariaDB: 'MariaDB' is not", 17},
                      BadField{"kind: OpenStackDeployment", "kind: Deployment",
                               "kind: 'Deployment' is not OpenStackDeployment", 2},
                      BadField{"  name: aio\n", "", "metadata.name: is required", 3}),
    [](const ::testing::TestParamInfo<BadField>& param) {
      return "case" + std::to_string(param.index);
    });

TEST(Spec, ServicesAreRequired) {
  const char* text =
      "apiVersion: kolla.openstack.org/v1alpha1\nkind: OpenStackDeployment\n"
      "metadata: {name: x}\nspec:\n  release: \"2025.1\"\n";
  EXPECT_THROW(
      {
        try {
          parse_yaml(text, "x.yaml");
        } catch (const SpecError& e) {
          EXPECT_NE(std::string(e.what()).find("spec.services: is required"), std::string::npos);
          throw;
        }
      },
      SpecError);
}

TEST(Spec, MissingFileIsAnError) {
  EXPECT_THROW(load_file("/nonexistent/spec.yaml"), SpecError);
}

TEST(Spec, FromJsonValidatesLikeYaml) {
  auto doc = to_json(parse_yaml(kGood, "good.yaml"));
  doc["spec"]["services"]["nova"] = {{"values", "oops"}};
  try {
    from_json(doc);
    FAIL();
  } catch (const SpecError& e) {
    EXPECT_EQ(std::string(e.what()), "spec.services.nova.values: must be a mapping, not a string");
    EXPECT_EQ(e.path, "spec.services.nova.values");
  }
}

TEST(Spec, ExamplesParse) {
  for (const char* name : {"all-in-one.yaml", "multinode.yaml", "minimal.yaml"}) {
    auto path = std::filesystem::path(KOLLA_SOURCE_DIR) / "examples" / name;
    Spec spec = load_file(path);
    EXPECT_FALSE(spec.enabled_services().empty()) << name;
  }
  EXPECT_EQ(load_file(std::filesystem::path(KOLLA_SOURCE_DIR) / "examples/all-in-one.yaml")
                .enabled_services()
                .size(),
            12u);
  EXPECT_EQ(load_file(std::filesystem::path(KOLLA_SOURCE_DIR) / "examples/minimal.yaml")
                .enabled_services(),
            (std::vector<std::string>{"keystone", "mariadb", "memcached", "rabbitmq"}));
}

}  // namespace
}  // namespace kolla::spec
