#include "cluster/fault_proxy.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "cluster/pki.hpp"

namespace kolla::cluster {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

TEST(FaultSpec, Parses) {
  auto s = parse_fault_spec("error-rate=0.1,latency-ms=50,cut-watch-after=5s");
  EXPECT_DOUBLE_EQ(s.error_rate, 0.1);
  EXPECT_EQ(s.latency, 50ms);
  EXPECT_EQ(s.cut_watch_after, 5000ms);
  EXPECT_EQ(s.error_codes, (std::vector<int>{429, 500, 503}));
  auto t = parse_fault_spec(
      "codes=503+429, retry-after=3,latency-jitter-ms=7,cut-mode=end,watch-errors=false,seed=9");
  EXPECT_EQ(t.error_codes, (std::vector<int>{503, 429}));
  EXPECT_EQ(t.retry_after_seconds, 3);
  EXPECT_EQ(t.latency_jitter, 7ms);
  EXPECT_FALSE(t.cut_abort);
  EXPECT_FALSE(t.errors_on_watch);
  EXPECT_EQ(t.seed, 9u);
  EXPECT_EQ(parse_fault_spec("").error_rate, 0.0);
  EXPECT_THROW(parse_fault_spec("error-rate=2"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("error-rate"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("loss=0.1"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("codes=200"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("cut-mode=maybe"), std::invalid_argument);
  EXPECT_THROW(parse_fault_spec("latency-ms=abc"), std::invalid_argument);
  // Round trip.
  auto back = parse_fault_spec(to_string(t));
  EXPECT_EQ(back.error_codes, t.error_codes);
  EXPECT_EQ(back.latency_jitter, t.latency_jitter);
  EXPECT_EQ(back.seed, t.seed);
}

TEST(FaultSpec, WatchDetection) {
  EXPECT_TRUE(is_watch_request("/api/v1/pods?watch=true"));
  EXPECT_TRUE(is_watch_request("/api/v1/pods?labelSelector=a&watch=1&resourceVersion=5"));
  EXPECT_TRUE(is_watch_request("/api/v1/watch/namespaces/x/pods"));
  EXPECT_FALSE(is_watch_request("/api/v1/pods"));
  EXPECT_FALSE(is_watch_request("/api/v1/pods?watch=false"));
  EXPECT_FALSE(is_watch_request("/api/v1/pods?labelSelector=watch%3Dtrue"));
  EXPECT_FALSE(is_watch_request("/api/v1/namespaces/watch"));
}

TEST(FaultDecider, RatesCodesLatencyAndCuts) {
  FaultSpec spec;
  spec.error_rate = 0.3;
  spec.latency = 10ms;
  spec.latency_jitter = 5ms;
  spec.cut_watch_after = 2000ms;
  spec.seed = 42;
  FaultDecider d(spec);
  std::map<int, int> codes;
  int errors = 0;
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    auto x = d.decide(false);
    EXPECT_GE(x.delay, 10ms);
    EXPECT_LE(x.delay, 15ms);
    EXPECT_EQ(x.cut_after, 0ms);
    if (x.status != 0) {
      ++errors;
      ++codes[x.status];
    }
  }
  EXPECT_NEAR(static_cast<double>(errors) / n, 0.3, 0.03);
  EXPECT_EQ(codes.size(), 3u);
  for (const auto& [code, count] : codes) {
    EXPECT_TRUE(code == 429 || code == 500 || code == 503);
    EXPECT_NEAR(static_cast<double>(count) / errors, 1.0 / 3, 0.05);
  }
  EXPECT_EQ(d.decide(true).cut_after, 2000ms);

  // Same seed, same decisions.
  FaultDecider a(spec), b(spec);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(a.decide(false).status, b.decide(false).status);

  FaultSpec none;
  FaultDecider quiet(none);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(quiet.decide(false).status, 0);

  FaultSpec always;
  always.error_rate = 1;
  always.errors_on_watch = false;
  FaultDecider w(always);
  EXPECT_NE(w.decide(false).status, 0);
  EXPECT_EQ(w.decide(true).status, 0);
  EXPECT_NE(injected_status_body(429).find("\"reason\":\"TooManyRequests\""), std::string::npos);
}

// A TLS upstream that demands a client certificate, and the proxy in front of it.
class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kolla-proxy-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto ca = CertificateAuthority::create("ca");
    write_file(path("ca.crt"), ca.pem().cert_pem);
    CertRequest server;
    server.common_name = "server";
    server.server = true;
    server.ip_addresses = {"127.0.0.1"};
    server.dns_names = {"localhost"};
    auto up = ca.issue(server);
    write_file(path("up.crt"), up.cert_pem);
    write_file(path("up.key"), up.key_pem);
    auto px = ca.issue(server);
    write_file(path("px.crt"), px.cert_pem);
    write_file(path("px.key"), px.key_pem);
    CertRequest client;
    client.common_name = "admin";
    client.client = true;
    auto cl = ca.issue(client);
    write_file(path("cl.crt"), cl.cert_pem);
    write_file(path("cl.key"), cl.key_pem);

    upstream_ = std::make_unique<httplib::SSLServer>(path("up.crt").c_str(), path("up.key").c_str(),
                                                     path("ca.crt").c_str());
    ASSERT_TRUE(upstream_->is_valid());
    upstream_->Get(
        "/api/v1/namespaces", [this](const httplib::Request& req, httplib::Response& res) {
          if (req.has_param("watch")) {
            res.set_chunked_content_provider("application/json", [this](size_t,
                                                                        httplib::DataSink& sink) {
              for (int i = 0; i < 30 && !stop_; ++i) {
                std::string ev = R"({"type":"ADDED","object":{"n":)" + std::to_string(i) + "}}\n";
                if (!sink.write(ev.data(), ev.size())) return false;
                std::this_thread::sleep_for(100ms);
              }
              sink.done();
              return true;
            });
            return;
          }
          res.set_header("X-Upstream", "yes");
          res.set_content(R"({"kind":"NamespaceList","items":[]})", "application/json");
        });
    upstream_->Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 201;
      res.set_content(req.body + "|" + req.get_header_value("X-Test") + "|" + req.target,
                      "text/plain");
    });
    up_port_ = upstream_->bind_to_any_port("127.0.0.1");
    up_thread_ = std::thread([this] { upstream_->listen_after_bind(); });
  }

  void TearDown() override {
    stop_ = true;
    proxy_.reset();
    upstream_->stop();
    up_thread_.join();
    fs::remove_all(dir_);
  }

  std::string path(const std::string& f) const { return (dir_ / f).string(); }

  void start_proxy(const std::string& spec) {
    FaultProxyOptions o;
    o.upstream = "https://127.0.0.1:" + std::to_string(up_port_);
    o.upstream_tls = {path("ca.crt"), path("cl.crt"), path("cl.key")};
    o.serve_cert = path("px.crt");
    o.serve_key = path("px.key");
    o.spec = parse_fault_spec(spec);
    proxy_ = std::make_unique<FaultProxy>(o);
    proxy_->start();
  }

  std::unique_ptr<httplib::SSLClient> client() {
    auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", proxy_->port());
    c->set_ca_cert_path(path("ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    c->set_read_timeout(10s);
    return c;
  }

  fs::path dir_;
  std::unique_ptr<httplib::SSLServer> upstream_;
  std::thread up_thread_;
  int up_port_ = 0;
  std::atomic<bool> stop_{false};
  std::unique_ptr<FaultProxy> proxy_;
};

TEST_F(ProxyTest, ForwardsRequestsWithTheClientCertificate) {
  start_proxy("");
  auto c = client();
  auto r = c->Get("/api/v1/namespaces");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"kind":"NamespaceList","items":[]})");
  EXPECT_EQ(r->get_header_value("X-Upstream"), "yes");
  auto p = c->Post("/echo?a=b%20c", httplib::Headers{{"X-Test", "t1"}}, "payload", "text/plain");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, 201);
  EXPECT_EQ(p->body, "payload|t1|/echo?a=b%20c");
  EXPECT_EQ(proxy_->stats().requests, 2u);
  EXPECT_EQ(proxy_->stats().injected_errors, 0u);
}

TEST_F(ProxyTest, ACallerWithATokenIsNotGivenTheProxysCertificate) {
  start_proxy("");
  auto c = client();
  // This upstream accepts only client certificates: a caller who brings its own credentials
  // (a bearer token) reaches it without the proxy's certificate, and is turned away.
  auto r = c->Get("/api/v1/namespaces", httplib::Headers{{"Authorization", "Bearer t0ken"}});
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 502);
  EXPECT_EQ(r->body.find("t0ken"), std::string::npos);
  EXPECT_EQ(c->Get("/api/v1/namespaces")->status, 200);
}

TEST_F(ProxyTest, StreamsWatchesAndCutsThem) {
  start_proxy("cut-watch-after=700ms");
  auto c = client();
  std::string body;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration first{};
  auto r = c->Get("/api/v1/namespaces?watch=true", [&](const char* data, size_t n) {
    if (body.empty()) first = std::chrono::steady_clock::now() - t0;
    body.append(data, n);
    return true;
  });
  auto total = std::chrono::steady_clock::now() - t0;
  // The first event arrives long before the upstream would have finished (3 s): streamed.
  EXPECT_LT(first, 500ms);
  EXPECT_GE(total, 600ms);
  EXPECT_LT(total, 2500ms);
  auto events = std::count(body.begin(), body.end(), '\n');
  EXPECT_GE(events, 3);
  EXPECT_LT(events, 30);
  EXPECT_EQ(proxy_->stats().cut_watches, 1u);
  (void)r;
}

TEST_F(ProxyTest, WatchWithoutCutRunsToTheEnd) {
  start_proxy("cut-mode=end");
  auto c = client();
  std::string body;
  auto r = c->Get("/api/v1/namespaces?watch=1", [&](const char* data, size_t n) {
    body.append(data, n);
    return true;
  });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 30);
}

TEST_F(ProxyTest, InjectsErrorsWithRetryAfter) {
  start_proxy("error-rate=1,codes=429,retry-after=2,latency-ms=100");
  auto c = client();
  auto t0 = std::chrono::steady_clock::now();
  auto r = c->Get("/api/v1/namespaces");
  ASSERT_TRUE(r);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->get_header_value("Retry-After"), "2");
  EXPECT_NE(r->body.find("TooManyRequests"), std::string::npos);
  EXPECT_EQ(proxy_->stats().injected_errors, 1u);
  auto h = c->Get("/__kolla/fault-proxy/healthz");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->status, 200);
  auto stats = c->Get("/__kolla/fault-proxy/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  EXPECT_EQ(stats->body, R"({"requests":1,"injectedErrors":1,"cutWatches":0})");
}

}  // namespace
}  // namespace kolla::cluster
