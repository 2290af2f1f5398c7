#include "kube/kubeconfig.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace kolla::kube {
namespace {

namespace fs = std::filesystem;

constexpr const char* kToken = "abcdef0123456789-very-secret-token";

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kolla-kubeconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }

  fs::path dir_;
};

// "-----BEGIN CERTIFICATE-----\nCA\n" in base64
constexpr const char* kCaData = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCkNBCg==";

std::string two_contexts() {
  return std::string(R"(apiVersion: v1
kind: Config
current-context: admin@local
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority-data: )") +
         kCaData + R"(
- name: other
  cluster:
    server: https://10.0.0.1:443
    insecure-skip-tls-verify: true
contexts:
- name: admin@local
  context: {cluster: local, user: admin, namespace: openstack}
- name: viewer@other
  context: {cluster: other, user: viewer}
users:
- name: admin
  user:
    token: )" +
         kToken + R"(
- name: viewer
  user:
    client-certificate: certs/viewer.crt
    client-key: certs/viewer.key
)";
}

TEST_F(KubeconfigTest, TokenAndInlineCaFromCurrentContext) {
  const auto config = load_kubeconfig_file(write("config", two_contexts()));
  EXPECT_EQ(config.server, "https://127.0.0.1:6443");
  EXPECT_EQ(config.ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n");
  EXPECT_EQ(config.token, kToken);
  EXPECT_EQ(config.namespace_, "openstack");
  EXPECT_EQ(config.context, "admin@local");
  EXPECT_FALSE(config.insecure_skip_tls_verify);
}

TEST_F(KubeconfigTest, ExplicitContextWithCertificateFilesRelativeToTheConfig) {
  fs::create_directories(dir_ / "certs");
  write("certs/viewer.crt", "CERT PEM");
  write("certs/viewer.key", "KEY PEM");
  const auto config = load_kubeconfig_file(write("config", two_contexts()), "viewer@other");
  EXPECT_EQ(config.server, "https://10.0.0.1:443");
  EXPECT_TRUE(config.insecure_skip_tls_verify);
  EXPECT_EQ(config.client_cert_pem, "CERT PEM");
  EXPECT_EQ(config.client_key_pem, "KEY PEM");
  EXPECT_EQ(config.token, "");
  EXPECT_EQ(config.namespace_, "default");
}

TEST_F(KubeconfigTest, InlineClientCertificateAndTokenFile) {
  const auto token_file = write("token", std::string(kToken) + "\n");
  const auto config = load_kubeconfig_file(write("config", R"(
current-context: c
clusters: [{name: k, cluster: {server: "127.0.0.1:6443"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users:
- name: u
  user:
    tokenFile: token
    client-certificate-data: Q0VSVA==
    client-key-data: S0VZ
)"));
  EXPECT_EQ(config.server, "https://127.0.0.1:6443");
  EXPECT_EQ(config.token, kToken);
  EXPECT_EQ(config.token_file, token_file);
  EXPECT_EQ(config.client_cert_pem, "CERT");
  EXPECT_EQ(config.client_key_pem, "KEY");
}

void expect_error(const std::function<void()>& load, const std::vector<std::string>& parts) {
  try {
    load();
    FAIL() << "no error";
  } catch (const KubeConfigError& e) {
    const std::string message = e.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << message << " lacks " << part;
    }
    EXPECT_EQ(message.find(kToken), std::string::npos) << "token leaked: " << message;
  }
}

TEST_F(KubeconfigTest, BrokenFilesNameFileAndField) {
  const auto no_server = write("no-server", std::string(R"(
current-context: c
clusters: [{name: k, cluster: {certificate-authority-data: )") +
                                                kCaData + R"(}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {token: )" + kToken + "}}]\n");
  expect_error([&] { load_kubeconfig_file(no_server); },
               {no_server, "clusters[name=k].cluster.server is missing"});

  const auto bad_base64 = write("bad-b64", std::string(R"(
current-context: c
clusters: [{name: k, cluster: {server: https://h:1, certificate-authority-data: "@@@"}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {token: )") + kToken + "}}]\n");
  expect_error([&] { load_kubeconfig_file(bad_base64); },
               {bad_base64, "certificate-authority-data is not valid base64"});

  const auto config = write("config", two_contexts());
  expect_error([&] { load_kubeconfig_file(config, "nope"); },
               {config, "contexts: no entry named 'nope'"});

  const auto no_key = write("no-key", R"(
current-context: c
clusters: [{name: k, cluster: {server: https://h:1}}]
contexts: [{name: c, context: {cluster: k, user: u}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]
)");
  expect_error([&] { load_kubeconfig_file(no_key); }, {no_key, "no client-key"});

  const auto missing_ca = write("missing-ca", R"(
current-context: c
clusters: [{name: k, cluster: {server: https://h:1, certificate-authority: /nonexistent/ca.crt}}]
contexts: [{name: c, context: {cluster: k}}]
)");
  expect_error([&] { load_kubeconfig_file(missing_ca); },
               {missing_ca, "certificate-authority: cannot read /nonexistent/ca.crt"});

  const auto not_yaml = write("not-yaml", std::string("users: [\n  token: ") + kToken + "\n: :");
  expect_error([&] { load_kubeconfig_file(not_yaml); }, {not_yaml, "not valid YAML"});

  const auto no_current = write("no-current", "clusters: []\n");
  expect_error([&] { load_kubeconfig_file(no_current); }, {no_current, "current-context"});

  expect_error([&] { load_kubeconfig_file((dir_ / "absent").string()); },
               {(dir_ / "absent").string(), "no such file"});
}

TEST_F(KubeconfigTest, KubeconfigEnvironmentFirstEntryAndExplicitPath) {
  const auto config_path = write("config", two_contexts());
  fs::create_directories(dir_ / "certs");
  write("certs/viewer.crt", "CERT PEM");
  write("certs/viewer.key", "KEY PEM");
  ::setenv("KUBECONFIG", (config_path + ":/nonexistent/second").c_str(), 1);
  const auto from_env = load_kubeconfig();
  EXPECT_EQ(from_env.source, config_path);
  ::unsetenv("KUBECONFIG");
  const auto explicit_path = load_kubeconfig({config_path, "viewer@other"});
  EXPECT_EQ(explicit_path.context, "viewer@other");
}

TEST_F(KubeconfigTest, InCluster) {
  write("token", std::string(kToken) + "\n");
  write("ca.crt", "CA PEM");
  write("namespace", "openstack\n");
  ::setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  ::setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  const auto config = load_in_cluster(dir_.string());
  EXPECT_EQ(config.server, "https://10.96.0.1:443");
  EXPECT_EQ(config.token, kToken);
  EXPECT_EQ(config.ca_pem, "CA PEM");
  EXPECT_EQ(config.namespace_, "openstack");
  EXPECT_EQ(config.source, "in-cluster");

  ::setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  EXPECT_EQ(load_in_cluster(dir_.string()).server, "https://[fd00::1]:443");

  fs::remove(dir_ / "token");
  expect_error([&] { load_in_cluster(dir_.string()); }, {"in-cluster", "token"});
  ::unsetenv("KUBERNETES_SERVICE_HOST");
  expect_error([&] { load_in_cluster(dir_.string()); }, {"KUBERNETES_SERVICE_HOST"});
  ::unsetenv("KUBERNETES_SERVICE_PORT");
}

}  // namespace
}  // namespace kolla::kube
