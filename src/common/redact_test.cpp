#include "common/redact.hpp"

#include <gtest/gtest.h>

namespace kolla {
namespace {

TEST(Redact, MasksRegisteredSecrets) {
  register_secret("s3cr3t-value-123");
  EXPECT_EQ(redact("token is s3cr3t-value-123, twice s3cr3t-value-123"), "token is ***, twice ***");
}

TEST(Redact, MasksBearerHeadersAndKeyedValues) {
  EXPECT_EQ(redact("Authorization: Bearer abc.def-ghi"), "Authorization: Bearer ***");
  EXPECT_EQ(redact("password=hunter22 user=admin"), "password=*** user=admin");
  EXPECT_EQ(redact("token: \"xyz123\""), "token: \"***\"");
}

TEST(Redact, MasksUrlPasswords) {
  EXPECT_EQ(redact("rabbit://openstack:pw123@rabbitmq:5672//"),
            "rabbit://openstack:***@rabbitmq:5672//");
  EXPECT_EQ(redact("https://10.0.0.1:6443/api"), "https://10.0.0.1:6443/api");
}

TEST(Redact, IgnoresTinySecrets) {
  register_secret("ab");
  EXPECT_EQ(redact("abc"), "abc");
}

}  // namespace
}  // namespace kolla
