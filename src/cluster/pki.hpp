#pragma once
// The local cluster's PKI: a CA, serving and client certificates (ECDSA P-256, SHA-256) and the
// service-account signing key. Private keys never reach a log.

#include <memory>
#include <string>
#include <vector>

namespace kolla::cluster {

struct CertRequest {
  std::string common_name;
  std::vector<std::string> organizations;  // O=, e.g. system:masters
  std::vector<std::string> dns_names;      // subjectAltName DNS
  std::vector<std::string> ip_addresses;   // subjectAltName IP
  bool server = false;                     // extendedKeyUsage serverAuth
  bool client = false;                     // extendedKeyUsage clientAuth
  int days = 3650;
};

struct CertAndKey {
  std::string cert_pem;
  std::string key_pem;
};

class CertificateAuthority {
 public:
  // A new self-signed CA.
  static CertificateAuthority create(const std::string& common_name);
  // The CA from PEM text. Throws std::runtime_error when they do not parse.
  static CertificateAuthority load(const std::string& cert_pem, const std::string& key_pem);

  CertAndKey issue(const CertRequest& request) const;
  const CertAndKey& pem() const { return pem_; }

  CertificateAuthority(CertificateAuthority&&) noexcept;
  CertificateAuthority& operator=(CertificateAuthority&&) noexcept;
  ~CertificateAuthority();

 private:
  struct Impl;
  explicit CertificateAuthority(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  CertAndKey pem_;
};

// A new ECDSA P-256 key pair: private key (PKCS#8 PEM) and public key (SubjectPublicKeyInfo PEM).
struct KeyPairPem {
  std::string private_pem;
  std::string public_pem;
};
KeyPairPem generate_key_pair();

// Base64 (no line breaks), as kubeconfig *-data fields want it.
std::string base64(const std::string& data);

// Writes `content` to `path` with the given mode, atomically (temp file + rename).
void write_file(const std::string& path, const std::string& content, unsigned mode = 0644);
std::string read_file(const std::string& path);

}  // namespace kolla::cluster
