// Cluster tests for the client and the informer against a real API server over HTTPS.
// They run when KOLLA_E2E_KUBECONFIG names a kubeconfig (admin rights) and skip otherwise.
// Each test works in its own namespace, deleted at the end.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <random>
#include <thread>

#include "kube/client.hpp"
#include "kube/informer.hpp"

namespace kolla::kube {
namespace {

using namespace std::chrono_literals;

std::string random_suffix() {
  static std::mt19937 rng{std::random_device{}()};
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 6; ++i) out += kChars[rng() % 36];
  return out;
}

json config_map(const std::string& ns, const std::string& name, json data = json::object(),
                json labels = json::object()) {
  json object = {{"apiVersion", "v1"},
                 {"kind", "ConfigMap"},
                 {"metadata", {{"name", name}, {"namespace", ns}}},
                 {"data", data}};
  if (!labels.empty()) object["metadata"]["labels"] = labels;
  return object;
}

ApplyOptions as(const std::string& manager, bool force = false, bool dry_run = false) {
  ApplyOptions options;
  options.field_manager = manager;
  options.force = force;
  options.dry_run = dry_run;
  return options;
}

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return predicate();
}

// A TCP proxy to the API server that can cut a connection after the request went through:
// when armed, it forwards the client's bytes, drops the server's answer and closes the client's
// connection (the server did act on the request). Bytes are forwarded opaquely (TLS stays
// end to end).
class CuttingProxy {
 public:
  CuttingProxy(const std::string& host, int port) : target_port_(port) {
    inet_pton(AF_INET, host.c_str(), &target_);
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    ::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::listen(listener_, 16);
    socklen_t length = sizeof(address);
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~CuttingProxy() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  int port() const { return port_; }
  void arm() { armed_ = true; }
  void cut_all() { cut_all_ = true; }     // closes every open connection
  void refuse(bool on) { refuse_ = on; }  // closes new connections at once
  int cuts() const { return cuts_.load(); }

 private:
  struct Pair {
    int client;
    int server;
    bool cut_on_answer;
  };

  void run() {
    std::vector<Pair> pairs;
    std::vector<char> buffer(65536);
    while (!stop_) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      for (const auto& pair : pairs) {
        fds.push_back({pair.client, POLLIN, 0});
        fds.push_back({pair.server, POLLIN, 0});
      }
      if (cut_all_.exchange(false)) {
        for (const auto& pair : pairs) {
          ::close(pair.client);
          ::close(pair.server);
          cuts_.fetch_add(1);
        }
        pairs.clear();
        continue;
      }
      if (::poll(fds.data(), fds.size(), 100) <= 0) continue;
      const std::size_t polled = pairs.size();  // pairs accepted below are polled next round
      if (fds[0].revents & POLLIN) {
        const int client = ::accept(listener_, nullptr, nullptr);
        if (refuse_) {
          ::close(client);
        } else {
          const int server = ::socket(AF_INET, SOCK_STREAM, 0);
          sockaddr_in address{};
          address.sin_family = AF_INET;
          address.sin_addr = target_;
          address.sin_port = htons(static_cast<std::uint16_t>(target_port_));
          if (::connect(server, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
            pairs.push_back({client, server, false});
          } else {
            ::close(client);
            ::close(server);
          }
        }
      }
      std::vector<Pair> alive(pairs.begin() + static_cast<std::ptrdiff_t>(polled), pairs.end());
      for (std::size_t i = 0; i < polled; ++i) {
        auto pair = pairs[i];
        bool open = true;
        const auto client_events = fds[1 + 2 * i].revents;
        const auto server_events = fds[2 + 2 * i].revents;
        if (client_events & (POLLIN | POLLHUP | POLLERR)) {
          const auto n = ::read(pair.client, buffer.data(), buffer.size());
          if (n <= 0) {
            open = false;
          } else {
            // A request sent while armed: its answer will be dropped.
            if (armed_.exchange(false)) pair.cut_on_answer = true;
            open = ::write(pair.server, buffer.data(), static_cast<std::size_t>(n)) == n;
          }
        }
        if (open && (server_events & (POLLIN | POLLHUP | POLLERR))) {
          const auto n = ::read(pair.server, buffer.data(), buffer.size());
          if (n <= 0 || pair.cut_on_answer) {
            if (pair.cut_on_answer) cuts_.fetch_add(1);
            open = false;
          } else {
            open = ::write(pair.client, buffer.data(), static_cast<std::size_t>(n)) == n;
          }
        }
        if (open) {
          alive.push_back(pair);
        } else {
          ::close(pair.client);
          ::close(pair.server);
        }
      }
      pairs = std::move(alive);
    }
    for (const auto& pair : pairs) {
      ::close(pair.client);
      ::close(pair.server);
    }
  }

  in_addr target_{};
  int target_port_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> armed_{false};
  std::atomic<bool> cut_all_{false};
  std::atomic<bool> refuse_{false};
  std::atomic<int> cuts_{0};
  std::thread thread_;
};

class KubeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* path = std::getenv("KOLLA_E2E_KUBECONFIG");
    if (path == nullptr || *path == '\0') {
      GTEST_SKIP() << "skipped: KOLLA_E2E_KUBECONFIG not set";
    }
    ClientOptions options;
    options.timeout = 20s;
    client_ = Client::from_kubeconfig({path, ""}, options);
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto& c : test) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ns_ = "kube-e2e-" + test.substr(0, 30) + "-" + random_suffix();
    client_->create(
        json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns_}}}});
  }
  void TearDown() override {
    if (!client_) return;
    for (const auto& name : cluster_objects_) {
      try {
        client_->remove_if_exists(name.first, "", name.second);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "cleanup: " << e.what();
      }
    }
    client_->remove_if_exists(gvk::kNamespace, "", ns_);
  }

  std::shared_ptr<Client> client_;
  std::string ns_;
  std::vector<std::pair<GroupVersionKind, std::string>> cluster_objects_;
};

TEST_F(KubeE2E, EveryVerbOnConfigMaps) {
  const auto before = client_->request_counts();
  auto created = client_->create(config_map(ns_, "one", {{"a", "1"}}));
  EXPECT_EQ(created["kind"], "ConfigMap");
  EXPECT_FALSE(created["metadata"]["uid"].get<std::string>().empty());

  auto got = client_->get(gvk::kConfigMap, ns_, "one");
  EXPECT_EQ(got["data"]["a"], "1");
  EXPECT_FALSE(client_->get_optional(gvk::kConfigMap, ns_, "absent"));
  try {
    client_->get(gvk::kConfigMap, ns_, "absent");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.not_found());
    EXPECT_NE(std::string(e.what()).find("\"absent\" not found"), std::string::npos) << e.what();
  }

  got["data"]["b"] = "2";
  auto updated = client_->update(got);
  EXPECT_EQ(updated["data"]["b"], "2");
  EXPECT_NE(updated["metadata"]["resourceVersion"], got["metadata"]["resourceVersion"]);

  auto patched =
      client_->merge_patch(gvk::kConfigMap, ns_, "one", {{"data", {{"a", nullptr}, {"c", "3"}}}});
  EXPECT_FALSE(patched["data"].contains("a"));
  EXPECT_EQ(patched["data"]["c"], "3");

  auto applied = client_->apply(config_map(ns_, "two", {{"x", "y"}}), as("e2e-manager"));
  EXPECT_EQ(applied["data"]["x"], "y");
  bool has_manager = false;
  for (const auto& entry : applied["metadata"]["managedFields"]) {
    has_manager =
        has_manager || (entry["manager"] == "e2e-manager" && entry["operation"] == "Apply");
  }
  EXPECT_TRUE(has_manager);

  try {
    client_->create(config_map(ns_, "one"));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.already_exists()) << e.what();
  }
  try {
    client_->create(config_map(ns_, "Not_Valid"));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalid) << e.what();
    ASSERT_FALSE(e.causes().empty());
    EXPECT_EQ(e.causes()[0].field, "metadata.name");
  }

  DeleteOptions background;
  background.propagation_policy = "Background";
  client_->remove(gvk::kConfigMap, ns_, "one", background);
  EXPECT_FALSE(client_->get_optional(gvk::kConfigMap, ns_, "one"));
  EXPECT_FALSE(client_->remove_if_exists(gvk::kConfigMap, ns_, "one"));
  EXPECT_TRUE(client_->remove_if_exists(gvk::kConfigMap, ns_, "two"));

  const auto after = client_->request_counts();
  const auto delta = [&](const std::string& verb) {
    const auto b = before.count(verb) ? before.at(verb) : 0;
    return after.count(verb) ? after.at(verb) - b : 0;
  };
  EXPECT_GE(delta("create"), 3u);
  EXPECT_GE(delta("get"), 4u);
  EXPECT_GE(delta("update"), 1u);
  EXPECT_GE(delta("patch"), 1u);
  EXPECT_GE(delta("apply"), 1u);
  EXPECT_GE(delta("delete"), 3u);
  EXPECT_GT(client_->total_requests(), 0u);
}

TEST_F(KubeE2E, SelectorsAndPagination) {
  for (int i = 0; i < 7; ++i) {
    client_->create(
        config_map(ns_, "cm-" + std::to_string(i), {}, {{"tier", i % 2 == 0 ? "even" : "odd"}}));
  }
  ListOptions by_label;
  by_label.label_selector = "tier=even";
  EXPECT_EQ(client_->list(gvk::kConfigMap, ns_, by_label).items.size(), 4u);
  ListOptions by_field;
  by_field.field_selector = "metadata.name=cm-3";
  const auto one = client_->list(gvk::kConfigMap, ns_, by_field);
  ASSERT_EQ(one.items.size(), 1u);
  EXPECT_EQ(one.items[0]["metadata"]["name"], "cm-3");
  EXPECT_EQ(one.items[0]["kind"], "ConfigMap");

  ListOptions paged;
  paged.label_selector = "tier";
  paged.limit = 2;
  const auto all = client_->list(gvk::kConfigMap, ns_, paged);
  EXPECT_EQ(all.items.size(), 7u);
  EXPECT_FALSE(all.resource_version.empty());
  EXPECT_TRUE(all.continue_token.empty());

  paged.all_pages = false;
  auto page = client_->list(gvk::kConfigMap, ns_, paged);
  EXPECT_EQ(page.items.size(), 2u);
  ASSERT_FALSE(page.continue_token.empty());
  std::size_t seen = page.items.size();
  while (!page.continue_token.empty()) {
    paged.continue_token = page.continue_token;
    page = client_->list(gvk::kConfigMap, ns_, paged);
    seen += page.items.size();
  }
  EXPECT_EQ(seen, 7u);
}

TEST_F(KubeE2E, UpdateWithStaleResourceVersionConflicts) {
  const auto original = client_->create(config_map(ns_, "c", {{"v", "0"}}));
  auto first = original;
  first["data"]["v"] = "1";
  client_->update(first);
  auto stale = original;
  stale["data"]["v"] = "2";
  try {
    client_->update(stale);
    FAIL() << "no conflict";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict) << e.what();
    EXPECT_EQ(e.http_status(), 409);
  }
  EXPECT_EQ(client_->get(gvk::kConfigMap, ns_, "c")["data"]["v"], "1");
}

TEST_F(KubeE2E, ServerSideApplyConflictAndForce) {
  client_->apply(config_map(ns_, "shared", {{"owner", "first"}}), as("manager-one"));
  // Applying the same value by another manager is not a conflict (shared ownership).
  client_->apply(config_map(ns_, "shared", {{"owner", "first"}}), as("manager-two"));
  try {
    client_->apply(config_map(ns_, "shared", {{"owner", "second"}}), as("manager-three"));
    FAIL() << "no conflict";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict) << e.what();
    EXPECT_FALSE(e.causes().empty());
  }
  const auto force = as("manager-three", true);
  const auto forced = client_->apply(config_map(ns_, "shared", {{"owner", "second"}}), force);
  EXPECT_EQ(forced["data"]["owner"], "second");
  // dry run changes nothing
  const auto dry = as("manager-three", true, true);
  client_->apply(config_map(ns_, "shared", {{"owner", "third"}}), dry);
  EXPECT_EQ(client_->get(gvk::kConfigMap, ns_, "shared")["data"]["owner"], "second");
}

TEST_F(KubeE2E, DeletePreconditions) {
  const auto created = client_->create(config_map(ns_, "d"));
  DeleteOptions wrong_uid;
  wrong_uid.precondition_uid = "00000000-0000-0000-0000-000000000000";
  try {
    client_->remove(gvk::kConfigMap, ns_, "d", wrong_uid);
    FAIL() << "no conflict";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConflict) << e.what();
  }
  DeleteOptions right;
  right.precondition_uid = created["metadata"]["uid"];
  right.precondition_resource_version = created["metadata"]["resourceVersion"];
  right.grace_period_seconds = 0;
  right.propagation_policy = "Background";
  client_->remove(gvk::kConfigMap, ns_, "d", right);
  EXPECT_TRUE(eventually([&] { return !client_->get_optional(gvk::kConfigMap, ns_, "d"); }));
}

TEST_F(KubeE2E, WatchSeesEventsAndIsCancellable) {
  const auto start = client_->list(gvk::kConfigMap, ns_);
  CancelToken cancel;
  std::mutex mutex;
  std::vector<std::pair<WatchEventType, std::string>> events;
  WatchResult result;
  std::thread watcher([&] {
    WatchOptions options;
    options.resume = true;  // cut streams (e.g. behind the fault proxy) are not the subject here
    options.resource_version = start.resource_version;
    options.cancel = &cancel;
    options.timeout_seconds = 60;
    result = client_->watch(gvk::kConfigMap, ns_, options, [&](const WatchEvent& event) {
      std::lock_guard lock(mutex);
      // Only ours: the controller-manager adds kube-root-ca.crt to new namespaces at its own pace.
      const std::string name = event.object["metadata"].value("name", "");
      if (event.type != WatchEventType::kBookmark && name == "w") {
        events.emplace_back(event.type, name);
      }
      return true;
    });
  });
  auto cm = client_->create(config_map(ns_, "w"));
  cm["data"] = {{"k", "v"}};
  client_->update(cm);
  client_->remove(gvk::kConfigMap, ns_, "w");
  EXPECT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return events.size() >= 3;
  }));
  const auto cancel_started = std::chrono::steady_clock::now();
  cancel.cancel();
  watcher.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancel_started, 1s);
  EXPECT_TRUE(result.cancelled);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0], std::make_pair(WatchEventType::kAdded, std::string("w")));
  EXPECT_EQ(events[1].first, WatchEventType::kModified);
  EXPECT_EQ(events[2].first, WatchEventType::kDeleted);
}

TEST_F(KubeE2E, WatchResumesFromLastResourceVersionAfterACut) {
  const auto start = client_->list(gvk::kConfigMap, ns_);
  client_->create(config_map(ns_, "before-cut"));
  // The first stream is cut after one event (the handler stops it).
  WatchOptions options;
  options.resume = true;
  options.resource_version = start.resource_version;
  options.timeout_seconds = 30;
  const auto first = client_->watch(gvk::kConfigMap, ns_, options, [](const WatchEvent& event) {
    return event.type == WatchEventType::kBookmark;  // stop at the first real event
  });
  EXPECT_EQ(first.events, 1u);
  ASSERT_FALSE(first.resource_version.empty());
  client_->create(config_map(ns_, "after-cut"));
  // Resuming from the last version sees only what happened after it.
  options.resource_version = first.resource_version;
  std::vector<std::string> names;
  client_->watch(gvk::kConfigMap, ns_, options, [&](const WatchEvent& event) {
    if (event.type == WatchEventType::kBookmark) return true;
    names.push_back(event.object["metadata"]["name"]);
    return false;
  });
  EXPECT_EQ(names, std::vector<std::string>{"after-cut"});
  // A server-side timeout ends the stream normally.
  options.timeout_seconds = 1;
  const auto begin = std::chrono::steady_clock::now();
  const auto timed_out =
      client_->watch(gvk::kConfigMap, ns_, options, [](const WatchEvent&) { return true; });
  EXPECT_FALSE(timed_out.cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST_F(KubeE2E, WatchFromAVeryOldResourceVersionIsGone) {
  // Revision 1 is gone once the API server has compacted etcd (--etcd-compaction-interval,
  // 5 minutes by default); before that the server replays history from it.
  WatchOptions options;
  options.resume = true;  // a cut is retried; only 410 ends it
  options.resource_version = "1";
  options.timeout_seconds = 5;
  std::size_t replayed = 0;
  try {
    client_->watch(gvk::kConfigMap, ns_, options, [&](const WatchEvent& event) {
      replayed += event.type == WatchEventType::kBookmark ? 0 : 1;
      return false;
    });
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.gone()) << to_string(e.code()) << ": " << e.what();
    EXPECT_EQ(e.http_status(), 410);
    return;
  }
  GTEST_SKIP() << "etcd not compacted yet: the server replayed " << replayed
               << " event(s) from revision 1";
}

TEST_F(KubeE2E, InformerFollowsChangesAndSurvivesRewatches) {
  client_->create(config_map(ns_, "pre", {}, {{"app", "x"}}));
  client_->create(config_map(ns_, "other", {}, {{"app", "y"}}));
  InformerOptions options;
  options.namespace_ = ns_;
  options.label_selector = "app=x";
  options.watch_timeout_seconds = 1;  // the server ends each watch after 1s: many re-watches
  options.page_size = 1;
  Informer informer(client_, gvk::kConfigMap, options);
  std::atomic<int> adds{0}, updates{0}, deletes{0};
  informer.add_handlers({[&](const ObjectPtr&) { ++adds; },
                         [&](const ObjectPtr&, const ObjectPtr&) { ++updates; },
                         [&](const ObjectPtr&) { ++deletes; }});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  EXPECT_TRUE(informer.has_synced());
  EXPECT_EQ(informer.store().size(), 1u);
  EXPECT_NE(informer.store().get(ns_, "pre"), nullptr);

  std::this_thread::sleep_for(1500ms);  // at least one watch renewal
  auto created = client_->create(config_map(ns_, "new", {}, {{"app", "x"}}));
  EXPECT_TRUE(eventually([&] { return informer.store().get(ns_, "new") != nullptr; }));
  created["data"] = {{"k", "v"}};
  client_->update(created);
  EXPECT_TRUE(eventually([&] {
    auto object = informer.store().get(ns_, "new");
    return object && object->value("data", json::object()).value("k", "") == "v";
  }));
  client_->remove(gvk::kConfigMap, ns_, "pre");
  EXPECT_TRUE(eventually([&] { return informer.store().get(ns_, "pre") == nullptr; }));
  EXPECT_EQ(adds.load(), 2);
  EXPECT_EQ(updates.load(), 1);
  EXPECT_EQ(deletes.load(), 1);
  informer.stop();
}

TEST_F(KubeE2E, InformerStoresWhatItsTransformKeeps) {
  client_->create(config_map(ns_, "listed", {{"big", std::string(4096, 'x')}}, {{"app", "t"}}));
  InformerOptions options;
  options.namespace_ = ns_;
  options.label_selector = "app=t";
  options.transform = [](json& object) { object.erase("data"); };
  Informer informer(client_, gvk::kConfigMap, options);
  std::atomic<int> updates{0};
  informer.add_handlers({nullptr,
                         [&](const ObjectPtr&, const ObjectPtr& now) {
                           if (!now->contains("data")) ++updates;
                         },
                         nullptr});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  auto listed = informer.store().get(ns_, "listed");  // from the list
  ASSERT_NE(listed, nullptr);
  EXPECT_FALSE(listed->contains("data"));
  auto watched = client_->create(config_map(ns_, "watched", {{"k", "v"}}, {{"app", "t"}}));
  ASSERT_TRUE(eventually([&] { return informer.store().get(ns_, "watched") != nullptr; }));
  EXPECT_FALSE(informer.store().get(ns_, "watched")->contains("data"));  // from the watch
  watched["data"] = {{"k", "w"}};
  client_->update(watched);
  EXPECT_TRUE(eventually([&] { return updates.load() == 1; }));  // changes still seen
  informer.stop();
}

TEST_F(KubeE2E, RestrictedServiceAccountIsForbidden) {
  client_->create(json{{"apiVersion", "v1"},
                       {"kind", "ServiceAccount"},
                       {"metadata", {{"name", "reader"}, {"namespace", ns_}}}});
  client_->create(
      json{{"apiVersion", "rbac.authorization.k8s.io/v1"},
           {"kind", "Role"},
           {"metadata", {{"name", "read-configmaps"}, {"namespace", ns_}}},
           {"rules",
            {{{"apiGroups", {""}}, {"resources", {"configmaps"}}, {"verbs", {"get", "list"}}}}}});
  client_->create(json{
      {"apiVersion", "rbac.authorization.k8s.io/v1"},
      {"kind", "RoleBinding"},
      {"metadata", {{"name", "reader"}, {"namespace", ns_}}},
      {"roleRef",
       {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", "read-configmaps"}}},
      {"subjects", {{{"kind", "ServiceAccount"}, {"name", "reader"}, {"namespace", ns_}}}}});
  client_->create(config_map(ns_, "visible"));
  const auto token_request =
      client_->create_subresource(gvk::kServiceAccount, ns_, "reader", "token",
                                  {{"apiVersion", "authentication.k8s.io/v1"},
                                   {"kind", "TokenRequest"},
                                   {"spec", {{"expirationSeconds", 600}}}});
  const std::string token = token_request["status"]["token"];
  ASSERT_FALSE(token.empty());

  KubeConfig restricted = client_->config();
  restricted.token = token;
  restricted.token_file.clear();
  restricted.client_cert_pem.clear();
  restricted.client_key_pem.clear();
  Client reader(restricted);
  EXPECT_EQ(reader.get(gvk::kConfigMap, ns_, "visible")["metadata"]["name"], "visible");
  try {
    reader.list(gvk::kSecret, ns_);
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kForbidden) << e.what();
    EXPECT_EQ(std::string(e.what()).find(token), std::string::npos);
  }
  try {
    reader.create(config_map(ns_, "denied"));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kForbidden) << e.what();
  }

  restricted.token = "not-a-valid-token-0123456789";
  Client stranger(restricted);
  try {
    stranger.get(gvk::kConfigMap, ns_, "visible");
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnauthorized) << e.what();
  }
}

TEST_F(KubeE2E, WrongCaIsRejected) {
  KubeConfig config = client_->config();
  if (config.insecure_skip_tls_verify) GTEST_SKIP() << "the kubeconfig skips TLS verification";
  config.ca_pem.clear();  // the system trust store does not know the cluster's CA
  ClientOptions options;
  options.max_retries = 0;
  Client client(config, options);
  try {
    client.get(gvk::kNamespace, "", ns_);
    FAIL() << "TLS was not verified";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConnection) << e.what();
  }
}

TEST_F(KubeE2E, TlsServerNameIsTheNameChecked) {
  KubeConfig config = client_->config();
  if (config.insecure_skip_tls_verify) GTEST_SKIP() << "the kubeconfig skips TLS verification";
  ClientOptions options;
  options.max_retries = 0;
  config.tls_server_name = "not-in-the-certificate.invalid";
  try {
    Client(config, options).get(gvk::kNamespace, "", ns_);
    FAIL() << "a name outside the certificate was accepted";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.code(), ErrorCode::kConnection) << e.what();
  }
  config.tls_server_name = "localhost";  // the local cluster's certificate names it
  try {
    EXPECT_EQ(Client(config).get(gvk::kNamespace, "", ns_)["metadata"]["name"], ns_);
  } catch (const ApiError& e) {
    GTEST_SKIP() << "the server certificate does not name localhost: " << e.what();
  }
}

TEST_F(KubeE2E, NewCrdIsFoundByDiscoveryAndServesStatus) {
  const std::string group = "e2e" + random_suffix() + ".kolla.openstack.org";
  const GroupVersionKind widget{group, "v1", "Widget"};
  try {
    client_->resolve(widget);
    FAIL() << "resolved before the CRD exists";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.not_found()) << e.what();
  }
  const json schema = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
  client_->create(
      json{{"apiVersion", "apiextensions.k8s.io/v1"},
           {"kind", "CustomResourceDefinition"},
           {"metadata", {{"name", "widgets." + group}}},
           {"spec",
            {{"group", group},
             {"scope", "Namespaced"},
             {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
             {"versions",
              {{{"name", "v1"},
                {"served", true},
                {"storage", true},
                {"subresources", {{"status", json::object()}}},
                {"schema", {{"openAPIV3Schema", schema}}}}}}}}});
  cluster_objects_.emplace_back(gvk::kCustomResourceDefinition, "widgets." + group);

  ASSERT_TRUE(eventually(
      [&] {
        try {
          return client_->resolve(widget).gvr.resource == "widgets";
        } catch (const ApiError&) {
          return false;
        }
      },
      30s));
  const auto info = client_->resolve(widget);
  EXPECT_TRUE(info.namespaced);
  EXPECT_NE(std::find(info.subresources.begin(), info.subresources.end(), "status"),
            info.subresources.end());

  json widget_object = {{"apiVersion", group + "/v1"},
                        {"kind", "Widget"},
                        {"metadata", {{"name", "w1"}, {"namespace", ns_}}},
                        {"spec", {{"size", 3}}}};
  // The CRD may be Established a moment after discovery lists it.
  json created;
  ASSERT_TRUE(eventually([&] {
    try {
      created = client_->create(widget_object);
      return true;
    } catch (const ApiError&) {
      return false;
    }
  }));
  created["status"] = {{"phase", "Ready"}};
  const auto with_status = client_->update_status(created);
  EXPECT_EQ(with_status["status"]["phase"], "Ready");
  // status through the main resource is ignored
  auto ignored = with_status;
  ignored["status"]["phase"] = "Changed";
  EXPECT_EQ(client_->update(ignored)["status"]["phase"], "Ready");
  // server-side apply of the status subresource
  auto status_apply = as("kolla-operator", true);
  status_apply.subresource = "status";
  status_apply.force = true;
  const auto applied = client_->apply(json{{"apiVersion", group + "/v1"},
                                           {"kind", "Widget"},
                                           {"metadata", {{"name", "w1"}, {"namespace", ns_}}},
                                           {"status", {{"phase", "Applied"}}}},
                                      status_apply);
  EXPECT_EQ(applied["status"]["phase"], "Applied");
  EXPECT_EQ(client_->list(widget, ns_).items.size(), 1u);
}

TEST_F(KubeE2E, ConcurrentCallsShareOneClient) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      try {
        for (int i = 0; i < 5; ++i) {
          const auto name = "t" + std::to_string(t) + "-" + std::to_string(i);
          client_->create(config_map(ns_, name, {}, {{"thread", std::to_string(t)}}));
          client_->get(gvk::kConfigMap, ns_, name);
        }
      } catch (const std::exception& e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  ListOptions mine;
  mine.label_selector = "thread";
  EXPECT_EQ(client_->list(gvk::kConfigMap, ns_, mine).items.size(), 40u);
}

}  // namespace
}  // namespace kolla::kube

namespace kolla::kube {
namespace {

// host and port of the API server when it is an IPv4 literal (as the local cluster uses).
std::optional<std::pair<std::string, int>> ipv4_server(const KubeConfig& config) {
  const std::string& server = config.server;
  const auto host_start = server.find("://") + 3;
  const auto colon = server.rfind(':');
  if (colon == std::string::npos || colon < host_start) return std::nullopt;
  const std::string host = server.substr(host_start, colon - host_start);
  in_addr probe{};
  if (inet_pton(AF_INET, host.c_str(), &probe) != 1) return std::nullopt;
  return std::make_pair(host, std::stoi(server.substr(colon + 1)));
}

// The counters of the kolla fault proxy when the server is one (kubeconfig-faulty), else nullopt.
std::optional<json> fault_proxy_stats(Client& client) {
  try {
    return client.request("GET", "/__kolla/fault-proxy/stats");
  } catch (const ApiError& e) {
    if (e.not_found()) return std::nullopt;  // a plain API server
    throw;
  }
}

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& counts,
                       const std::string& verb) {
  const auto it = counts.find(verb);
  return it == counts.end() ? 0 : it->second;
}

TEST_F(KubeE2E, CreateCutAfterSendingIsReadBackNotDuplicated) {
  const auto target = ipv4_server(client_->config());
  if (!target) GTEST_SKIP() << "the server address is not an IPv4 literal";
  CuttingProxy proxy(target->first, target->second);
  KubeConfig config = client_->config();
  config.server = "https://" + target->first + ":" + std::to_string(proxy.port());
  ClientOptions options;
  options.retry_backoff.initial = std::chrono::milliseconds(50);
  Client client(config, options);
  client.resolve(gvk::kConfigMap);  // discovery before the fault

  // A create whose answer is lost: the object exists; the client reads it back.
  const auto before = fault_proxy_stats(*client_);
  proxy.arm();
  const auto created = client.create(config_map(ns_, "cut", {{"k", "v"}}));
  EXPECT_EQ(proxy.cuts(), 1);
  EXPECT_EQ(created["metadata"]["name"], "cut");
  EXPECT_EQ(created["data"]["k"], "v");
  const auto counts = client.request_counts();
  if (before) {
    // Behind the fault proxy a create it turned away (429/5xx) is sent again; never more often.
    // When the lost answer was such a refusal, libcurl may already have re-sent the request on a
    // new connection and got 201: then nothing needed reading back.
    const auto injected = fault_proxy_stats(*client_)->value("injectedErrors", 0u) -
                          before->value("injectedErrors", 0u);
    EXPECT_LE(count_of(counts, "create"), 1u + injected);
    if (injected == 0) {
      EXPECT_GE(count_of(counts, "get"), 1u);
    }
  } else {
    EXPECT_EQ(count_of(counts, "create"), 1u);  // not re-sent
    EXPECT_GE(count_of(counts, "get"), 1u);     // read back
  }
  EXPECT_EQ(client_
                ->list(gvk::kConfigMap, ns_,
                       [] {
                         ListOptions only_cut;
                         only_cut.field_selector = "metadata.name=cut";
                         return only_cut;
                       }())
                .items.size(),
            1u);

  // A get whose answer is lost is simply retried.
  proxy.arm();
  EXPECT_EQ(client.get(gvk::kConfigMap, ns_, "cut")["data"]["k"], "v");
  EXPECT_EQ(proxy.cuts(), 2);

  // An object someone else created is still AlreadyExists.
  client_->create(config_map(ns_, "theirs"), [] {
    WriteOptions other;
    other.field_manager = "someone-else";
    return other;
  }());
  proxy.arm();
  try {
    client.create(config_map(ns_, "theirs"));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.already_exists()) << e.what();
  }

  // So is one made earlier by the same field manager with other content (a second replica of
  // the same program racing for the same name).
  client_->create(config_map(ns_, "same-manager", {{"holder", "a"}}));
  proxy.arm();
  try {
    client.create(config_map(ns_, "same-manager", {{"holder", "b"}}));
    FAIL() << "no error";
  } catch (const ApiError& e) {
    EXPECT_TRUE(e.already_exists()) << e.what();
  }
}

TEST_F(KubeE2E, CutWatchFailsAndInformerResumes) {
  const auto target = ipv4_server(client_->config());
  if (!target) GTEST_SKIP() << "the server address is not an IPv4 literal";
  CuttingProxy proxy(target->first, target->second);
  KubeConfig config = client_->config();
  config.server = "https://" + target->first + ":" + std::to_string(proxy.port());
  auto client = std::make_shared<Client>(config);

  // A bare watch reports the cut as a connection error. The namespace's kube-root-ca.crt
  // arrives as the first event once the stream runs.
  std::atomic<bool> watching{false};
  std::optional<ApiError> error;
  std::thread watcher([&] {
    WatchOptions options;
    options.timeout_seconds = 60;
    try {
      client->watch(gvk::kConfigMap, ns_, options, [&](const WatchEvent&) {
        watching = true;
        return true;
      });
    } catch (const ApiError& e) {
      error = e;
    }
  });
  EXPECT_TRUE(eventually([&] { return watching.load(); }, 20s));
  proxy.cut_all();
  watcher.join();
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code(), ErrorCode::kConnection) << error->what();

  // The informer restarts its watch from the last version and misses nothing.
  InformerOptions options;
  options.namespace_ = ns_;
  options.backoff.initial = 100ms;
  Informer informer(client, gvk::kConfigMap, options);
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  client_->create(config_map(ns_, "before"));
  ASSERT_TRUE(eventually([&] { return informer.store().get(ns_, "before") != nullptr; }));
  const auto relists = informer.relists();
  const int cuts = proxy.cuts();
  proxy.cut_all();
  ASSERT_TRUE(eventually([&] { return proxy.cuts() > cuts; }));
  client_->create(config_map(ns_, "during"));  // while the watch is down
  EXPECT_TRUE(eventually([&] { return informer.store().get(ns_, "during") != nullptr; }));
  EXPECT_TRUE(eventually([&] { return informer.watch_restarts() >= 1u; }));
  EXPECT_EQ(informer.relists(), relists);  // resumed, not re-listed
  informer.stop();
}

// Whether watching from `rv` is answered with 410 Gone (the revision was compacted away).
bool gone_from(Client& client, const std::string& ns, const std::string& rv) {
  WatchOptions options;
  options.resume = true;
  options.resource_version = rv;
  options.timeout_seconds = 1;
  try {
    client.watch(gvk::kConfigMap, ns, options, [](const WatchEvent&) { return false; });
  } catch (const ApiError& e) {
    return e.gone();
  }
  return false;
}

// Needs a server that compacts quickly and serves watches from etcd (kube-apiserver
// --etcd-compaction-interval=<N>s --watch-cache=false); KOLLA_E2E_COMPACTION_SECONDS=<N> says so.
TEST_F(KubeE2E, InformerRelistsAfterGone) {
  const char* compaction = std::getenv("KOLLA_E2E_COMPACTION_SECONDS");
  if (compaction == nullptr || std::atoi(compaction) <= 0) {
    GTEST_SKIP() << "skipped: KOLLA_E2E_COMPACTION_SECONDS not set (needs a server with a short "
                    "--etcd-compaction-interval and --watch-cache=false)";
  }
  const auto wait_for_compaction = std::chrono::seconds(3 * std::atoi(compaction) + 10);
  const auto target = ipv4_server(client_->config());
  if (!target) GTEST_SKIP() << "the server address is not an IPv4 literal";
  CuttingProxy proxy(target->first, target->second);
  KubeConfig config = client_->config();
  config.server = "https://" + target->first + ":" + std::to_string(proxy.port());
  auto client = std::make_shared<Client>(config);

  client_->create(config_map(ns_, "stays", {}, {{"e2e", "yes"}}));
  client_->create(config_map(ns_, "removed-while-away", {}, {{"e2e", "yes"}}));
  InformerOptions options;
  options.namespace_ = ns_;
  options.label_selector = "e2e";  // not kube-root-ca.crt
  options.backoff = {100ms, 500ms, 2.0, 0.0};
  Informer informer(client, gvk::kConfigMap, options);
  std::atomic<int> deletes{0};
  informer.add_handlers({nullptr, nullptr, [&](const ObjectPtr&) { ++deletes; }});
  informer.start();
  ASSERT_TRUE(informer.wait_for_sync(10s));
  ASSERT_EQ(informer.store().size(), 2u);
  const auto rv = informer.last_resource_version();

  // Keep the informer away while things change and etcd compacts past its revision.
  proxy.refuse(true);
  proxy.cut_all();
  client_->remove(gvk::kConfigMap, ns_, "removed-while-away");
  client_->create(config_map(ns_, "added-while-away", {}, {{"e2e", "yes"}}));
  ASSERT_TRUE(eventually([&] { return gone_from(*client_, ns_, rv); }, wait_for_compaction))
      << "revision " << rv << " was not compacted in time";
  proxy.refuse(false);

  EXPECT_TRUE(eventually([&] { return informer.relists() >= 1; }, 20s));
  EXPECT_TRUE(eventually([&] {
    return informer.store().get(ns_, "added-while-away") != nullptr &&
           informer.store().get(ns_, "removed-while-away") == nullptr;
  }));
  EXPECT_NE(informer.store().get(ns_, "stays"), nullptr);
  EXPECT_EQ(deletes.load(), 1);  // the re-list reported the deletion it missed
  informer.stop();
}

}  // namespace
}  // namespace kolla::kube
