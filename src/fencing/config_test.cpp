#include "fencing/config.hpp"

#include <gtest/gtest.h>

#include "fencing/test_util.hpp"

namespace kolla::fencing {
namespace {

using testing::fixture;

TEST(FencingConfig, DefaultsWhenAbsent) {
  const Config c = parse_config(nullptr);
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.grace_period, Millis(60'000));
  EXPECT_DOUBLE_EQ(c.max_unready_share, 0.4);
  EXPECT_EQ(c.opt_out_label, "kolla.openstack.org/fencing-opt-out");
  EXPECT_TRUE(c.agents.empty());
}

TEST(FencingConfig, ParsesEveryField) {
  const Config c = parse_config(fixture("config.json"));
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.grace_period, Millis(45'000));
  EXPECT_DOUBLE_EQ(c.max_unready_share, 0.34);
  EXPECT_EQ(c.node_selector.at("kolla.openstack.org/compute"), "true");
  EXPECT_EQ(c.opt_out_label, "example.org/no-fence");
  EXPECT_EQ(c.unfence_label, "example.org/unfence");
  EXPECT_EQ(c.agent_label, "example.org/agent");
  EXPECT_EQ(c.agent_configmap_name, "fencing-agents");
  EXPECT_EQ(c.agent_configmap_namespace, "openstack");  // defaults to credentialsNamespace
  EXPECT_EQ(c.default_agent, "ipmi");
  ASSERT_EQ(c.agents.size(), 3u);
  EXPECT_EQ(c.agents.at("ipmi").type, AgentType::kIpmi);
  EXPECT_EQ(c.agents.at("ipmi").address, "{node}-bmc.example");
  EXPECT_EQ(c.agents.at("redfish").type, AgentType::kRedfish);
  EXPECT_TRUE(c.agents.at("redfish").insecure);
  EXPECT_EQ(c.agents.at("redfish").timeout, Millis(10'000));
  EXPECT_EQ(c.agents.at("redfish").system_path, "/redfish/v1/Systems/System.Embedded.1");
  EXPECT_EQ(c.agents.at("script").command,
            (std::vector<std::string>{"/usr/local/bin/fence", "--node={node}", "{action}"}));
  ASSERT_EQ(c.storage.size(), 2u);
  EXPECT_EQ(c.storage[0].type, StorageType::kCephRbd);
  EXPECT_EQ(c.storage[0].pools, (std::vector<std::string>{"volumes", "vms"}));
  EXPECT_EQ(c.storage[0].ceph_user, "fencing");
  EXPECT_EQ(c.storage[1].name, "nfs");
  EXPECT_EQ(c.retry_base, Millis(5'000));
  EXPECT_EQ(c.retry_max, Millis(120'000));
  EXPECT_EQ(c.confirm_timeout, Millis(30'000));
  EXPECT_EQ(c.confirm_interval, Millis(2'000));
  EXPECT_EQ(c.force_delete_after, Millis(60'000));
  EXPECT_FALSE(c.use_lease);
}

TEST(FencingConfig, Durations) {
  EXPECT_EQ(parse_duration("500ms"), Millis(500));
  EXPECT_EQ(parse_duration("1.5s"), Millis(1500));
  EXPECT_EQ(parse_duration("2m"), Millis(120'000));
  EXPECT_EQ(parse_duration("1h"), Millis(3'600'000));
  EXPECT_EQ(parse_duration(7), Millis(7000));
  EXPECT_EQ(parse_duration("3"), Millis(3000));
  EXPECT_THROW(parse_duration("soon"), ConfigError);
  EXPECT_THROW(parse_duration("3d"), ConfigError);
  EXPECT_THROW(parse_duration(-1), ConfigError);
  EXPECT_THROW(parse_duration(json::array()), ConfigError);
}

TEST(FencingConfig, ErrorsNameTheField) {
  auto message = [](json j) -> std::string {
    try {
      parse_config(j);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  };
  json base = fixture("config.json");
  json j = base;
  j["agents"]["x"] = {{"type", "telnet"}};
  EXPECT_NE(message(j).find("spec.fencing.agents.x.type"), std::string::npos) << message(j);
  j = base;
  j["agents"]["script"].erase("command");
  EXPECT_NE(message(j).find("agents.script.command"), std::string::npos);
  j = base;
  j["agents"]["redfish"].erase("credentialsSecret");
  EXPECT_NE(message(j).find("agents.redfish.credentialsSecret"), std::string::npos);
  j = base;
  j["defaultAgent"] = "nope";
  EXPECT_NE(message(j).find("defaultAgent"), std::string::npos);
  j = base;
  j["maxUnreadyShare"] = 1.5;
  EXPECT_NE(message(j).find("maxUnreadyShare"), std::string::npos);
  j = base;
  j["gracePeriod"] = "forever";
  EXPECT_NE(message(j).find("spec.fencing.gracePeriod"), std::string::npos);
  j = base;
  j["storage"][0].erase("pools");
  EXPECT_NE(message(j).find("storage[0].pools"), std::string::npos);
  EXPECT_NE(message(json{{"enabled", true}}).find("agents"), std::string::npos);
  EXPECT_EQ(message(json{{"enabled", false}}), "no error");
}

TEST(FencingConfig, BlockFromDeployments) {
  std::vector<json> deployments = {
      {{"metadata", {{"namespace", "b"}, {"name", "x"}}},
       {"spec", {{"fencing", {{"enabled", false}}}}}},
      {{"metadata", {{"namespace", "a"}, {"name", "y"}}}, {"spec", {{"release", "2025.1"}}}},
      {{"metadata", {{"namespace", "a"}, {"name", "z"}}},
       {"spec", {{"fencing", {{"gracePeriod", "10s"}, {"enabled", false}}}}}}};
  auto block = fencing_block(deployments);
  ASSERT_TRUE(block);
  EXPECT_EQ((*block)["gracePeriod"], "10s");
  EXPECT_FALSE(fencing_block({deployments[1]}));
}

}  // namespace
}  // namespace kolla::fencing
