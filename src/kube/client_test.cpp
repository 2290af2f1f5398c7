// The client's retry, timeout and error behaviour against a local plain-HTTP server that
// answers 429/5xx or stalls on purpose (faults a real API server cannot be asked for).
// The verbs themselves are tested against a real API server in client_e2e_test.cpp.

#include "kube/client.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace kolla::kube {
namespace {

using namespace std::chrono_literals;

constexpr const char* kResources = R"({"kind":"APIResourceList","groupVersion":"v1","resources":[
  {"name":"configmaps","namespaced":true,"kind":"ConfigMap","verbs":["create","get","list"]},
  {"name":"pods","namespaced":true,"kind":"Pod","verbs":["get"]},
  {"name":"pods/status","namespaced":true,"kind":"Pod","verbs":["get","update"]},
  {"name":"nodes","namespaced":false,"kind":"Node","verbs":["get"]}]})";

class FaultServer {
 public:
  FaultServer() {
    server_.Get("/api/v1", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(kResources, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ~FaultServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Server& server() { return server_; }
  KubeConfig config() const {
    KubeConfig config;
    config.server = "http://127.0.0.1:" + std::to_string(port_);
    config.token = "unit-test-token-123456";
    return config;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

ClientOptions fast_retries(int retries) {
  ClientOptions options;
  options.max_retries = retries;
  options.retry_backoff = {10ms, 50ms, 2.0, 0.0};
  options.timeout = 2s;
  return options;
}

TEST(ClientTest, DiscoveryParsesResourcesAndSubresources) {
  const auto list = Discovery::parse_resource_list(json::parse(kResources));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[1].gvr.resource, "pods");
  EXPECT_EQ(list[1].subresources, std::vector<std::string>{"status"});
  EXPECT_FALSE(list[2].namespaced);
}

TEST(ClientTest, RetriesServerErrorsThenSucceeds) {
  FaultServer fake;
  std::atomic<int> calls{0};
  fake.server().Get("/api/v1/namespaces/ns/configmaps/c", [&](const httplib::Request& req,
                                                              httplib::Response& res) {
    EXPECT_EQ(req.get_header_value("Authorization"), "Bearer unit-test-token-123456");
    if (++calls < 3) {
      res.status = 503;
      res.set_content(R"({"kind":"Status","message":"not ready","code":503})", "application/json");
      return;
    }
    res.set_content(R"({"metadata":{"name":"c"}})", "application/json");
  });
  Client client(fake.config(), fast_retries(5));
  const auto object = client.get(gvk::kConfigMap, "ns", "c");
  EXPECT_EQ(object["metadata"]["name"], "c");
  EXPECT_EQ(object["kind"], "ConfigMap");  // filled in from the GVK
  EXPECT_EQ(calls.load(), 3);
  EXPECT_EQ(client.request_counts().at("get"), 3u);
  EXPECT_EQ(client.request_counts().at("discovery"), 1u);
}

TEST(ClientTest, HonoursRetryAfterOn429) {
  FaultServer fake;
  std::atomic<int> calls{0};
  fake.server().Get("/api/v1/nodes/n", [&](const httplib::Request&, httplib::Response& res) {
    if (++calls == 1) {
      res.status = 429;
      res.set_header("Retry-After", "1");
      res.set_content(R"({"kind":"Status","reason":"TooManyRequests","message":"slow"})",
                      "application/json");
      return;
    }
    res.set_content(R"({"metadata":{"name":"n"}})", "application/json");
  });
  Client client(fake.config(), fast_retries(3));
  const auto begin = std::chrono::steady_clock::now();
  client.get(gvk::kNode, "ignored", "n");
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 900ms);  // not the 10 ms backoff
  EXPECT_EQ(calls.load(), 2);
}

TEST(ClientTest, GivesUpAfterMaxRetriesWithTheServerMessage) {
  FaultServer fake;
  std::atomic<int> calls{0};
  fake.server().Get(
      "/api/v1/namespaces/ns/configmaps/c", [&](const httplib::Request&, httplib::Response& res) {
        ++calls;
        res.status = 500;
        res.set_content(R"({"kind":"Status","reason":"InternalError","message":"etcd down"})",
                        "application/json");
      });
  Client client(fake.config(), fast_retries(2));
  try {
    client.get(gvk::kConfigMap, "ns", "c");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kServerError);
    EXPECT_EQ(std::string(e.what()), "GET /api/v1/namespaces/ns/configmaps/c: etcd down");
  }
  EXPECT_EQ(calls.load(), 3);
}

TEST(ClientTest, DoesNotRetryClientErrors) {
  FaultServer fake;
  std::atomic<int> calls{0};
  fake.server().Post(
      "/api/v1/namespaces/ns/configmaps", [&](const httplib::Request& req, httplib::Response& res) {
        ++calls;
        EXPECT_EQ(req.get_param_value("fieldManager"), "kolla-kubernetes");
        EXPECT_EQ(req.get_header_value("Content-Type"), "application/json");
        res.status = 409;
        res.set_content(R"({"kind":"Status","reason":"AlreadyExists","message":"exists"})",
                        "application/json");
      });
  Client client(fake.config(), fast_retries(5));
  const json object = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "c"}, {"namespace", "ns"}}}};
  try {
    client.create(object);
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.already_exists());
  }
  EXPECT_EQ(calls.load(), 1);
}

TEST(ClientTest, TimesOutAStalledCall) {
  FaultServer fake;
  fake.server().Get("/api/v1/namespaces/ns/configmaps/slow",
                    [](const httplib::Request&, httplib::Response& res) {
                      std::this_thread::sleep_for(1500ms);
                      res.set_content("{}", "application/json");
                    });
  ClientOptions options = fast_retries(0);
  options.timeout = 300ms;
  Client client(fake.config(), options);
  client.resolve(gvk::kConfigMap);
  const auto begin = std::chrono::steady_clock::now();
  try {
    client.get(gvk::kConfigMap, "ns", "slow");
    FAIL() << "no timeout";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kTimeout) << e.what();
    EXPECT_TRUE(e.retryable());
  }
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1200ms);
}

TEST(ClientTest, ConnectionRefusedIsRetriedThenReported) {
  KubeConfig config;
  config.server = "https://127.0.0.1:1";
  config.token = "unit-test-token-123456";
  Client client(config, fast_retries(2));
  try {
    client.get(gvk::kConfigMap, "ns", "c");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConnection);
    EXPECT_EQ(e.http_status(), 0);
    EXPECT_EQ(std::string(e.what()).find("unit-test-token-123456"), std::string::npos);
  }
  EXPECT_EQ(client.total_requests(), 3u);  // discovery: 1 try + 2 retries
}

TEST(ClientTest, WatchParsesTheStreamAndStopsOnError) {
  FaultServer fake;
  fake.server().Get("/api/v1/namespaces/ns/configmaps", [](const httplib::Request& req,
                                                           httplib::Response& res) {
    EXPECT_EQ(req.get_param_value("watch"), "1");
    EXPECT_EQ(req.get_param_value("allowWatchBookmarks"), "true");
    EXPECT_EQ(req.get_param_value("resourceVersion"), "10");
    res.set_content(
        std::string(
            R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"11"}}})") +
            "\n" + R"({"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"12"}}})" + "\n" +
            R"({"type":"ERROR","object":{"kind":"Status","reason":"Expired","code":410,"message":"too old"}})" +
            "\n",
        "application/json");
  });
  Client client(fake.config(), fast_retries(0));
  WatchOptions options;
  options.resource_version = "10";
  std::vector<WatchEventType> types;
  try {
    client.watch(gvk::kConfigMap, "ns", options, [&](const WatchEvent& event) {
      types.push_back(event.type);
      return true;
    });
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.gone()) << e.what();
  }
  EXPECT_EQ(types,
            (std::vector<WatchEventType>{WatchEventType::kAdded, WatchEventType::kBookmark}));
}

TEST(ClientTest, AWatchRefusedBeforeAnyEventIsAskedAgain) {
  FaultServer fake;
  std::atomic<int> calls{0};
  fake.server().Get(
      "/api/v1/namespaces/ns/configmaps", [&](const httplib::Request&, httplib::Response& res) {
        if (++calls == 1) {
          res.status = 503;
          res.set_content(R"({"kind":"Status","reason":"ServiceUnavailable","code":503})",
                          "application/json");
          return;
        }
        res.set_content(R"({"type":"ADDED","object":{"metadata":{"name":"a"}}})"
                        "\n",
                        "application/json");
      });
  Client client(fake.config(), fast_retries(3));
  std::size_t seen = 0;
  const auto result = client.watch(gvk::kConfigMap, "ns", {}, [&](const WatchEvent&) {
    ++seen;
    return true;
  });
  EXPECT_EQ(calls.load(), 2);
  EXPECT_EQ(seen, 1u);
  EXPECT_FALSE(result.cancelled);
}

// A create answered 500 may have landed: its retry meets AlreadyExists, and the object is read
// back. It is ours when our field manager created it and it holds what we sent.
void serve_create_that_lands_then_fails(FaultServer& fake, const std::string& stored_value) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  fake.server().Post("/api/v1/namespaces/ns/configmaps", [calls](const httplib::Request&,
                                                                 httplib::Response& res) {
    res.status = ++*calls == 1 ? 500 : 409;
    res.set_content(res.status == 500 ? R"({"kind":"Status","reason":"InternalError","code":500})"
                                      : R"({"kind":"Status","reason":"AlreadyExists","code":409})",
                    "application/json");
  });
  fake.server().Get("/api/v1/namespaces/ns/configmaps/c",
                    [stored_value](const httplib::Request&, httplib::Response& res) {
                      const json stored = {{"metadata",
                                            {{"name", "c"},
                                             {"namespace", "ns"},
                                             {"creationTimestamp", "2026-11-26T10:00:00Z"},
                                             {"managedFields",
                                              {{{"manager", "kolla-kubernetes"},
                                                {"operation", "Update"},
                                                {"time", "2026-11-26T10:00:00Z"}}}}}},
                                           {"data", {{"k", stored_value}}}};
                      res.set_content(stored.dump(), "application/json");
                    });
}

json config_map_c() {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", "c"}, {"namespace", "ns"}}},
          {"data", {{"k", "mine"}}}};
}

TEST(ClientTest, ACreateThatMayHaveLandedIsReadBack) {
  FaultServer fake;
  serve_create_that_lands_then_fails(fake, "mine");
  Client client(fake.config(), fast_retries(3));
  EXPECT_EQ(client.create(config_map_c())["data"]["k"], "mine");
  EXPECT_EQ(client.request_counts().at("create"), 2u);
  EXPECT_EQ(client.request_counts().at("get"), 1u);
}

TEST(ClientTest, ASameManagerObjectWithOtherContentIsStillAlreadyExists) {
  FaultServer fake;
  serve_create_that_lands_then_fails(fake, "someone else's");
  Client client(fake.config(), fast_retries(3));
  try {
    client.create(config_map_c());
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.already_exists()) << e.what();
  }
}

}  // namespace
}  // namespace kolla::kube
