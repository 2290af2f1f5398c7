#pragma once
// A TLS proxy in front of the kube-apiserver that injects faults: a share of requests answered
// 429 (with Retry-After) / 500 / 503, added latency, and watch streams cut after a while. It
// terminates TLS with a certificate of the cluster CA and re-originates every request to the
// API server with its own client certificate (the admin's), or, when the caller sent a bearer
// token, with that token alone (so a restricted ServiceAccount stays restricted); watches stream
// through (chunked). GET /__kolla/fault-proxy/stats answers its counters as JSON (for example
// `kubectl --kubeconfig <state>/kubeconfig-faulty get --raw /__kolla/fault-proxy/stats`).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace kolla::cluster {

// PEM files for one side of a TLS connection.
struct TlsFiles {
  std::string ca;    // CA bundle to verify the peer; empty: do not verify
  std::string cert;  // client certificate; empty: none
  std::string key;
};

struct FaultSpec {
  double error_rate = 0.0;  // share of requests answered with an injected error
  std::vector<int> error_codes{429, 500, 503};
  int retry_after_seconds = 1;                   // Retry-After of injected 429/503
  std::chrono::milliseconds latency{0};          // added before every forwarded request
  std::chrono::milliseconds latency_jitter{0};   // plus a uniform random share up to this
  std::chrono::milliseconds cut_watch_after{0};  // 0: never cut
  bool cut_abort = true;        // cut: drop the connection (true) or end the stream cleanly (false)
  bool errors_on_watch = true;  // watches get injected errors too
  uint64_t seed = 0;            // 0: random
};

// "error-rate=0.1,latency-ms=50,cut-watch-after=5s" plus optional codes=429+503,
// retry-after=2, latency-jitter-ms=20, cut-mode=abort|end, watch-errors=false, seed=42.
// Throws std::invalid_argument naming the bad item.
FaultSpec parse_fault_spec(std::string_view text);
std::string to_string(const FaultSpec& spec);

// True for watch requests: ?watch=true|1 or a /watch/ path.
bool is_watch_request(std::string_view target);

struct FaultDecision {
  int status = 0;  // 0: forward; else answer with this code
  std::chrono::milliseconds delay{0};
  std::chrono::milliseconds cut_after{0};  // watches only; 0: never
};

// The pure decision logic, thread-safe, deterministic for a fixed seed.
class FaultDecider {
 public:
  explicit FaultDecider(FaultSpec spec);
  FaultDecision decide(bool is_watch);
  const FaultSpec& spec() const { return spec_; }

 private:
  FaultSpec spec_;
  std::mutex mutex_;
  std::mt19937_64 rng_;
};

// The body of an injected error: a Kubernetes Status object.
std::string injected_status_body(int code);

struct FaultProxyOptions {
  std::string listen_host = "127.0.0.1";
  int listen_port = 0;     // 0: any free port
  std::string upstream;    // https://host:port of the API server
  TlsFiles upstream_tls;   // CA of the API server, client cert and key presented to it
  std::string serve_cert;  // the proxy's serving certificate and key (PEM files)
  std::string serve_key;
  FaultSpec spec;
};

struct FaultProxyStats {
  uint64_t requests = 0;
  uint64_t injected_errors = 0;
  uint64_t cut_watches = 0;
};

// {"requests":N,"injectedErrors":N,"cutWatches":N}
std::string stats_json(const FaultProxyStats& stats);

class FaultProxy {
 public:
  explicit FaultProxy(FaultProxyOptions options);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  // Binds the port (throws std::runtime_error when it cannot) and serves on a thread.
  void start();
  // Binds and serves on the calling thread until stop().
  void run();
  void stop();
  int port() const { return port_; }
  FaultProxyStats stats() const;

 private:
  struct Impl;
  void bind();
  std::unique_ptr<Impl> impl_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace kolla::cluster
