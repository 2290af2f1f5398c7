#pragma once
// The operator's HTTP endpoints (cpp-httplib): /metrics (Prometheus text format), /healthz
// (the process is alive) and /readyz (caches synced; a standby replica is ready too).

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "operator/metrics.hpp"

namespace httplib {
class Server;
}

namespace kolla::op {

// ":8080" → {"0.0.0.0", 8080}; "127.0.0.1:9090" → {"127.0.0.1", 9090}. Throws
// std::invalid_argument on a bad address. Port 0 lets the system choose.
std::pair<std::string, int> parse_listen_address(const std::string& address);

class HttpEndpoints {
 public:
  struct Checks {
    std::function<bool(std::string& why)> healthy;  // null: always healthy
    std::function<bool(std::string& why)> ready;    // null: always ready
  };
  HttpEndpoints(Registry& registry, Checks checks);
  ~HttpEndpoints();
  HttpEndpoints(const HttpEndpoints&) = delete;
  HttpEndpoints& operator=(const HttpEndpoints&) = delete;

  // Listens on `address` on a background thread; returns the bound port. Several addresses may
  // be served by one instance (metrics and health on different ports). Throws
  // std::runtime_error when the address cannot be bound.
  int listen(const std::string& address);
  void stop();

 private:
  void routes(httplib::Server& server);
  Registry& registry_;
  Checks checks_;
  std::vector<std::unique_ptr<httplib::Server>> servers_;
  std::vector<std::thread> threads_;
};

}  // namespace kolla::op
