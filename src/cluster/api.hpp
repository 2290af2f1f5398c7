#pragma once
// The narrow way the local cluster talks to its API server: HTTPS GETs over libcurl (health,
// readiness, node lists) and object application through real kubectl (server-side apply).
// Both sit behind small interfaces so that the project's REST client can replace them.

#include <chrono>
#include <memory>
#include <string>

namespace kolla::cluster {

struct TlsFiles {
  std::string ca;    // CA bundle to verify the server; empty: do not verify (self-signed probes)
  std::string cert;  // client certificate; empty: none
  std::string key;
};

struct HttpResponse {
  long status = 0;  // 0: no HTTP answer (connection refused, TLS failure, timeout)
  std::string body;
  std::string error;  // curl's message when status is 0
};

// A libcurl handle kept across requests (one connection, kept alive). Not thread-safe: one per
// thread. Never throws for network errors; they show in the result.
class HttpsClient {
 public:
  explicit HttpsClient(TlsFiles tls);
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;
  HttpResponse request(const std::string& method, const std::string& url,
                       const std::string& body = {}, const std::string& content_type = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  TlsFiles tls_;
  void* curl_;
};

// One GET on a fresh connection.
HttpResponse https_get(const std::string& url, const TlsFiles& tls,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5));

// Applies multi-document YAML (server-side apply, field manager "kollakube-cluster").
class ObjectApplier {
 public:
  virtual ~ObjectApplier() = default;
  // Throws std::runtime_error with the tool's message when the server refuses.
  virtual void apply(const std::string& yaml) = 0;
};

// kubectl apply --server-side --force-conflicts -f - with the given kubeconfig.
class KubectlApplier : public ObjectApplier {
 public:
  KubectlApplier(std::string kubectl, std::string kubeconfig)
      : kubectl_(std::move(kubectl)), kubeconfig_(std::move(kubeconfig)) {}
  void apply(const std::string& yaml) override;

 private:
  std::string kubectl_;
  std::string kubeconfig_;
};

}  // namespace kolla::cluster
