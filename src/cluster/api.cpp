#include "cluster/api.hpp"

#include <curl/curl.h>

#include <mutex>
#include <stdexcept>

#include "common/process.hpp"
#include "common/redact.hpp"

namespace kolla::cluster {
namespace {

size_t collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpsClient::HttpsClient(TlsFiles tls) : tls_(std::move(tls)) {
  curl_init_once();
  curl_ = curl_easy_init();
}

HttpsClient::~HttpsClient() {
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

HttpResponse HttpsClient::request(const std::string& method, const std::string& url,
                                  const std::string& body, const std::string& content_type,
                                  std::chrono::milliseconds timeout) {
  HttpResponse out;
  CURL* curl = static_cast<CURL*>(curl_);
  if (curl == nullptr) {
    out.error = "curl_easy_init failed";
    return out;
  }
  curl_easy_reset(curl);
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  if (tls_.ca.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CAINFO, tls_.ca.c_str());
  }
  if (!tls_.cert.empty()) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, tls_.cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, tls_.key.c_str());
  }
  curl_slist* headers = nullptr;
  if (method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  if (!content_type.empty()) {
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  }
  CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out.status);
  } else {
    out.error = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  }
  if (headers != nullptr) curl_slist_free_all(headers);
  return out;
}

HttpResponse https_get(const std::string& url, const TlsFiles& tls,
                       std::chrono::milliseconds timeout) {
  HttpsClient client(tls);
  return client.request("GET", url, {}, {}, timeout);
}

void KubectlApplier::apply(const std::string& yaml) {
  RunOptions options;
  options.stdin_data = yaml;
  options.timeout = std::chrono::minutes(5);
  auto result = run_process({kubectl_, "--kubeconfig", kubeconfig_, "apply", "--server-side",
                             "--force-conflicts", "--field-manager=kollakube-cluster", "-f", "-"},
                            options);
  if (!result.ok()) {
    throw std::runtime_error("kubectl apply failed: " +
                             redact(result.err.empty() ? result.out : result.err));
  }
}

}  // namespace kolla::cluster
