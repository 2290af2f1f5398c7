#include "kube/client.hpp"

#include <curl/curl.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <exception>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/redact.hpp"

namespace kolla::kube {

namespace {

using Clock = std::chrono::steady_clock;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Answers worth asking again: 429 and 5xx (but 501, which will not change).
bool retryable_status(int status) {
  return status == 429 || (status >= 500 && status != 501);
}

// Connection failures after which the server may have received (and acted on) the request.
bool maybe_sent(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_URL_MALFORMAT:
      return false;
    default:
      return true;
  }
}

// The curl lists one transfer needs; they must outlive it.
struct HeaderList {
  curl_slist* list = nullptr;
  curl_slist* connect_to = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() {
    curl_slist_free_all(list);
    curl_slist_free_all(connect_to);
  }
  void add(const std::string& header) { list = curl_slist_append(list, header.c_str()); }
};

// With tls-server-name the URL names that host (so TLS checks it and sends it as SNI) while the
// connection goes to the server's real address (CURLOPT_CONNECT_TO).
std::string url_for(const KubeConfig& config, const std::string& path, HeaderList& lists) {
  if (config.tls_server_name.empty()) return config.server + path;
  const auto scheme_end = config.server.find("://");
  const std::string scheme = config.server.substr(0, scheme_end);
  const std::string authority = config.server.substr(scheme_end + 3);
  const auto bracket = authority.rfind(']');
  const auto colon = authority.rfind(':');
  const bool has_port =
      colon != std::string::npos && (bracket == std::string::npos || colon > bracket);
  const std::string host = has_port ? authority.substr(0, colon) : authority;
  const std::string port =
      has_port ? authority.substr(colon + 1) : (scheme == "http" ? "80" : "443");
  const std::string entry = config.tls_server_name + ":" + port + ":" + host + ":" + port;
  lists.connect_to = curl_slist_append(lists.connect_to, entry.c_str());
  return scheme + "://" + config.tls_server_name + ":" + port + path;
}

struct Response {
  int status = 0;
  std::string body;
  std::optional<std::chrono::seconds> retry_after;
  bool after_maybe_sent_failure = false;  // an earlier attempt may have reached the server
};

std::size_t write_to_string(char* data, std::size_t size, std::size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::size_t read_retry_after(char* data, std::size_t size, std::size_t count, void* user) {
  const std::string_view line(data, size * count);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    std::string lower(line.substr(0, kName.size()));
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == kName) {
      const std::string value = trim(std::string(line.substr(kName.size())));
      try {
        std::size_t used = 0;
        const long seconds = std::stol(value, &used);
        if (used == value.size() && seconds >= 0) {
          *static_cast<std::optional<std::chrono::seconds>*>(user) =
              std::chrono::seconds(std::min(seconds, 600L));
        }
      } catch (const std::exception&) {
        // an HTTP date: ignored, the backoff applies
      }
    }
  }
  return size * count;
}

std::string metadata_field(const json& object, const char* field) {
  const auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return {};
  return meta->value(field, "");
}

}  // namespace

struct Client::Impl {
  std::mutex pool_mutex;
  std::vector<CURL*> pool;

  std::mutex token_mutex;
  std::string token;
  Clock::time_point token_read;

  mutable std::mutex counter_mutex;
  std::map<std::string, std::uint64_t> counters;

  std::mutex rng_mutex;
  std::mt19937_64 rng{std::random_device{}()};

  ~Impl() {
    for (CURL* handle : pool) curl_easy_cleanup(handle);
  }

  CURL* acquire() {
    {
      std::lock_guard lock(pool_mutex);
      if (!pool.empty()) {
        CURL* handle = pool.back();
        pool.pop_back();
        return handle;
      }
    }
    CURL* handle = curl_easy_init();
    if (handle == nullptr) throw ApiError(ErrorCode::kConnection, 0, "curl_easy_init failed");
    return handle;
  }

  void release(CURL* handle) {
    std::lock_guard lock(pool_mutex);
    if (pool.size() < 16) {
      pool.push_back(handle);
    } else {
      curl_easy_cleanup(handle);
    }
  }

  void count(const std::string& verb) {
    std::lock_guard lock(counter_mutex);
    ++counters[verb];
  }

  double random01() {
    std::lock_guard lock(rng_mutex);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }
};

Client::Client(KubeConfig config, ClientOptions options)
    : config_(std::move(config)),
      options_(std::move(options)),
      impl_(std::make_unique<Impl>()),
      discovery_(std::make_unique<Discovery>(*this)) {
  global_init();
  register_secret(config_.token);
  register_secret(config_.client_key_pem);
  impl_->token = config_.token;
  impl_->token_read = Clock::now();
}

Client::~Client() = default;

std::shared_ptr<Client> Client::from_kubeconfig(const KubeConfigOptions& options,
                                                ClientOptions client_options) {
  return std::make_shared<Client>(load_kubeconfig(options), std::move(client_options));
}

// Sets up a handle for one request (shared by plain calls and watches).
static void configure(CURL* h, const KubeConfig& config, const ClientOptions& options,
                      const std::string& url, const std::string& method, const std::string& body,
                      HeaderList& headers, const std::string& content_type,
                      const std::string& token, std::string* out,
                      std::optional<std::chrono::seconds>* retry_after) {
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
  if (config.insecure_skip_tls_verify) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else if (!config.ca_pem.empty()) {
    curl_blob blob{const_cast<char*>(config.ca_pem.data()), config.ca_pem.size(), CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_CAINFO_BLOB, &blob);
  }
  if (!config.client_cert_pem.empty()) {
    curl_blob cert{const_cast<char*>(config.client_cert_pem.data()), config.client_cert_pem.size(),
                   CURL_BLOB_COPY};
    curl_blob key{const_cast<char*>(config.client_key_pem.data()), config.client_key_pem.size(),
                  CURL_BLOB_COPY};
    curl_easy_setopt(h, CURLOPT_SSLCERT_BLOB, &cert);
    curl_easy_setopt(h, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(h, CURLOPT_SSLKEY_BLOB, &key);
    curl_easy_setopt(h, CURLOPT_SSLKEYTYPE, "PEM");
  }
  headers.add("Accept: application/json");
  if (!token.empty()) headers.add("Authorization: Bearer " + token);
  if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
      headers.add("Content-Type: " + content_type);
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    }
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.list);
  if (headers.connect_to != nullptr) curl_easy_setopt(h, CURLOPT_CONNECT_TO, headers.connect_to);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_to_string);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_retry_after);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, retry_after);
}

namespace {
int note_curl_resend(CURL*, curl_infotype type, char* data, std::size_t size, void* resent) {
  if (type == CURLINFO_TEXT && resent != nullptr &&
      std::string_view(data, size).find("Connection died, retrying") != std::string_view::npos) {
    *static_cast<bool*>(resent) = true;
  }
  return 0;
}

// libcurl sends a request again, unasked, on a new connection when the kept-alive one it reused
// dies before any answer byte (even a POST). It says so only in its verbose text, so that text
// is read (and nothing else of it kept) to learn that the server may have acted twice.
void watch_for_curl_resend(CURL* h, bool* resent) {
  curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, note_curl_resend);
  curl_easy_setopt(h, CURLOPT_DEBUGDATA, resent);
  curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
}

std::string current_token(Client::Impl& impl, const KubeConfig& config) {
  std::lock_guard lock(impl.token_mutex);
  if (!config.token_file.empty() && Clock::now() - impl.token_read > std::chrono::minutes(1)) {
    std::ifstream in(config.token_file);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string fresh = trim(text.str());
    if (in && !fresh.empty()) {
      register_secret(fresh);
      impl.token = fresh;
    }
    impl.token_read = Clock::now();
  }
  return impl.token;
}
}  // namespace

// Sends the request, retrying connection errors, timeouts, 5xx and 429 with backoff.
// Returns the last response (any status). Throws ApiError(kConnection/kTimeout) when no answer
// came. With retry_maybe_sent false, a failure after the request may have been sent is thrown
// at once (the caller checks what happened).
static Response execute(Client::Impl& impl, const KubeConfig& config, const ClientOptions& options,
                        const std::string& method, const std::string& path, const std::string& body,
                        const std::string& content_type, const std::string& verb,
                        bool retry_maybe_sent, bool* failed_maybe_sent = nullptr) {
  const std::string context = method + " " + path;
  bool earlier_maybe_sent = false;
  for (int attempt = 0;; ++attempt) {
    Response response;
    HeaderList headers;
    const std::string url = url_for(config, path, headers);
    CURL* h = impl.acquire();
    configure(h, config, options, url, method, body, headers, content_type,
              current_token(impl, config), &response.body, &response.retry_after);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
    bool resent_by_curl = false;
    if (method != "GET") watch_for_curl_resend(h, &resent_by_curl);
    impl.count(verb);
    char error_buffer[CURL_ERROR_SIZE] = {0};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
    const CURLcode code = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    if (resent_by_curl) earlier_maybe_sent = true;
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_VERBOSE, 0L);  // the pooled handle keeps no pointer to this frame
    curl_easy_setopt(h, CURLOPT_DEBUGDATA, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    curl_easy_setopt(h, CURLOPT_CONNECT_TO, nullptr);
    impl.release(h);

    std::optional<ApiError> error;
    if (code != CURLE_OK) {
      const std::string detail = error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(code);
      const auto error_code =
          code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kConnection;
      error.emplace(error_code, 0, context + ": " + detail);
      const bool sent = maybe_sent(code);
      if (sent && !retry_maybe_sent) {
        if (failed_maybe_sent != nullptr) *failed_maybe_sent = true;
        throw *error;
      }
      earlier_maybe_sent = earlier_maybe_sent || sent;
    } else {
      response.status = static_cast<int>(status);
      response.after_maybe_sent_failure = earlier_maybe_sent;
      if (!retryable_status(response.status)) return response;
      // 429 and 503 mean the request was turned away; another 5xx may come after a create
      // was acted on.
      if (!retry_maybe_sent && response.status != 429 && response.status != 503) {
        earlier_maybe_sent = true;
      }
      error.emplace(
          error_from_response(response.status, response.body, context, response.retry_after));
    }
    if (attempt >= options.max_retries) {
      if (code == CURLE_OK) return response;
      throw *error;
    }
    auto delay = backoff_delay(options.retry_backoff, attempt, impl.random01());
    if (error->retry_after()) {
      delay = std::min<std::chrono::milliseconds>(*error->retry_after(), std::chrono::seconds(60));
    }
    spdlog::debug("kube: retry {} of {} in {} ms after: {}", attempt + 1, options.max_retries,
                  delay.count(), redact(error->what()));
    std::this_thread::sleep_for(delay);
  }
}

namespace {

json parse_body(const Response& response, const std::string& context) {
  if (response.body.empty()) return json::object();
  auto parsed = json::parse(response.body, nullptr, false);
  if (parsed.is_discarded()) {
    throw ApiError(ErrorCode::kOther, response.status, context + ": the answer is not JSON");
  }
  return parsed;
}

json checked(const Response& response, const std::string& method, const std::string& path) {
  const std::string context = method + " " + path;
  if (response.status < 200 || response.status >= 300) {
    throw error_from_response(response.status, response.body, context, response.retry_after);
  }
  return parse_body(response, context);
}

}  // namespace

json Client::request(const std::string& method, const std::string& path, const std::string& body,
                     const std::string& content_type, const std::string& verb_label) {
  const std::string verb = verb_label.empty() ? "other" : verb_label;
  const auto response =
      execute(*impl_, config_, options_, method, path, body, content_type, verb, true);
  return checked(response, method, path);
}

std::map<std::string, std::uint64_t> Client::request_counts() const {
  std::lock_guard lock(impl_->counter_mutex);
  return impl_->counters;
}

std::uint64_t Client::total_requests() const {
  std::lock_guard lock(impl_->counter_mutex);
  std::uint64_t total = 0;
  for (const auto& [verb, n] : impl_->counters) total += n;
  return total;
}

ResourceInfo Client::resolve(const GroupVersionKind& gvk) {
  return discovery_->resolve(gvk);
}

namespace {

std::string field_manager_of(const WriteOptions& options) {
  return options.field_manager.empty() ? "kolla-kubernetes" : options.field_manager;
}

std::map<std::string, std::string> write_params(const WriteOptions& options) {
  return {{"fieldManager", field_manager_of(options)}, {"dryRun", options.dry_run ? "All" : ""}};
}

void fill_kind(json& object, const GroupVersionKind& gvk) {
  if (!object.is_object()) return;
  if (!object.contains("apiVersion")) object["apiVersion"] = gvk.api_version();
  if (!object.contains("kind")) object["kind"] = gvk.kind;
}

}  // namespace

json Client::get(const GroupVersionKind& gvk, const std::string& ns, const std::string& name) {
  const auto info = resolve(gvk);
  const auto path = resource_path(info, ns, name);
  auto object =
      checked(execute(*impl_, config_, options_, "GET", path, {}, {}, "get", true), "GET", path);
  fill_kind(object, gvk);
  return object;
}

std::optional<json> Client::get_optional(const GroupVersionKind& gvk, const std::string& ns,
                                         const std::string& name) {
  try {
    return get(gvk, ns, name);
  } catch (const ApiError& e) {
    if (e.not_found()) return std::nullopt;
    throw;
  }
}

ListResult Client::list(const GroupVersionKind& gvk, const std::string& ns,
                        const ListOptions& options) {
  const auto info = resolve(gvk);
  ListResult result;
  std::string continue_token = options.continue_token;
  for (;;) {
    std::map<std::string, std::string> params{
        {"labelSelector", options.label_selector},
        {"fieldSelector", options.field_selector},
        {"limit", options.limit > 0 ? std::to_string(options.limit) : ""},
        {"continue", continue_token},
        // resourceVersion may not be combined with continue
        {"resourceVersion", continue_token.empty() ? options.resource_version : ""}};
    const auto path = resource_path(info, ns) + query_string(params);
    auto page =
        checked(execute(*impl_, config_, options_, "GET", path, {}, {}, "list", true), "GET", path);
    if (auto items = page.find("items"); items != page.end() && items->is_array()) {
      for (auto& item : *items) {
        fill_kind(item, gvk);
        result.items.push_back(std::move(item));
      }
    }
    const auto meta = page.value("metadata", json::object());
    result.resource_version = meta.value("resourceVersion", "");
    continue_token = meta.value("continue", "");
    if (continue_token.empty()) break;
    if (!options.all_pages) {
      result.continue_token = continue_token;
      break;
    }
  }
  return result;
}

namespace {

std::string namespace_for(const ResourceInfo& info, const json& object,
                          const std::string& fallback) {
  if (!info.namespaced) return {};
  const auto ns = metadata_field(object, "namespace");
  return ns.empty() ? fallback : ns;
}

json with_namespace(const ResourceInfo& info, json object, const std::string& ns) {
  if (info.namespaced && object.is_object()) object["metadata"]["namespace"] = ns;
  return object;
}

// Whether every value in `sent` is in `stored` too (the server adds defaults, never drops ours).
bool holds(const json& stored, const json& sent) {
  if (sent.is_object()) {
    if (!stored.is_object()) return false;
    for (const auto& [key, value] : sent.items()) {
      const auto it = stored.find(key);
      if (it == stored.end() || !holds(*it, value)) return false;
    }
    return true;
  }
  if (sent.is_array()) {
    if (!stored.is_array() || stored.size() != sent.size()) return false;
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (!holds(stored[i], sent[i])) return false;
    }
    return true;
  }
  return stored == sent;
}

// Whether `existing` is the object our own (possibly duplicated) create made: the server
// records a create as an "Update" managedFields entry of our field manager whose time is the
// creation time, and it holds what we sent (another writer with the same field manager, such as
// a second replica of the same program, sent something else).
bool created_by(const json& existing, const std::string& manager, const json& sent) {
  const auto meta = existing.value("metadata", json::object());
  const auto created = meta.value("creationTimestamp", "");
  bool by_manager = false;
  for (const auto& entry : meta.value("managedFields", json::array())) {
    if (entry.value("manager", "") == manager && entry.value("operation", "") == "Update" &&
        !created.empty() && entry.value("time", "") == created) {
      by_manager = true;
    }
  }
  if (!by_manager) return false;
  for (const auto& [key, value] : sent.items()) {
    if (key == "metadata") {
      for (const char* field : {"labels", "annotations"}) {
        if (value.contains(field) && !holds(meta.value(field, json::object()), value[field])) {
          return false;
        }
      }
    } else if (key != "apiVersion" && key != "kind" && key != "status") {
      if (!existing.contains(key) || !holds(existing[key], value)) return false;
    }
  }
  return true;
}

}  // namespace

json Client::create(const json& object, const WriteOptions& options) {
  const auto gvk = GroupVersionKind::of(object);
  const auto info = resolve(gvk);
  const auto ns = namespace_for(info, object, config_.namespace_);
  const auto name = metadata_field(object, "name");
  const auto path = resource_path(info, ns) + query_string(write_params(options));
  const std::string body = with_namespace(info, object, ns).dump();
  const std::string manager = field_manager_of(options);
  bool our_attempt_may_have_landed = false;
  for (int attempt = 0;; ++attempt) {
    Response response;
    bool failed_maybe_sent = false;
    try {
      // Never blindly re-sent once it may have reached the server (retry_maybe_sent=false).
      response = execute(*impl_, config_, options_, "POST", path, body, "application/json",
                         "create", false, &failed_maybe_sent);
    } catch (const ApiError& e) {
      if (!failed_maybe_sent || name.empty() || options.dry_run ||
          attempt >= options_.max_retries) {
        throw;
      }
      spdlog::debug("kube: create {} may have reached the server ({}); reading it back",
                    ResourceRef{gvk, ns, name}.str(), redact(e.what()));
      our_attempt_may_have_landed = true;
      std::this_thread::sleep_for(
          backoff_delay(options_.retry_backoff, attempt, impl_->random01()));
      if (auto existing = get_optional(gvk, ns, name)) {
        if (created_by(*existing, manager, object)) return *existing;
        throw ApiError(ErrorCode::kAlreadyExists, 409,
                       "POST " + path + ": " + ResourceRef{gvk, ns, name}.str() + " already exists",
                       "AlreadyExists");
      }
      continue;  // it did not land: send again
    }
    if (response.status == 409 &&
        (our_attempt_may_have_landed || response.after_maybe_sent_failure)) {
      const auto error = error_from_response(response.status, response.body, "POST " + path);
      if (error.already_exists() && !name.empty()) {
        if (auto existing = get_optional(gvk, ns, name);
            existing && created_by(*existing, manager, object)) {
          return *existing;
        }
      }
    }
    auto created = checked(response, "POST", path);
    fill_kind(created, gvk);
    return created;
  }
}

json Client::update(const json& object, const WriteOptions& options) {
  return put(object, options, "");
}

json Client::update_status(const json& object, const WriteOptions& options) {
  return put(object, options, "status");
}

json Client::put(const json& object, const WriteOptions& options, const std::string& subresource) {
  const auto gvk = GroupVersionKind::of(object);
  const auto info = resolve(gvk);
  const auto ns = namespace_for(info, object, config_.namespace_);
  const auto name = metadata_field(object, "name");
  const std::string verb = subresource.empty() ? "update" : "update_" + subresource;
  if (name.empty()) throw std::invalid_argument(verb + ": the object has no metadata.name");
  const auto path =
      resource_path(info, ns, name, subresource) + query_string(write_params(options));
  auto updated =
      checked(execute(*impl_, config_, options_, "PUT", path,
                      with_namespace(info, object, ns).dump(), "application/json", "update", true),
              "PUT", path);
  fill_kind(updated, gvk);
  return updated;
}

json Client::merge_patch(const GroupVersionKind& gvk, const std::string& ns,
                         const std::string& name, const json& patch, const WriteOptions& options,
                         const std::string& subresource) {
  const auto info = resolve(gvk);
  const auto path = resource_path(info, info.namespaced ? ns : "", name, subresource) +
                    query_string(write_params(options));
  auto patched = checked(execute(*impl_, config_, options_, "PATCH", path, patch.dump(),
                                 "application/merge-patch+json", "patch", true),
                         "PATCH", path);
  fill_kind(patched, gvk);
  return patched;
}

json Client::apply(const json& object, const ApplyOptions& options) {
  const auto gvk = GroupVersionKind::of(object);
  const auto info = resolve(gvk);
  const auto ns = namespace_for(info, object, config_.namespace_);
  const auto name = metadata_field(object, "name");
  if (name.empty()) throw std::invalid_argument("apply: the object has no metadata.name");
  if (options.field_manager.empty()) throw std::invalid_argument("apply: no field manager");
  const std::map<std::string, std::string> params{{"fieldManager", options.field_manager},
                                                  {"force", options.force ? "true" : ""},
                                                  {"dryRun", options.dry_run ? "All" : ""}};
  const auto path = resource_path(info, ns, name, options.subresource) + query_string(params);
  auto applied = checked(
      execute(*impl_, config_, options_, "PATCH", path, with_namespace(info, object, ns).dump(),
              "application/apply-patch+yaml", "apply", true),
      "PATCH", path);
  fill_kind(applied, gvk);
  return applied;
}

json Client::remove(const GroupVersionKind& gvk, const std::string& ns, const std::string& name,
                    const DeleteOptions& options) {
  const auto info = resolve(gvk);
  const auto path = resource_path(info, info.namespaced ? ns : "", name);
  json body{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  if (!options.precondition_uid.empty()) body["preconditions"]["uid"] = options.precondition_uid;
  if (!options.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = options.precondition_resource_version;
  }
  const auto response = execute(*impl_, config_, options_, "DELETE", path, body.dump(),
                                "application/json", "delete", true);
  if (response.status == 404 && response.after_maybe_sent_failure) {
    // Our own earlier attempt deleted it.
    return json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Success"}};
  }
  return checked(response, "DELETE", path);
}

bool Client::remove_if_exists(const GroupVersionKind& gvk, const std::string& ns,
                              const std::string& name, const DeleteOptions& options) {
  try {
    remove(gvk, ns, name, options);
    return true;
  } catch (const ApiError& e) {
    if (e.not_found()) return false;
    throw;
  }
}

json Client::create_subresource(const GroupVersionKind& gvk, const std::string& ns,
                                const std::string& name, const std::string& subresource,
                                const json& body) {
  const auto info = resolve(gvk);
  const auto path = resource_path(info, info.namespaced ? ns : "", name, subresource);
  return checked(execute(*impl_, config_, options_, "POST", path, body.dump(), "application/json",
                         "create", true),
                 "POST", path);
}

// ---- watch ----

namespace {

struct WatchState {
  const WatchHandler* handler = nullptr;
  CURL* handle = nullptr;
  LineSplitter splitter;
  std::string error_body;  // the body of a non-200 answer
  long status = 0;
  bool stopped_by_handler = false;
  std::optional<ApiError> error_event;
  std::exception_ptr exception;
  WatchResult result;
};

std::size_t watch_write(char* data, std::size_t size, std::size_t count, void* user) {
  auto& state = *static_cast<WatchState*>(user);
  const std::size_t total = size * count;
  if (state.status == 0) curl_easy_getinfo(state.handle, CURLINFO_RESPONSE_CODE, &state.status);
  if (state.status != 200) {
    if (state.error_body.size() < 65536) state.error_body.append(data, total);
    return total;
  }
  bool stop = false;
  try {
    state.splitter.feed(std::string_view(data, total), [&](std::string_view line) {
      if (stop) return;
      auto event = parse_watch_line(line);
      if (!event) return;
      if (event->type == WatchEventType::kError) {
        state.error_event = error_from_response(200, event->object.dump(), "watch");
        stop = true;
        return;
      }
      if (auto rv = event->resource_version(); !rv.empty()) state.result.resource_version = rv;
      ++state.result.events;
      if (!(*state.handler)(*event)) {
        state.stopped_by_handler = true;
        stop = true;
      }
    });
  } catch (...) {
    state.exception = std::current_exception();
    return 0;
  }
  return stop ? 0 : total;
}

struct MultiGuard {
  CURLM* multi;
  CURL* easy;
  ~MultiGuard() {
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    curl_multi_cleanup(multi);
  }
};

// Sleeps for delay, waking early when the watch is cancelled; true when cancelled.
bool cancelled_while_waiting(const WatchOptions& options, std::chrono::milliseconds delay) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (options.cancel != nullptr && options.cancel->cancelled()) return true;
    std::this_thread::sleep_for(
        std::min<std::chrono::milliseconds>(delay, std::chrono::milliseconds(50)));
  }
  return options.cancel != nullptr && options.cancel->cancelled();
}

WatchResult cancelled_at(const std::string& resource_version, std::size_t events) {
  WatchResult result;
  result.resource_version = resource_version;
  result.cancelled = true;
  result.events = events;
  return result;
}

}  // namespace

WatchResult Client::watch(const GroupVersionKind& gvk, const std::string& ns,
                          const WatchOptions& options, const WatchHandler& handler) {
  if (!options.resume) {
    // A watch the server refuses before any event (429, 5xx) is asked again, as any GET is;
    // once events flowed, a failure is the caller's to handle (it knows where it stopped).
    bool delivered = false;
    const WatchHandler noting = [&](const WatchEvent& event) {
      delivered = true;
      return handler(event);
    };
    for (int attempt = 0;; ++attempt) {
      try {
        return watch_stream(gvk, ns, options, noting);
      } catch (const ApiError& e) {
        if (delivered || !retryable_status(e.http_status()) || attempt >= options_.max_retries) {
          throw;
        }
        auto delay = backoff_delay(options_.retry_backoff, attempt, impl_->random01());
        if (e.retry_after()) {
          delay = std::min<std::chrono::milliseconds>(*e.retry_after(), std::chrono::seconds(60));
        }
        spdlog::debug("watch {}: {}; asking again in {} ms", gvk.kind, redact(e.what()),
                      delay.count());
        if (cancelled_while_waiting(options, delay)) {
          return cancelled_at(options.resource_version, 0);
        }
      }
    }
  }
  WatchOptions attempt_options = options;
  std::size_t events = 0;
  const WatchHandler counting = [&](const WatchEvent& event) {
    ++events;
    if (auto rv = event.resource_version(); !rv.empty()) attempt_options.resource_version = rv;
    return handler(event);
  };
  Backoff backoff(options_.retry_backoff);
  for (;;) {
    try {
      WatchResult result = watch_stream(gvk, ns, attempt_options, counting);
      result.events = events;
      return result;
    } catch (const ApiError& e) {
      if (e.gone() || !(e.retryable() || e.code() == ErrorCode::kConnection)) throw;
      spdlog::debug("watch {}: {}; resuming from {}", gvk.kind, e.what(),
                    attempt_options.resource_version);
    }
    if (cancelled_while_waiting(options, backoff.next())) {
      return cancelled_at(attempt_options.resource_version, events);
    }
  }
}

WatchResult Client::watch_stream(const GroupVersionKind& gvk, const std::string& ns,
                                 const WatchOptions& options, const WatchHandler& handler) {
  const auto info = resolve(gvk);
  const std::map<std::string, std::string> params{
      {"watch", "1"},
      {"resourceVersion", options.resource_version},
      {"labelSelector", options.label_selector},
      {"fieldSelector", options.field_selector},
      {"allowWatchBookmarks", options.allow_bookmarks ? "true" : ""},
      {"timeoutSeconds",
       options.timeout_seconds > 0 ? std::to_string(options.timeout_seconds) : ""}};
  const auto path = resource_path(info, info.namespaced ? ns : "") + query_string(params);
  WatchState state;
  state.handler = &handler;
  state.result.resource_version = options.resource_version;
  if (options.cancel != nullptr && options.cancel->cancelled()) {
    state.result.cancelled = true;
    return state.result;
  }

  CURLM* multi = curl_multi_init();
  CURL* easy = curl_easy_init();
  if (multi == nullptr || easy == nullptr) {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (multi != nullptr) curl_multi_cleanup(multi);
    throw ApiError(ErrorCode::kConnection, 0, "watch: cannot create a curl handle");
  }
  HeaderList headers;
  std::optional<std::chrono::seconds> retry_after;
  std::string unused;
  const std::string url = url_for(config_, path, headers);
  configure(easy, config_, options_, url, "GET", {}, headers, {}, current_token(*impl_, config_),
            &unused, &retry_after);
  state.handle = easy;
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, watch_write);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &state);
  // A safety net past the server's own timeout; 0 (none) when the server has no timeout.
  if (options.timeout_seconds > 0) {
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS,
                     static_cast<long>((options.timeout_seconds + 60) * 1000L));
  }
  char error_buffer[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
  curl_multi_add_handle(multi, easy);
  MultiGuard guard{multi, easy};

  int waker = -1;
  if (options.cancel != nullptr) {
    waker = options.cancel->add_waker([multi] { curl_multi_wakeup(multi); });
  }
  struct WakerGuard {
    CancelToken* token;
    int id;
    ~WakerGuard() {
      if (token != nullptr) token->remove_waker(id);
    }
  } waker_guard{options.cancel, waker};

  impl_->count("watch");
  CURLcode code = CURLE_OK;
  for (;;) {
    if (options.cancel != nullptr && options.cancel->cancelled()) {
      state.result.cancelled = true;
      return state.result;
    }
    int running = 0;
    const CURLMcode mcode = curl_multi_perform(multi, &running);
    if (mcode != CURLM_OK) {
      throw ApiError(ErrorCode::kConnection, 0,
                     "watch " + path + ": " + curl_multi_strerror(mcode));
    }
    if (running == 0) {
      int queued = 0;
      while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
        if (message->msg == CURLMSG_DONE) code = message->data.result;
      }
      break;
    }
    curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
  }
  if (state.exception) std::rethrow_exception(state.exception);
  if (state.error_event) throw *state.error_event;
  if (state.stopped_by_handler) return state.result;
  if (options.cancel != nullptr && options.cancel->cancelled()) {
    state.result.cancelled = true;
    return state.result;
  }
  if (code != CURLE_OK) {
    const std::string detail = error_buffer[0] != 0 ? error_buffer : curl_easy_strerror(code);
    throw ApiError(code == CURLE_OPERATION_TIMEDOUT ? ErrorCode::kTimeout : ErrorCode::kConnection,
                   0, "watch GET " + path + ": " + detail);
  }
  if (state.status == 0) curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &state.status);
  if (state.status != 200) {
    throw error_from_response(static_cast<int>(state.status), state.error_body, "watch GET " + path,
                              retry_after);
  }
  return state.result;
}

// ---- discovery ----

std::vector<ResourceInfo> Discovery::parse_resource_list(const json& list) {
  std::vector<ResourceInfo> out;
  const auto group_version = list.value("groupVersion", "");
  const auto gv = GroupVersionKind::from_api_version(group_version, "");
  std::map<std::string, std::vector<std::string>> subresources;
  for (const auto& resource : list.value("resources", json::array())) {
    const auto name = resource.value("name", "");
    if (name.empty()) continue;
    if (const auto slash = name.find('/'); slash != std::string::npos) {
      subresources[name.substr(0, slash)].push_back(name.substr(slash + 1));
      continue;
    }
    ResourceInfo info;
    info.gvr = {resource.value("group", gv.group), resource.value("version", gv.version), name};
    info.kind = resource.value("kind", "");
    info.namespaced = resource.value("namespaced", false);
    for (const auto& verb : resource.value("verbs", json::array())) {
      if (verb.is_string()) info.verbs.push_back(verb.get<std::string>());
    }
    out.push_back(std::move(info));
  }
  for (auto& info : out) {
    if (auto it = subresources.find(info.gvr.resource); it != subresources.end()) {
      info.subresources = it->second;
    }
  }
  return out;
}

std::vector<ResourceInfo> Discovery::resources(const std::string& group,
                                               const std::string& version) {
  const std::string gv = group.empty() ? version : group + "/" + version;
  const std::string path = group.empty() ? "/api/" + version : "/apis/" + gv;
  const auto response = execute(*client_.impl_, client_.config_, client_.options_, "GET", path, {},
                                {}, "discovery", true);
  std::vector<ResourceInfo> found;
  if (response.status != 404) found = parse_resource_list(checked(response, "GET", path));
  std::lock_guard lock(mutex_);
  cache_[gv] = found;
  return found;
}

ResourceInfo Discovery::resolve(const GroupVersionKind& gvk) {
  const std::string gv = gvk.api_version();
  auto find = [&](const std::vector<ResourceInfo>& list) -> std::optional<ResourceInfo> {
    for (const auto& info : list) {
      if (info.kind == gvk.kind) return info;
    }
    return std::nullopt;
  };
  {
    std::lock_guard lock(mutex_);
    if (auto it = cache_.find(gv); it != cache_.end()) {
      if (auto info = find(it->second)) return *info;
    }
  }
  // A miss (or a group never read): read the group version again; a new CRD shows up here.
  if (auto info = find(resources(gvk.group, gvk.version))) return *info;
  throw ApiError(ErrorCode::kNotFound, 404, "discovery: the server does not serve " + gvk.str(),
                 "NotFound");
}

std::vector<std::string> Discovery::group_versions() {
  std::vector<std::string> out;
  const auto core = client_.request("GET", "/api", {}, "application/json", "discovery");
  for (const auto& version : core.value("versions", json::array())) {
    out.push_back(version.get<std::string>());
  }
  const auto groups = client_.request("GET", "/apis", {}, "application/json", "discovery");
  for (const auto& group : groups.value("groups", json::array())) {
    for (const auto& version : group.value("versions", json::array())) {
      out.push_back(version.value("groupVersion", ""));
    }
  }
  return out;
}

void Discovery::invalidate() {
  std::lock_guard lock(mutex_);
  cache_.clear();
}

}  // namespace kolla::kube
