// kollakube import's mapping: kolla-ansible globals.yml and passwords.yml (testdata/) →
// OpenStackDeployment and passwords Secret.

#include "migrate/migrate.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "chart/passwords.hpp"
#include "common/redact.hpp"
#include "spec/spec.hpp"

namespace kolla::migrate {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const fs::path kTestdata = fs::path(KOLLA_SOURCE_DIR) / "src/migrate/testdata";

std::string read(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool has_warning(const std::vector<std::string>& warnings, const std::string& prefix) {
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.rfind(prefix, 0) == 0; });
}

TEST(ImportGlobals, MapsTheSampleAndParsesAsASpec) {
  const auto result = import_globals(read(kTestdata / "globals.yml"), "globals.yml");
  const spec::Spec s = spec::parse_yaml(result.to_yaml("globals.yml"), "deployment.yaml");
  EXPECT_EQ(s.name, "openstack");
  EXPECT_EQ(s.namespace_, "openstack");
  EXPECT_EQ(s.release, "2025.1");
  EXPECT_EQ(s.images.registry, "registry.example.com:5000");
  EXPECT_EQ(s.images.namespace_, "kolla");
  EXPECT_EQ(s.images.tag_suffix, "ubuntu-noble");
  EXPECT_EQ(s.region, "RegionTwo");
  EXPECT_EQ(s.network.internal_address, "10.0.0.10");
  EXPECT_EQ(s.network.external_address, "203.0.113.10");
  EXPECT_EQ(s.network.interface_, "ens3");
  EXPECT_EQ(s.network.external_interface, "ens4");
  // enable_heat: no; enable_cinder: yes; horizon through a template; the rest by default.
  EXPECT_THAT(s.enabled_services(),
              ElementsAre("cinder", "glance", "horizon", "keystone", "mariadb", "memcached",
                          "neutron", "nova", "openvswitch", "placement", "rabbitmq"));
  EXPECT_THAT(result.disabled, ElementsAre("heat"));
}

TEST(ImportGlobals, WarnsAboutEveryKeyItDoesNotMap) {
  const auto result = import_globals(read(kTestdata / "globals.yml"), "globals.yml");
  EXPECT_TRUE(has_warning(result.warnings, "enable_octavia: 'octavia' is not supported"));
  EXPECT_TRUE(has_warning(result.warnings, "enable_haproxy:"));
  EXPECT_TRUE(has_warning(result.warnings, "enable_cinder_backend_lvm:"));
  EXPECT_TRUE(has_warning(result.warnings, "nova_compute_virt_type:"));
  EXPECT_FALSE(has_warning(result.warnings, "network_interface:"));
  EXPECT_FALSE(has_warning(result.warnings, "enable_cinder:"));
  EXPECT_FALSE(has_warning(result.warnings, "neutron_plugin_agent:"));
  EXPECT_EQ(result.warnings.size(), 4u) << ::testing::PrintToString(result.warnings);
}

TEST(ImportGlobals, UsesKollaAnsibleDefaults) {
  const auto result = import_globals(read(kTestdata / "globals-minimal.yml"), "g.yml");
  const spec::Spec s = spec::from_json(result.deployment);
  // Core services on, cinder off (kolla-ansible's defaults).
  EXPECT_THAT(s.enabled_services(),
              ElementsAre("glance", "heat", "horizon", "keystone", "mariadb", "memcached",
                          "neutron", "nova", "openvswitch", "placement", "rabbitmq"));
  EXPECT_THAT(result.disabled, ElementsAre("cinder"));
  EXPECT_EQ(s.images.registry, "quay.io");
  EXPECT_EQ(s.images.namespace_, "openstack.kolla");
  EXPECT_EQ(s.images.tag_suffix, "rocky-9");  // kolla_base_distro defaults to rocky
  // The external VIP defaults to the internal one.
  EXPECT_EQ(s.network.external_address, "192.168.1.250");
  EXPECT_TRUE(has_warning(result.warnings, "openstack_release: not set"));
}

TEST(ImportGlobals, CoreOffTurnsItsServicesOff) {
  const auto result = import_globals(
      "enable_openstack_core: no\nenable_keystone: yes\nenable_rabbitmq: false\n", "g.yml");
  EXPECT_THAT(result.enabled, ElementsAre("keystone", "mariadb", "memcached"));
}

TEST(ImportGlobals, PlacementFollowsNovaAndOpenvswitchFollowsTheAgent) {
  auto result = import_globals(
      "enable_nova: 'no'\nneutron_plugin_agent: linuxbridge\nenable_cinder: 'yes'\n", "g.yml");
  EXPECT_THAT(result.disabled, ElementsAre("nova", "openvswitch", "placement"));
  EXPECT_TRUE(has_warning(result.warnings, "neutron_plugin_agent: 'linuxbridge' is not supported"));
  result = import_globals("enable_openvswitch: '{{ enable_neutron | bool }}'\n", "g.yml");
  EXPECT_NE(std::find(result.enabled.begin(), result.enabled.end(), "openvswitch"),
            result.enabled.end());
}

TEST(ImportGlobals, DistroVersionAndTagSuffix) {
  auto s = spec::from_json(
      import_globals("kolla_base_distro: debian\nopenstack_release: '2024.2'\n", "g").deployment);
  EXPECT_EQ(s.images.tag_suffix, "debian-bookworm");
  EXPECT_EQ(s.release, "2024.2");
  s = spec::from_json(
      import_globals("kolla_base_distro: ubuntu\nopenstack_release: '2024.1'\n", "g").deployment);
  EXPECT_EQ(s.images.tag_suffix, "ubuntu-jammy");
  s = spec::from_json(
      import_globals("openstack_tag_suffix: '-ubuntu-noble-aarch64'\n", "g").deployment);
  EXPECT_EQ(s.images.tag_suffix, "ubuntu-noble-aarch64");
}

TEST(ImportGlobals, UnevaluatedTemplatesFallBackWithAWarning) {
  const auto result = import_globals("enable_cinder: \"{{ 'yes' if foo else 'no' }}\"\n", "g.yml");
  EXPECT_THAT(result.disabled, ElementsAre("cinder"));
  EXPECT_TRUE(has_warning(result.warnings, "enable_cinder: a Jinja expression"));
}

TEST(ImportGlobals, RejectsBadInput) {
  EXPECT_THROW(import_globals("- a\n- b\n", "g.yml"), MigrateError);
  EXPECT_THROW(import_globals("enable_cinder: maybe\n", "g.yml"), MigrateError);
  EXPECT_THROW(import_globals("key: [unclosed\n", "g.yml"), MigrateError);
  // Nothing we deploy is left.
  EXPECT_THROW(import_globals("enable_openstack_core: no\nenable_mariadb: no\n"
                              "enable_memcached: no\nenable_rabbitmq: no\n",
                              "g.yml"),
               MigrateError);
  // A registry the spec rejects.
  EXPECT_THROW(import_globals("docker_registry: 'https://bad/'\n", "g.yml"), MigrateError);
}

TEST(ImportPasswords, CopiesTheKeysTheChartsUse) {
  const std::set<std::string> wanted = chart::contract_password_keys();
  const auto result = import_passwords(read(kTestdata / "passwords.yml"), "passwords.yml", wanted,
                                       "openstack-passwords", "openstack");
  EXPECT_EQ(result.secret.name, "openstack-passwords");
  EXPECT_EQ(result.secret.values.at("database_password"), "sample-db-Aa1");
  EXPECT_EQ(result.secret.values.at("glance_keystone_password"), "sample-glance-Ee5");
  EXPECT_EQ(result.secret.values.size(), 5u);
  EXPECT_THAT(result.empty, ElementsAre("glance_database_password"));
  EXPECT_THAT(result.unused, ElementsAre("nova_ssh_key", "octavia_database_password"));
  // The fernet keys are not in kolla-ansible's passwords.yml: genpwd adds them.
  EXPECT_NE(std::find(result.missing.begin(), result.missing.end(), "keystone_fernet_key_0"),
            result.missing.end());
  // The Secret round-trips through the manifest genpwd reads.
  const auto parsed = chart::parse_password_secret(chart::to_manifest(result.secret), "m");
  EXPECT_EQ(parsed.values, result.secret.values);
}

TEST(ImportPasswords, NeverShowsAValue) {
  const auto result = import_passwords(read(kTestdata / "passwords.yml"), "passwords.yml",
                                       chart::contract_password_keys(), "s", "ns");
  for (const auto& w : result.warnings) {
    EXPECT_THAT(w, ::testing::Not(HasSubstr("sample-"))) << "a value in a warning";
  }
  // Values read are registered for redaction, even unused ones and ssh keys.
  EXPECT_THAT(redact("x sample-octavia-Ff6 y"), ::testing::Not(HasSubstr("sample-octavia")));
  EXPECT_THAT(redact("sample-private-Gg7"), ::testing::Not(HasSubstr("Gg7")));
  try {
    import_passwords("database_password: secret-Zz9\n  bad: [\n", "p.yml", {}, "s", "ns");
    FAIL() << "malformed YAML accepted";
  } catch (const MigrateError& e) {
    EXPECT_THAT(e.what(), ::testing::Not(HasSubstr("secret-Zz9")));
    EXPECT_THAT(e.what(), HasSubstr("p.yml:"));
  }
}

}  // namespace
}  // namespace kolla::migrate
