#include "cluster/pki.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

namespace kolla::cluster {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

[[noreturn]] void fail(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = {0};
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  throw std::runtime_error("pki: " + what + (code != 0 ? std::string(": ") + buf : ""));
}

PKeyPtr new_key() {
  PKeyPtr key(EVP_EC_gen("P-256"));
  if (!key) fail("generating an EC key");
  return key;
}

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr)) {
    fail("writing a private key");
  }
  return bio_string(bio.get());
}

std::string cert_pem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_X509(bio.get(), cert)) fail("writing a certificate");
  return bio_string(bio.get());
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) fail("extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

X509Ptr new_cert(const CertRequest& req, EVP_PKEY* subject_key) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(req.days) * 86400L);
  X509_set_pubkey(cert.get(), subject_key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& o : req.organizations) {
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(o.c_str()), -1, -1, 0);
  }
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(req.common_name.c_str()), -1,
                             -1, 0);
  return cert;
}

}  // namespace

struct CertificateAuthority::Impl {
  PKeyPtr key;
  X509Ptr cert;
};

CertificateAuthority::CertificateAuthority(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  pem_.cert_pem = cert_pem(impl_->cert.get());
  pem_.key_pem = key_pem(impl_->key.get());
}
CertificateAuthority::CertificateAuthority(CertificateAuthority&&) noexcept = default;
CertificateAuthority& CertificateAuthority::operator=(CertificateAuthority&&) noexcept = default;
CertificateAuthority::~CertificateAuthority() = default;

CertificateAuthority CertificateAuthority::create(const std::string& common_name) {
  auto impl = std::make_unique<Impl>();
  impl->key = new_key();
  CertRequest req;
  req.common_name = common_name;
  impl->cert = new_cert(req, impl->key.get());
  X509_set_issuer_name(impl->cert.get(), X509_get_subject_name(impl->cert.get()));
  add_ext(impl->cert.get(), impl->cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_ext(impl->cert.get(), impl->cert.get(), NID_key_usage,
          "critical,digitalSignature,keyCertSign,cRLSign");
  add_ext(impl->cert.get(), impl->cert.get(), NID_subject_key_identifier, "hash");
  if (!X509_sign(impl->cert.get(), impl->key.get(), EVP_sha256())) fail("signing the CA");
  return CertificateAuthority(std::move(impl));
}

CertificateAuthority CertificateAuthority::load(const std::string& cert_text,
                                                const std::string& key_text) {
  auto impl = std::make_unique<Impl>();
  BioPtr cb(BIO_new_mem_buf(cert_text.data(), static_cast<int>(cert_text.size())));
  impl->cert.reset(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
  BioPtr kb(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
  impl->key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
  if (!impl->cert || !impl->key) fail("reading the CA");
  return CertificateAuthority(std::move(impl));
}

CertAndKey CertificateAuthority::issue(const CertRequest& req) const {
  PKeyPtr key = new_key();
  X509Ptr cert = new_cert(req, key.get());
  X509_set_issuer_name(cert.get(), X509_get_subject_name(impl_->cert.get()));
  add_ext(cert.get(), impl_->cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_ext(cert.get(), impl_->cert.get(), NID_key_usage, "critical,digitalSignature");
  std::string eku;
  if (req.server) eku = "serverAuth";
  if (req.client) eku += std::string(eku.empty() ? "" : ",") + "clientAuth";
  if (!eku.empty()) add_ext(cert.get(), impl_->cert.get(), NID_ext_key_usage, eku);
  add_ext(cert.get(), impl_->cert.get(), NID_authority_key_identifier, "keyid:always");
  std::string san;
  for (const auto& d : req.dns_names) san += (san.empty() ? "" : ",") + ("DNS:" + d);
  for (const auto& ip : req.ip_addresses) san += (san.empty() ? "" : ",") + ("IP:" + ip);
  if (!san.empty()) add_ext(cert.get(), impl_->cert.get(), NID_subject_alt_name, san);
  if (!X509_sign(cert.get(), impl_->key.get(), EVP_sha256())) fail("signing " + req.common_name);
  return {cert_pem(cert.get()), key_pem(key.get())};
}

KeyPairPem generate_key_pair() {
  PKeyPtr key = new_key();
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PUBKEY(bio.get(), key.get())) fail("writing a public key");
  return {key_pem(key.get()), bio_string(bio.get())};
}

std::string base64(const std::string& data) {
  std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::system_error(errno, std::generic_category(), "write " + path);
    out << content;
    if (!out.flush()) throw std::system_error(errno, std::generic_category(), "write " + path);
  }
  ::chmod(tmp.c_str(), static_cast<mode_t>(mode));
  std::filesystem::rename(tmp, path);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::system_error(errno, std::generic_category(), "read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace kolla::cluster
