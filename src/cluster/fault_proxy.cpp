#include "cluster/fault_proxy.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <deque>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "cluster/profile.hpp"

namespace kolla::cluster {
namespace {

using namespace std::chrono_literals;

std::string trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

double parse_double(const std::string& key, const std::string& v) {
  size_t pos = 0;
  double d = 0;
  try {
    d = std::stod(v, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos != v.size() || v.empty()) throw std::invalid_argument(key + ": not a number: " + v);
  return d;
}

bool parse_bool(const std::string& key, const std::string& v) {
  if (v == "true" || v == "1" || v == "yes") return true;
  if (v == "false" || v == "0" || v == "no") return false;
  throw std::invalid_argument(key + ": expected true or false, got " + v);
}

const char* reason_for(int code) {
  switch (code) {
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "InternalError";
  }
}

bool hop_by_hop(const std::string& name) {
  static const char* names[] = {
      "connection",       "keep-alive", "transfer-encoding", "content-length", "upgrade",
      "proxy-connection", "te",         "trailer",           "host",           "accept-encoding",
      "content-encoding"};
  for (const char* n : names) {
    if (name.size() == std::strlen(n) &&
        std::equal(name.begin(), name.end(), n,
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return true;
    }
  }
  return false;
}

// One forwarded request: a worker thread reads the API server's answer into `chunks` while the
// server thread writes them to the client.
struct Stream {
  std::mutex m;
  std::condition_variable cv;
  bool have_headers = false;
  bool done = false;
  int status = 0;
  httplib::Headers headers;
  std::deque<std::string> chunks;
  std::string error;
  std::atomic<bool> cancel{false};
  std::unique_ptr<httplib::SSLClient> client;
  std::thread worker;

  void finish() {
    cancel = true;
    if (client) client->stop();
    if (worker.joinable()) worker.join();
  }
};

}  // namespace

FaultSpec parse_fault_spec(std::string_view text) {
  FaultSpec spec;
  std::stringstream ss{std::string(text)};
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trim(item);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string::npos)
      throw std::invalid_argument("fault spec: expected KEY=VALUE: " + item);
    std::string key = trim(item.substr(0, eq));
    std::string value = trim(item.substr(eq + 1));
    if (key == "error-rate") {
      spec.error_rate = parse_double(key, value);
      if (spec.error_rate < 0 || spec.error_rate > 1) {
        throw std::invalid_argument("error-rate: must be within [0, 1]");
      }
    } else if (key == "codes") {
      spec.error_codes.clear();
      std::stringstream cs(value);
      std::string c;
      while (std::getline(cs, c, '+')) {
        int code = static_cast<int>(parse_double(key, c));
        if (code < 400 || code > 599) throw std::invalid_argument("codes: not an error code: " + c);
        spec.error_codes.push_back(code);
      }
      if (spec.error_codes.empty()) throw std::invalid_argument("codes: empty");
    } else if (key == "retry-after") {
      spec.retry_after_seconds = static_cast<int>(parse_double(key, value));
    } else if (key == "latency-ms") {
      spec.latency = std::chrono::milliseconds(static_cast<int64_t>(parse_double(key, value)));
    } else if (key == "latency") {
      spec.latency = parse_duration(value);
    } else if (key == "latency-jitter-ms") {
      spec.latency_jitter =
          std::chrono::milliseconds(static_cast<int64_t>(parse_double(key, value)));
    } else if (key == "cut-watch-after") {
      spec.cut_watch_after = parse_duration(value);
    } else if (key == "cut-mode") {
      if (value != "abort" && value != "end") {
        throw std::invalid_argument("cut-mode: abort or end, got " + value);
      }
      spec.cut_abort = value == "abort";
    } else if (key == "watch-errors") {
      spec.errors_on_watch = parse_bool(key, value);
    } else if (key == "seed") {
      spec.seed = static_cast<uint64_t>(parse_double(key, value));
    } else {
      throw std::invalid_argument("fault spec: unknown key '" + key + "'");
    }
    if (spec.latency.count() < 0 || spec.latency_jitter.count() < 0) {
      throw std::invalid_argument("fault spec: latency must not be negative");
    }
  }
  return spec;
}

std::string to_string(const FaultSpec& spec) {
  std::ostringstream out;
  out << "error-rate=" << spec.error_rate << ",codes=";
  for (size_t i = 0; i < spec.error_codes.size(); ++i) {
    out << (i ? "+" : "") << spec.error_codes[i];
  }
  out << ",retry-after=" << spec.retry_after_seconds << ",latency-ms=" << spec.latency.count()
      << ",latency-jitter-ms=" << spec.latency_jitter.count()
      << ",cut-watch-after=" << spec.cut_watch_after.count() << "ms"
      << ",cut-mode=" << (spec.cut_abort ? "abort" : "end")
      << ",watch-errors=" << (spec.errors_on_watch ? "true" : "false");
  if (spec.seed != 0) out << ",seed=" << spec.seed;
  return out.str();
}

bool is_watch_request(std::string_view target) {
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  if (path.find("/watch/") != std::string_view::npos) return true;
  if (q == std::string_view::npos) return false;
  std::string_view query = target.substr(q + 1);
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view kv = query.substr(start, amp == std::string_view::npos ? amp : amp - start);
    if (kv == "watch=true" || kv == "watch=1" || kv == "watch=True") return true;
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return false;
}

FaultDecider::FaultDecider(FaultSpec spec)
    : spec_(std::move(spec)), rng_(spec_.seed != 0 ? spec_.seed : std::random_device{}()) {}

FaultDecision FaultDecider::decide(bool is_watch) {
  FaultDecision d;
  std::lock_guard<std::mutex> lock(mutex_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  d.delay = spec_.latency;
  if (spec_.latency_jitter.count() > 0) {
    std::uniform_int_distribution<int64_t> jitter(0, spec_.latency_jitter.count());
    d.delay += std::chrono::milliseconds(jitter(rng_));
  }
  bool may_fail = !is_watch || spec_.errors_on_watch;
  if (may_fail && spec_.error_rate > 0 && !spec_.error_codes.empty() &&
      unit(rng_) < spec_.error_rate) {
    std::uniform_int_distribution<size_t> pick(0, spec_.error_codes.size() - 1);
    d.status = spec_.error_codes[pick(rng_)];
  }
  if (is_watch) d.cut_after = spec_.cut_watch_after;
  return d;
}

std::string stats_json(const FaultProxyStats& stats) {
  std::ostringstream out;
  out << R"({"requests":)" << stats.requests << R"(,"injectedErrors":)" << stats.injected_errors
      << R"(,"cutWatches":)" << stats.cut_watches << "}";
  return out.str();
}

std::string injected_status_body(int code) {
  std::ostringstream out;
  out << R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
      << R"("message":"injected by the kolla fault proxy","reason":")" << reason_for(code)
      << R"(","code":)" << code << "}";
  return out.str();
}

struct FaultProxy::Impl {
  FaultProxyOptions options;
  FaultDecider decider;
  httplib::SSLServer server;
  std::string upstream_host;
  int upstream_port = 443;
  std::atomic<uint64_t> requests{0}, injected{0}, cuts{0};

  explicit Impl(FaultProxyOptions o)
      : options(std::move(o)),
        decider(options.spec),
        server(options.serve_cert.c_str(), options.serve_key.c_str()) {
    std::string u = options.upstream;
    const std::string scheme = "https://";
    if (u.rfind(scheme, 0) != 0) throw std::invalid_argument("upstream must be https://HOST:PORT");
    u = u.substr(scheme.size());
    if (auto slash = u.find('/'); slash != std::string::npos) u = u.substr(0, slash);
    auto colon = u.rfind(':');
    upstream_host = u.substr(0, colon);
    if (colon != std::string::npos) upstream_port = std::stoi(u.substr(colon + 1));
    if (!server.is_valid()) {
      throw std::runtime_error("fault proxy: cannot load the serving certificate " +
                               options.serve_cert);
    }
    server.new_task_queue = [] { return new httplib::ThreadPool(128); };
    server.set_read_timeout(300s);
    server.set_write_timeout(300s);
    server.Get("/__kolla/fault-proxy/healthz", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("ok", "text/plain");
    });
    server.Get("/__kolla/fault-proxy/stats",
               [this](const httplib::Request&, httplib::Response& res) {
                 res.set_content(stats_json({requests.load(), injected.load(), cuts.load()}),
                                 "application/json");
               });
    auto handler = [this](const httplib::Request& req, httplib::Response& res) {
      handle(req, res);
    };
    server.Get(".*", handler);
    server.Post(".*", handler);
    server.Put(".*", handler);
    server.Patch(".*", handler);
    server.Delete(".*", handler);
    server.Options(".*", handler);
  }

  // A caller with a bearer token is sent on as itself: the API server authenticates a client
  // certificate before a token, so the proxy's own certificate would make every caller admin.
  std::unique_ptr<httplib::SSLClient> make_client(bool watch, bool caller_has_token) const {
    auto client = caller_has_token
                      ? std::make_unique<httplib::SSLClient>(upstream_host, upstream_port)
                      : std::make_unique<httplib::SSLClient>(upstream_host, upstream_port,
                                                             options.upstream_tls.cert,
                                                             options.upstream_tls.key);
    if (!options.upstream_tls.ca.empty()) {
      client->set_ca_cert_path(options.upstream_tls.ca.c_str());
      client->enable_server_certificate_verification(true);
    } else {
      client->enable_server_certificate_verification(false);
    }
    client->set_connection_timeout(10s);
    client->set_read_timeout(watch ? 3600s : 120s);
    client->set_write_timeout(120s);
    client->set_decompress(false);
    client->set_keep_alive(false);
    return client;
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    ++requests;
    std::string target = req.target;
    if (target.empty()) {
      target = req.path;
      char sep = '?';
      for (const auto& [k, v] : req.params) {
        target += sep + httplib::detail::encode_query_param(k) + "=" +
                  httplib::detail::encode_query_param(v);
        sep = '&';
      }
    }
    const bool watch = is_watch_request(target);
    FaultDecision d = decider.decide(watch);
    if (d.delay.count() > 0) std::this_thread::sleep_for(d.delay);
    if (d.status != 0) {
      ++injected;
      spdlog::debug("fault proxy: {} {} -> injected {}", req.method, req.path, d.status);
      res.status = d.status;
      if (d.status == 429 || d.status == 503) {
        res.set_header("Retry-After", std::to_string(decider.spec().retry_after_seconds));
      }
      res.set_content(injected_status_body(d.status), "application/json");
      return;
    }

    auto s = std::make_shared<Stream>();
    s->client = make_client(watch, req.has_header("Authorization"));
    httplib::Request up;
    up.method = req.method;
    up.path = target;
    for (const auto& [k, v] : req.headers) {
      if (hop_by_hop(k) || k == "REMOTE_ADDR" || k == "REMOTE_PORT" || k == "LOCAL_ADDR" ||
          k == "LOCAL_PORT") {
        continue;
      }
      up.headers.emplace(k, v);
    }
    up.body = req.body;
    up.response_handler = [s](const httplib::Response& r) {
      std::lock_guard<std::mutex> lock(s->m);
      s->status = r.status;
      s->headers = r.headers;
      s->have_headers = true;
      s->cv.notify_all();
      return !s->cancel;
    };
    up.content_receiver = [s](const char* data, size_t n, uint64_t, uint64_t) {
      std::lock_guard<std::mutex> lock(s->m);
      s->chunks.emplace_back(data, n);
      s->cv.notify_all();
      return !s->cancel;
    };
    s->worker = std::thread([s, up = std::move(up)]() mutable {
      httplib::Response r;
      httplib::Error err = httplib::Error::Success;
      bool ok = s->client->send(up, r, err);
      std::lock_guard<std::mutex> lock(s->m);
      if (!ok && !s->have_headers) s->error = httplib::to_string(err);
      if (!s->have_headers && ok) {  // HEAD and friends: no body callbacks
        s->status = r.status;
        s->headers = r.headers;
        s->have_headers = true;
      }
      s->done = true;
      s->cv.notify_all();
    });

    {
      std::unique_lock<std::mutex> lock(s->m);
      bool ready = s->cv.wait_for(lock, 120s, [&] { return s->have_headers || s->done; });
      if (!ready || !s->have_headers) {
        std::string error = ready ? s->error : "timeout waiting for the API server";
        lock.unlock();
        s->finish();
        spdlog::warn("fault proxy: {} {} -> upstream failed: {}", req.method, req.path, error);
        res.status = 502;
        res.set_content(injected_status_body(502), "application/json");
        return;
      }
      res.status = s->status;
      for (const auto& [k, v] : s->headers) {
        if (hop_by_hop(k) || k == "Content-Type") continue;
        res.headers.emplace(k, v);
      }
    }
    std::string content_type = "application/json";
    if (auto it = s->headers.find("Content-Type"); it != s->headers.end()) {
      content_type = it->second;
    }
    // cpp-httplib gzips "application/json" bodies for clients that accept it, and a compressed
    // stream is held back until the compressor flushes: watch events would not arrive until the
    // stream ends. Kubernetes' own media type for watch streams is not compressed by it.
    if (watch && content_type == "application/json") content_type = "application/json;stream=watch";
    std::optional<std::chrono::steady_clock::time_point> cut;
    if (d.cut_after.count() > 0) cut = std::chrono::steady_clock::now() + d.cut_after;
    const bool abort = decider.spec().cut_abort;
    res.set_chunked_content_provider(
        content_type,
        [this, s, cut, abort](size_t, httplib::DataSink& sink) {
          std::unique_lock<std::mutex> lock(s->m);
          while (s->chunks.empty() && !s->done) {
            auto until = std::chrono::steady_clock::now() + 500ms;
            if (cut && *cut < until) until = *cut;
            s->cv.wait_until(lock, until);
            if (cut && std::chrono::steady_clock::now() >= *cut) break;
            if (sink.is_writable && !sink.is_writable()) return false;
          }
          if (cut && std::chrono::steady_clock::now() >= *cut) {
            ++cuts;
            s->cancel = true;
            if (abort) return false;
            sink.done();
            return true;
          }
          while (!s->chunks.empty()) {
            std::string chunk = std::move(s->chunks.front());
            s->chunks.pop_front();
            lock.unlock();
            if (!sink.write(chunk.data(), chunk.size())) return false;
            lock.lock();
          }
          if (s->done && s->chunks.empty()) sink.done();
          return true;
        },
        [s](bool) { s->finish(); });
  }
};

FaultProxy::FaultProxy(FaultProxyOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

FaultProxy::~FaultProxy() {
  stop();
}

void FaultProxy::bind() {
  if (port_ != 0) return;
  const auto& o = impl_->options;
  if (o.listen_port == 0) {
    port_ = impl_->server.bind_to_any_port(o.listen_host);
    if (port_ <= 0) port_ = 0;
  } else if (impl_->server.bind_to_port(o.listen_host, o.listen_port)) {
    port_ = o.listen_port;
  }
  if (port_ == 0) {
    throw std::runtime_error("fault proxy: cannot listen on " + o.listen_host + ":" +
                             std::to_string(o.listen_port));
  }
  spdlog::info("fault proxy: https://{}:{} -> {} ({})", o.listen_host, port_, o.upstream,
               to_string(o.spec));
}

void FaultProxy::start() {
  bind();
  thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
  while (!impl_->server.is_running()) std::this_thread::sleep_for(5ms);
}

void FaultProxy::run() {
  bind();
  impl_->server.listen_after_bind();
}

void FaultProxy::stop() {
  if (impl_) impl_->server.stop();
  if (thread_.joinable()) thread_.join();
}

FaultProxyStats FaultProxy::stats() const {
  return {impl_->requests.load(), impl_->injected.load(), impl_->cuts.load()};
}

}  // namespace kolla::cluster
