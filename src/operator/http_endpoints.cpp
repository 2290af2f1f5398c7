#include "operator/http_endpoints.hpp"

#include <httplib.h>

#include <stdexcept>

namespace kolla::op {

std::pair<std::string, int> parse_listen_address(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos) throw std::invalid_argument("address without port: " + address);
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.empty()) host = "0.0.0.0";
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  try {
    std::size_t used = 0;
    port = std::stoi(port_text, &used);
    if (used != port_text.size()) port = -1;
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) throw std::invalid_argument("bad port in address: " + address);
  return {host, port};
}

HttpEndpoints::HttpEndpoints(Registry& registry, Checks checks)
    : registry_(registry), checks_(std::move(checks)) {}

HttpEndpoints::~HttpEndpoints() {
  stop();
}

void HttpEndpoints::routes(httplib::Server& server) {
  server.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(registry_.render(), "text/plain; version=0.0.4; charset=utf-8");
  });
  auto check = [](const std::function<bool(std::string&)>& fn, httplib::Response& res) {
    std::string why;
    const bool ok = !fn || fn(why);
    res.status = ok ? 200 : 503;
    res.set_content(ok ? "ok\n" : (why.empty() ? "not ok" : why) + "\n", "text/plain");
  };
  server.Get("/healthz", [this, check](const httplib::Request&, httplib::Response& res) {
    check(checks_.healthy, res);
  });
  server.Get("/readyz", [this, check](const httplib::Request&, httplib::Response& res) {
    check(checks_.ready, res);
  });
}

int HttpEndpoints::listen(const std::string& address) {
  const auto [host, port] = parse_listen_address(address);
  auto server = std::make_unique<httplib::Server>();
  routes(*server);
  int bound = port;
  if (port == 0) {
    bound = server->bind_to_any_port(host);
  } else if (!server->bind_to_port(host, port)) {
    bound = -1;
  }
  if (bound < 0) throw std::runtime_error("cannot listen on " + address);
  httplib::Server* raw = server.get();
  servers_.push_back(std::move(server));
  threads_.emplace_back([raw] { raw->listen_after_bind(); });
  return bound;
}

void HttpEndpoints::stop() {
  for (auto& s : servers_) s->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  servers_.clear();
}

}  // namespace kolla::op
