#include "operator/metrics.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cmath>

#include "operator/http_endpoints.hpp"

namespace kolla::op {
namespace {

TEST(MetricsTest, CounterAndGaugeTextFormat) {
  Registry registry;
  auto& reconciles = registry.counter("kolla_reconcile_total", "Reconciles.");
  reconciles.inc({{"controller", "service"}, {"result", "success"}});
  reconciles.inc({{"controller", "service"}, {"result", "success"}}, 2);
  auto& phases = registry.gauge("kolla_services", "Services by phase.");
  phases.set({{"phase", "Ready"}}, 3);
  phases.set({{"phase", "Progressing"}}, 1.5);
  EXPECT_EQ(registry.render(),
            "# HELP kolla_reconcile_total Reconciles.\n"
            "# TYPE kolla_reconcile_total counter\n"
            "kolla_reconcile_total{controller=\"service\",result=\"success\"} 3\n"
            "# HELP kolla_services Services by phase.\n"
            "# TYPE kolla_services gauge\n"
            "kolla_services{phase=\"Progressing\"} 1.5\n"
            "kolla_services{phase=\"Ready\"} 3\n");
  EXPECT_EQ(reconciles.value({{"controller", "service"}, {"result", "success"}}), 3);
  phases.clear();
  EXPECT_EQ(phases.value({{"phase", "Ready"}}), 0);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry registry;
  auto& h = registry.histogram("d_seconds", "Durations.", {0.1, 1});
  h.observe({}, 0.05);
  h.observe({}, 0.5);
  h.observe({}, 3);
  EXPECT_EQ(registry.render(),
            "# HELP d_seconds Durations.\n"
            "# TYPE d_seconds histogram\n"
            "d_seconds_bucket{le=\"0.1\"} 1\n"
            "d_seconds_bucket{le=\"1\"} 2\n"
            "d_seconds_bucket{le=\"+Inf\"} 3\n"
            "d_seconds_sum 3.55\n"
            "d_seconds_count 3\n");
  EXPECT_EQ(h.count(), 3u);
}

TEST(MetricsTest, RequestCounterMirrorsTheClientCountsAtEachRender) {
  Registry registry;
  std::map<std::string, std::uint64_t> counts = {{"get", 3}, {"list", 1}};
  int collected = 0;
  register_request_counter(registry, [&] {
    ++collected;
    return counts;
  });
  EXPECT_EQ(collected, 0) << "read when rendered, not before";
  EXPECT_EQ(registry.render(),
            "# HELP kolla_operator_kube_requests_total Requests sent to the Kubernetes API server "
            "by verb, retries included (watch = watch starts).\n"
            "# TYPE kolla_operator_kube_requests_total counter\n"
            "kolla_operator_kube_requests_total{verb=\"get\"} 3\n"
            "kolla_operator_kube_requests_total{verb=\"list\"} 1\n");
  EXPECT_EQ(collected, 1);
  counts["get"] = 10;
  counts["patch"] = 2;
  const std::string text = registry.render();
  EXPECT_NE(text.find("kolla_operator_kube_requests_total{verb=\"get\"} 10\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("kolla_operator_kube_requests_total{verb=\"patch\"} 2\n"), std::string::npos)
      << text;
  // A counter never goes down, whatever the source says.
  counts["get"] = 4;
  registry.render();
  EXPECT_EQ(registry.counter(kKubeRequestsMetric, "").value({{"verb", "get"}}), 10);
  EXPECT_THROW(registry.gauge("g", "").set_total({}, 1), std::logic_error);
}

TEST(MetricsTest, EscapingAndValidation) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(format_sample(std::nan("")), "NaN");
  EXPECT_EQ(format_sample(INFINITY), "+Inf");
  EXPECT_EQ(format_sample(42), "42");
  Registry registry;
  EXPECT_THROW(registry.counter("bad-name", ""), std::invalid_argument);
  auto& c = registry.counter("ok_total", "");
  EXPECT_THROW(c.inc({{"le", "x"}}), std::invalid_argument);
  EXPECT_THROW(c.inc({}, -1), std::invalid_argument);
  EXPECT_THROW(c.set({}, 1), std::logic_error);
  EXPECT_THROW(registry.gauge("ok_total", ""), std::invalid_argument);
  EXPECT_EQ(&registry.counter("ok_total", ""), &c);
  EXPECT_THROW(registry.histogram("h", "", {2, 1}), std::invalid_argument);
}

TEST(HttpEndpointsTest, ParsesListenAddresses) {
  EXPECT_EQ(parse_listen_address(":8080"), (std::pair<std::string, int>{"0.0.0.0", 8080}));
  EXPECT_EQ(parse_listen_address("127.0.0.1:9"), (std::pair<std::string, int>{"127.0.0.1", 9}));
  EXPECT_EQ(parse_listen_address("[::1]:80"), (std::pair<std::string, int>{"::1", 80}));
  EXPECT_THROW(parse_listen_address("8080"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address(":http"), std::invalid_argument);
  EXPECT_THROW(parse_listen_address(":70000"), std::invalid_argument);
}

TEST(HttpEndpointsTest, ServesMetricsHealthAndReadiness) {
  Registry registry;
  registry.counter("served_total", "Served.").inc();
  bool ready = false;
  HttpEndpoints endpoints(registry, {nullptr, [&](std::string& why) {
                                       why = "caches not synced";
                                       return ready;
                                     }});
  const int port = endpoints.listen("127.0.0.1:0");
  ASSERT_GT(port, 0);
  httplib::Client client("127.0.0.1", port);
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("served_total 1\n"), std::string::npos);
  EXPECT_NE(metrics->get_header_value("Content-Type").find("text/plain; version=0.0.4"),
            std::string::npos);
  auto health = client.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto notready = client.Get("/readyz");
  ASSERT_TRUE(notready);
  EXPECT_EQ(notready->status, 503);
  EXPECT_EQ(notready->body, "caches not synced\n");
  ready = true;
  auto isready = client.Get("/readyz");
  ASSERT_TRUE(isready);
  EXPECT_EQ(isready->status, 200);
  endpoints.stop();
}

}  // namespace
}  // namespace kolla::op
