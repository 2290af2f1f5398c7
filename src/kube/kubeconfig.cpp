#include "kube/kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/redact.hpp"

namespace kolla::kube {

namespace fs = std::filesystem;

namespace {

bool read_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream buffer;
  buffer << in.rdbuf();
  out = buffer.str();
  return !in.bad();
}

std::string trim(std::string text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

// Standard base64 (RFC 4648), whitespace ignored. Returns false on a bad character or length.
bool base64_decode(const std::string& in, std::string& out) {
  out.clear();
  unsigned value = 0;
  int bits = 0;
  int padding = 0;
  int count = 0;
  for (const char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    int digit;
    if (c >= 'A' && c <= 'Z') {
      digit = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      digit = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      digit = c - '0' + 52;
    } else if (c == '+') {
      digit = 62;
    } else if (c == '/') {
      digit = 63;
    } else if (c == '=') {
      ++padding;
      ++count;
      continue;
    } else {
      return false;
    }
    if (padding > 0) return false;  // data after padding
    ++count;
    value = (value << 6) | static_cast<unsigned>(digit);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((value >> bits) & 0xffu);
    }
  }
  return count % 4 == 0 && padding <= 2 && count > 0;
}

class Parser {
 public:
  Parser(std::string source, std::string base_dir)
      : source_(std::move(source)), base_dir_(std::move(base_dir)) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw KubeConfigError("kubeconfig " + source_ + ": " + what);
  }

  std::string path_of(const std::string& file) const {
    if (file.empty() || fs::path(file).is_absolute() || base_dir_.empty()) return file;
    return (fs::path(base_dir_) / file).string();
  }

  std::string scalar(const YAML::Node& node, const char* key, const std::string& where) const {
    const YAML::Node value = node[key];
    if (!value || value.IsNull()) return {};
    if (!value.IsScalar()) fail(where + "." + key + " must be a string");
    return value.as<std::string>();
  }

  // The named entry of a list such as clusters: [{name: x, cluster: {...}}].
  YAML::Node named(const YAML::Node& root, const char* list, const char* field,
                   const std::string& name) const {
    const YAML::Node entries = root[list];
    if (!entries || entries.IsNull()) fail(std::string("no '") + list + "' section");
    if (!entries.IsSequence()) fail(std::string("'") + list + "' must be a list");
    for (const auto& entry : entries) {
      if (!entry.IsMap()) fail(std::string("an entry of '") + list + "' is not a map");
      const YAML::Node entry_name = entry["name"];
      if (entry_name && entry_name.IsScalar() && entry_name.as<std::string>() == name) {
        const YAML::Node body = entry[field];
        if (!body || !body.IsMap()) {
          fail(std::string(list) + "[name=" + name + "]." + field + " is missing or not a map");
        }
        return body;
      }
    }
    fail(std::string(list) + ": no entry named '" + name + "'");
  }

  // Inline *-data (base64) or a file; `what` names the field for errors.
  std::string pem(const YAML::Node& node, const std::string& where, const char* file_key,
                  const char* data_key) const {
    const std::string data = scalar(node, data_key, where);
    if (!data.empty()) {
      std::string decoded;
      if (!base64_decode(data, decoded)) fail(where + "." + data_key + " is not valid base64");
      return decoded;
    }
    const std::string file = scalar(node, file_key, where);
    if (file.empty()) return {};
    std::string content;
    const std::string path = path_of(file);
    if (!read_file(path, content)) fail(where + "." + file_key + ": cannot read " + path);
    return content;
  }

  KubeConfig parse(const std::string& text, const std::string& wanted_context) const {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      fail(std::string("not valid YAML (line ") + std::to_string(e.mark.line + 1) + ", column " +
           std::to_string(e.mark.column + 1) + ")");
    }
    if (!root.IsMap()) fail("not a kubeconfig (the document is not a map)");
    KubeConfig config;
    config.source = source_;
    std::string context_name = wanted_context;
    if (context_name.empty()) context_name = scalar(root, "current-context", "");
    if (context_name.empty()) fail("current-context is not set and no context was given");
    config.context = context_name;
    const YAML::Node context = named(root, "contexts", "context", context_name);
    const std::string cwhere = "contexts[name=" + context_name + "].context";
    const std::string cluster_name = scalar(context, "cluster", cwhere);
    if (cluster_name.empty()) fail(cwhere + ".cluster is missing");
    const std::string user_name = scalar(context, "user", cwhere);
    if (const auto ns = scalar(context, "namespace", cwhere); !ns.empty()) config.namespace_ = ns;

    const YAML::Node cluster = named(root, "clusters", "cluster", cluster_name);
    const std::string kwhere = "clusters[name=" + cluster_name + "].cluster";
    config.server = scalar(cluster, "server", kwhere);
    if (config.server.empty()) fail(kwhere + ".server is missing");
    if (config.server.find("://") == std::string::npos) config.server = "https://" + config.server;
    while (!config.server.empty() && config.server.back() == '/') config.server.pop_back();
    config.ca_pem = pem(cluster, kwhere, "certificate-authority", "certificate-authority-data");
    config.tls_server_name = scalar(cluster, "tls-server-name", kwhere);
    const std::string insecure = scalar(cluster, "insecure-skip-tls-verify", kwhere);
    if (!insecure.empty()) {
      if (insecure == "true") {
        config.insecure_skip_tls_verify = true;
      } else if (insecure != "false") {
        fail(kwhere + ".insecure-skip-tls-verify must be true or false");
      }
    }

    if (!user_name.empty()) {
      const YAML::Node user = named(root, "users", "user", user_name);
      const std::string uwhere = "users[name=" + user_name + "].user";
      config.token = scalar(user, "token", uwhere);
      const std::string token_file = scalar(user, "tokenFile", uwhere);
      if (config.token.empty() && !token_file.empty()) {
        config.token_file = path_of(token_file);
        if (!read_file(config.token_file, config.token)) {
          fail(uwhere + ".tokenFile: cannot read " + config.token_file);
        }
        config.token = trim(config.token);
        if (config.token.empty()) fail(uwhere + ".tokenFile: " + config.token_file + " is empty");
      }
      register_secret(config.token);
      config.client_cert_pem = pem(user, uwhere, "client-certificate", "client-certificate-data");
      config.client_key_pem = pem(user, uwhere, "client-key", "client-key-data");
      register_secret(config.client_key_pem);
      if (!config.client_cert_pem.empty() && config.client_key_pem.empty()) {
        fail(uwhere + " has a client certificate but no client-key or client-key-data");
      }
      if (config.client_cert_pem.empty() && !config.client_key_pem.empty()) {
        fail(uwhere + " has a client key but no client-certificate or client-certificate-data");
      }
      if (user["exec"] || user["auth-provider"]) {
        if (config.token.empty() && config.client_cert_pem.empty()) {
          fail(uwhere + ": exec and auth-provider credentials are not supported");
        }
      }
    }
    if (config.server.rfind("https://", 0) != 0 && config.server.rfind("http://", 0) != 0) {
      fail(kwhere + ".server must be an http:// or https:// URL");
    }
    return config;
  }

 private:
  std::string source_;
  std::string base_dir_;
};

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

KubeConfig parse_kubeconfig(const std::string& yaml_text, const std::string& source,
                            const std::string& base_dir, const std::string& context) {
  return Parser(source, base_dir).parse(yaml_text, context);
}

KubeConfig load_kubeconfig_file(const std::string& path, const std::string& context) {
  std::string text;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw KubeConfigError("kubeconfig " + path + ": no such file");
  }
  if (!read_file(path, text)) throw KubeConfigError("kubeconfig " + path + ": cannot be read");
  const auto dir = fs::absolute(fs::path(path), ec).parent_path().string();
  return parse_kubeconfig(text, path, dir, context);
}

KubeConfig load_in_cluster(const std::string& sa_dir) {
  const std::string host = env("KUBERNETES_SERVICE_HOST");
  const std::string port = env("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    throw KubeConfigError(
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set");
  }
  KubeConfig config;
  config.source = "in-cluster";
  const bool ipv6 = host.find(':') != std::string::npos;
  config.server = "https://" + (ipv6 ? "[" + host + "]" : host) + ":" + port;
  config.token_file = (fs::path(sa_dir) / "token").string();
  if (!read_file(config.token_file, config.token)) {
    throw KubeConfigError("in-cluster config: cannot read the token " + config.token_file);
  }
  config.token = trim(config.token);
  if (config.token.empty()) {
    throw KubeConfigError("in-cluster config: the token " + config.token_file + " is empty");
  }
  register_secret(config.token);
  const std::string ca = (fs::path(sa_dir) / "ca.crt").string();
  if (!read_file(ca, config.ca_pem)) {
    throw KubeConfigError("in-cluster config: cannot read the CA " + ca);
  }
  std::string ns;
  if (read_file((fs::path(sa_dir) / "namespace").string(), ns) && !trim(ns).empty()) {
    config.namespace_ = trim(ns);
  }
  return config;
}

KubeConfig load_kubeconfig(const KubeConfigOptions& options) {
  if (!options.path.empty()) return load_kubeconfig_file(options.path, options.context);
  if (const std::string list = env("KUBECONFIG"); !list.empty()) {
    std::string first = list.substr(0, list.find(':'));
    if (!first.empty()) return load_kubeconfig_file(first, options.context);
  }
  if (const std::string home = env("HOME"); !home.empty()) {
    const auto path = (fs::path(home) / ".kube" / "config").string();
    std::error_code ec;
    if (fs::exists(path, ec)) return load_kubeconfig_file(path, options.context);
  }
  if (!env("KUBERNETES_SERVICE_HOST").empty()) return load_in_cluster();
  throw KubeConfigError(
      "no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or run in a "
      "cluster");
}

}  // namespace kolla::kube
