#include "cluster/pki.hpp"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>

namespace kolla::cluster {
namespace {

X509* parse(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

bool verifies(const std::string& ca_pem, const std::string& cert_pem) {
  X509* ca = parse(ca_pem);
  X509* cert = parse(cert_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, cert, nullptr);
  bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(cert);
  X509_free(ca);
  return ok;
}

TEST(Pki, IssuesVerifiableCertificatesWithSans) {
  auto ca = CertificateAuthority::create("test-ca");
  CertRequest r;
  r.common_name = "kube-apiserver";
  r.server = true;
  r.dns_names = {"localhost", "kubernetes.default.svc"};
  r.ip_addresses = {"127.0.0.1"};
  auto server = ca.issue(r);
  EXPECT_TRUE(verifies(ca.pem().cert_pem, server.cert_pem));
  X509* cert = parse(server.cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "kubernetes.default.svc", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_NE(X509_check_ip_asc(cert, "10.0.0.1", 0), 1);
  X509_free(cert);

  // Another CA's certificate does not verify.
  auto other = CertificateAuthority::create("other");
  EXPECT_FALSE(verifies(other.pem().cert_pem, server.cert_pem));
}

TEST(Pki, ClientCertificateCarriesGroup) {
  auto ca = CertificateAuthority::create("test-ca");
  CertRequest r;
  r.common_name = "kolla-admin";
  r.organizations = {"system:masters"};
  r.client = true;
  auto admin = ca.issue(r);
  X509* cert = parse(admin.cert_pem);
  char buf[256];
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_organizationName, buf, sizeof buf);
  EXPECT_STREQ(buf, "system:masters");
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buf, sizeof buf);
  EXPECT_STREQ(buf, "kolla-admin");
  EXPECT_NE(X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT, 0u);
  X509_free(cert);
  EXPECT_NE(admin.key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST(Pki, LoadRoundTripAndKeyPair) {
  auto ca = CertificateAuthority::create("test-ca");
  auto again = CertificateAuthority::load(ca.pem().cert_pem, ca.pem().key_pem);
  CertRequest r;
  r.common_name = "x";
  EXPECT_TRUE(verifies(ca.pem().cert_pem, again.issue(r).cert_pem));
  EXPECT_THROW(CertificateAuthority::load("junk", "junk"), std::runtime_error);
  auto kp = generate_key_pair();
  EXPECT_NE(kp.public_pem.find("BEGIN PUBLIC KEY"), std::string::npos);
  EXPECT_NE(kp.private_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(Pki, Base64AndFiles) {
  EXPECT_EQ(base64(""), "");
  EXPECT_EQ(base64("f"), "Zg==");
  EXPECT_EQ(base64("foobar"), "Zm9vYmFy");
  auto path = (std::filesystem::temp_directory_path() / "kolla-pki-test.txt").string();
  write_file(path, "secret", 0600);
  EXPECT_EQ(read_file(path), "secret");
  EXPECT_EQ(std::filesystem::status(path).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace kolla::cluster
