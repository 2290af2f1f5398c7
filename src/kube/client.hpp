#pragma once
// A Kubernetes REST client over libcurl. Thread-safe: any number of threads may call it at once
// (each call takes a curl handle from a pool; a watch holds its own handle while it runs).
//
// Every call has a timeout. Connection errors, 5xx and 429 are retried with capped exponential
// backoff and jitter (429/503 honour Retry-After). A create whose connection dropped after the
// body was sent is not blindly re-sent: the object is read back. After such a failure, a 500/502/
// 504 that may follow a landed create, or libcurl's own re-send on a new connection, an
// AlreadyExists is answered with the object when its creation was recorded under our field
// manager and it holds what we sent.

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "kube/backoff.hpp"
#include "kube/errors.hpp"
#include "kube/kubeconfig.hpp"
#include "kube/resource.hpp"
#include "kube/watch.hpp"

namespace kolla::kube {

struct ClientOptions {
  std::chrono::milliseconds timeout{30'000};  // whole request (not watches)
  std::chrono::milliseconds connect_timeout{10'000};
  int max_retries = 5;  // retries after the first attempt
  BackoffPolicy retry_backoff{};
  std::string user_agent = "kolla-kubernetes/0.1";
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 0;                 // page size; 0: no paging
  std::string continue_token;    // resume a paged list (list() follows pages itself)
  std::string resource_version;  // "" most recent; "0" any (cache)
  bool all_pages = true;         // follow `continue` until the end
};

struct ListResult {
  std::vector<json> items;       // each with apiVersion and kind filled in
  std::string resource_version;  // the list's resourceVersion (start a watch from it)
  std::string continue_token;    // non-empty only when all_pages was false and more remain
};

struct WatchOptions {
  std::string resource_version;  // start after this version; "" from now ("0": any)
  std::string label_selector;
  std::string field_selector;
  bool allow_bookmarks = true;
  int timeout_seconds = 300;      // server-side timeout; the stream then ends normally
  CancelToken* cancel = nullptr;  // not owned; may be shared by several watches
  // Reconnect, with backoff, from the last version seen when the stream is cut or the watch
  // request fails with a retryable error (5xx, 429, connection). Gone (410) is still thrown:
  // the caller must list again.
  bool resume = false;
};

struct WatchResult {
  std::string resource_version;  // the last version seen (events and bookmarks): resume from it
  bool cancelled = false;
  std::size_t events = 0;
};

// Return false from the handler to stop the watch (ends normally, not as cancelled).
using WatchHandler = std::function<bool(const WatchEvent&)>;

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::optional<int> grace_period_seconds;
  std::string precondition_uid;
  std::string precondition_resource_version;
};

struct WriteOptions {
  std::string field_manager;  // empty: the client's default ("kolla-kubernetes")
  bool dry_run = false;
};

struct ApplyOptions {
  std::string field_manager = "kolla-operator";
  bool force = false;
  bool dry_run = false;
  std::string subresource;  // "" or "status"
};

class Discovery;

class Client {
 public:
  explicit Client(KubeConfig config, ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Builds a client from load_kubeconfig(options).
  static std::shared_ptr<Client> from_kubeconfig(const KubeConfigOptions& options = {},
                                                 ClientOptions client_options = {});

  const KubeConfig& config() const { return config_; }
  const std::string& default_namespace() const { return config_.namespace_; }

  // Kinds → resources, cached; a miss refreshes the group (a new CRD is found).
  // Throws ApiError(kNotFound) when the server does not serve the kind.
  ResourceInfo resolve(const GroupVersionKind& gvk);
  Discovery& discovery() { return *discovery_; }

  // Reads. ns is ignored for cluster-scoped kinds; an empty ns lists all namespaces.
  json get(const GroupVersionKind& gvk, const std::string& ns, const std::string& name);
  std::optional<json> get_optional(const GroupVersionKind& gvk, const std::string& ns,
                                   const std::string& name);  // nullopt on NotFound
  ListResult list(const GroupVersionKind& gvk, const std::string& ns,
                  const ListOptions& options = {});

  // Streams events to handler until the server ends the stream (timeout), the handler returns
  // false, or options.cancel fires. Throws ApiError: kGone when the resourceVersion is too old
  // (HTTP 410 or an ERROR event with code 410), kConnection when the stream is cut (unless
  // options.resume). A watch refused with 429/5xx before any event is asked again with backoff.
  WatchResult watch(const GroupVersionKind& gvk, const std::string& ns, const WatchOptions& options,
                    const WatchHandler& handler);

  // Writes. The kind and namespace come from the object (apiVersion, kind, metadata.namespace;
  // the client's default namespace when absent for a namespaced kind). Return the server's object.
  json create(const json& object, const WriteOptions& options = {});
  json update(const json& object, const WriteOptions& options = {});  // PUT; Conflict if stale
  json update_status(const json& object, const WriteOptions& options = {});  // PUT .../status
  json merge_patch(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                   const json& patch, const WriteOptions& options = {},
                   const std::string& subresource = {});
  // Server-side apply (PATCH application/apply-patch+yaml; the body is JSON, which is YAML).
  json apply(const json& object, const ApplyOptions& options = {});
  // Returns the server's answer (the object when deletion is deferred by finalizers or
  // foreground propagation, else a Status). Throws NotFound when absent.
  json remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
              const DeleteOptions& options = {});
  // Returns false when the object did not exist.
  bool remove_if_exists(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                        const DeleteOptions& options = {});
  // POST to a subresource, e.g. serviceaccounts/<n>/token with a TokenRequest.
  json create_subresource(const GroupVersionKind& gvk, const std::string& ns,
                          const std::string& name, const std::string& subresource,
                          const json& body);

  // A raw request to an absolute API path (e.g. "/version", "/apis"), retried like the others.
  // Returns the parsed JSON body.
  json request(const std::string& method, const std::string& path, const std::string& body = {},
               const std::string& content_type = "application/json",
               const std::string& verb_label = {});

  // Requests sent (every attempt, retries included), by verb: get, list, watch, create, update,
  // patch, apply, delete, discovery, other. For benchmarks and metrics.
  std::map<std::string, std::uint64_t> request_counts() const;
  std::uint64_t total_requests() const;

  struct Impl;  // implementation detail (curl handle pool, counters, token)

 private:
  // One watch request: the stream until it ends, is cut, is cancelled or the handler stops it.
  WatchResult watch_stream(const GroupVersionKind& gvk, const std::string& ns,
                           const WatchOptions& options, const WatchHandler& handler);
  // PUT of the object, or of one of its subresources ("status").
  json put(const json& object, const WriteOptions& options, const std::string& subresource);

  KubeConfig config_;
  ClientOptions options_;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<Discovery> discovery_;
  friend class Discovery;
};

// GVK → resource discovery over /api, /apis, /apis/<g>/<v>. Thread-safe, cached.
class Discovery {
 public:
  explicit Discovery(Client& client) : client_(client) {}
  // Looks the kind up; on a miss re-reads the group version once (a new CRD), then throws
  // ApiError(kNotFound).
  ResourceInfo resolve(const GroupVersionKind& gvk);
  // All resources of a group version (refreshing the cache).
  std::vector<ResourceInfo> resources(const std::string& group, const std::string& version);
  // Group versions the server serves (/api and /apis), e.g. "v1", "apps/v1".
  std::vector<std::string> group_versions();
  void invalidate();  // forget everything

  // Parses an APIResourceList (the body of /api/v1 or /apis/<g>/<v>).
  static std::vector<ResourceInfo> parse_resource_list(const json& list);

 private:
  Client& client_;
  std::mutex mutex_;
  std::map<std::string, std::vector<ResourceInfo>> cache_;  // by group version "apps/v1"
};

}  // namespace kolla::kube
