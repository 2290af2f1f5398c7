#include "chart/passwords.hpp"

#include <gtest/gtest.h>

#include <regex>

#include "common/redact.hpp"

namespace kolla::chart {
namespace {

namespace fs = std::filesystem;

TEST(Passwords, RandomValuesHaveTheRightShape) {
  auto a = random_password();
  auto b = random_password();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::regex_match(a, std::regex("^[A-Za-z0-9]{32}$")));
  EXPECT_EQ(random_password(5).size(), 5u);
  auto key = random_fernet_key();
  EXPECT_EQ(key.size(), 44u);
  EXPECT_TRUE(std::regex_match(key, std::regex("^[A-Za-z0-9_-]{43}=$"))) << key;
  EXPECT_TRUE(is_fernet_key("keystone_fernet_key_0"));
  EXPECT_TRUE(is_fernet_key("keystone_credential_key_1"));
  EXPECT_FALSE(is_fernet_key("keystone_admin_password"));
}

TEST(Passwords, KeysComeFromContractAndCharts) {
  auto keys = contract_password_keys();
  for (const char* k :
       {"database_password", "rabbitmq_password", "keystone_admin_password",
        "keystone_fernet_key_0", "keystone_fernet_key_1", "keystone_credential_key_0",
        "keystone_credential_key_1", "glance_keystone_password"}) {
    EXPECT_TRUE(keys.contains(k)) << k;
  }
  auto found = password_keys_in_charts(fs::path(KOLLA_SOURCE_DIR) / "src/chart/testdata/charts");
  EXPECT_EQ(found, (std::set<std::string>{"hooked_database_password", "hooked_keystone_password"}));
  EXPECT_TRUE(password_keys_in_charts("/nonexistent").empty());
}

TEST(Passwords, FillKeepsExistingValues) {
  const char* existing = R"(apiVersion: v1
kind: Secret
metadata: {name: my-passwords, namespace: cloud}
data:
  database_password: c2VjcmV0LWRiLXZhbHVl
stringData:
  keystone_fernet_key_0: "kept-fernet-key-value"
  unrelated_key: "stays too"
)";
  PasswordSecret secret = parse_password_secret(existing, "passwords.yaml");
  EXPECT_EQ(secret.name, "my-passwords");
  EXPECT_EQ(secret.namespace_, "cloud");
  EXPECT_EQ(secret.values.at("database_password"), "secret-db-value");
  // Values read are registered as secrets.
  EXPECT_EQ(kolla::redact("x secret-db-value y").find("secret-db-value"), std::string::npos);

  auto result = fill_passwords(secret, {"database_password", "keystone_fernet_key_0",
                                        "keystone_fernet_key_1", "nova_keystone_password"});
  EXPECT_EQ(result.kept, (std::vector<std::string>{"database_password", "keystone_fernet_key_0"}));
  EXPECT_EQ(result.added,
            (std::vector<std::string>{"keystone_fernet_key_1", "nova_keystone_password"}));
  EXPECT_EQ(result.secret.values.at("database_password"), "secret-db-value");
  EXPECT_EQ(result.secret.values.at("keystone_fernet_key_0"), "kept-fernet-key-value");
  EXPECT_EQ(result.secret.values.at("unrelated_key"), "stays too");
  EXPECT_EQ(result.secret.values.at("keystone_fernet_key_1").size(), 44u);
  EXPECT_EQ(result.secret.values.at("nova_keystone_password").size(), 32u);

  // The manifest reads back to the same values; a second fill adds nothing.
  auto again = parse_password_secret(to_manifest(result.secret), "round-trip");
  EXPECT_EQ(again.values, result.secret.values);
  EXPECT_EQ(again.name, "my-passwords");
  auto second = fill_passwords(again, {"database_password", "nova_keystone_password"});
  EXPECT_TRUE(second.added.empty());
  EXPECT_EQ(second.secret.values, result.secret.values);
}

TEST(Passwords, RejectsWhatIsNotASecret) {
  EXPECT_THROW(parse_password_secret("apiVersion: v1\nkind: ConfigMap\n", "f"), PasswordError);
  EXPECT_THROW(parse_password_secret("apiVersion: v1\nkind: Secret\ndata: {a: \"!!\"}\n", "f"),
               PasswordError);
  EXPECT_THROW(parse_password_secret("a: [\n", "f"), PasswordError);
}

}  // namespace
}  // namespace kolla::chart
