#include "chart/passwords.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <fstream>
#include <regex>
#include <sstream>

#include "common/redact.hpp"
#include "spec/yaml_json.hpp"

namespace kolla::chart {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

void random_bytes(unsigned char* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    throw PasswordError("OpenSSL RAND_bytes failed: no secure randomness available");
  }
}

std::optional<std::string> base64_decode(const std::string& text) {
  static const std::string kStd =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned int buffer = 0;
  int bits = 0;
  std::size_t padding = 0;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == ' ') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    auto pos = kStd.find(c);
    if (pos == std::string::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<unsigned int>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xff);
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

}  // namespace

std::set<std::string> contract_password_keys() {
  return {
      // infrastructure
      "database_password", "rabbitmq_password", "rabbitmq_cluster_cookie", "memcache_secret_key",
      // keystone
      "keystone_admin_password", "keystone_database_password", "keystone_fernet_key_0",
      "keystone_fernet_key_1", "keystone_credential_key_0", "keystone_credential_key_1",
      // glance, placement
      "glance_database_password", "glance_keystone_password", "placement_database_password",
      "placement_keystone_password",
      // nova
      "nova_database_password", "nova_api_database_password", "nova_keystone_password",
      // neutron
      "neutron_database_password", "neutron_keystone_password", "metadata_secret",
      // cinder
      "cinder_database_password", "cinder_keystone_password",
      // heat
      "heat_database_password", "heat_keystone_password", "heat_domain_admin_password",
      // horizon
      "horizon_secret_key"};
}

std::set<std::string> password_keys_in_charts(const fs::path& charts_dir) {
  static const std::regex kKey{
      R"((?:["']|[kK]ey:[ \t]*)([a-z][a-z0-9]*(?:_[a-z0-9]+)*_(?:password|secret|secret_key|encryption_key|cookie|key_[0-9]+))\b)"};
  std::set<std::string> keys;
  std::error_code ec;
  if (!fs::is_directory(charts_dir, ec)) return keys;
  for (auto it = fs::recursive_directory_iterator(charts_dir, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    const auto& path = it->path();
    if (it->is_directory() && path.filename() == "charts") {  // packaged dependencies
      it.disable_recursion_pending();
      continue;
    }
    const auto ext = path.extension().string();
    if (!it->is_regular_file() || (ext != ".yaml" && ext != ".tpl" && ext != ".yml")) continue;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    const std::string content = text.str();
    for (std::sregex_iterator m(content.begin(), content.end(), kKey), end; m != end; ++m) {
      keys.insert((*m)[1].str());
    }
  }
  return keys;
}

bool is_fernet_key(std::string_view key) {
  static const std::regex kFernet{R"(^.*_(fernet|credential)_key_[0-9]+$)"};
  return std::regex_match(key.begin(), key.end(), kFernet);
}

std::string random_password(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  std::array<unsigned char, 64> buffer{};
  while (out.size() < length) {
    random_bytes(buffer.data(), buffer.size());
    for (unsigned char b : buffer) {
      if (b >= 248) continue;  // 248 = 4 * 62: keeps the choice uniform
      out += kAlphabet[b % kAlphabet.size()];
      if (out.size() == length) break;
    }
  }
  return out;
}

std::string random_fernet_key() {
  std::array<unsigned char, 32> key{};
  random_bytes(key.data(), key.size());
  std::array<unsigned char, 45> encoded{};  // 4 * ceil(32 / 3) + NUL
  const int size = EVP_EncodeBlock(encoded.data(), key.data(), static_cast<int>(key.size()));
  std::string out(encoded.begin(), encoded.begin() + size);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

PasswordSecret parse_password_secret(std::string_view text, std::string_view source) {
  const std::string where(source);
  json doc;
  try {
    doc = yaml::parse(text, source);
  } catch (const yaml::YamlError& e) {
    throw PasswordError(e.what());
  }
  if (!doc.is_object() || doc.value("kind", json()) != "Secret" ||
      doc.value("apiVersion", json()) != "v1") {
    throw PasswordError(where + ": not a Secret manifest (apiVersion: v1, kind: Secret)");
  }
  PasswordSecret secret;
  const json metadata = doc.value("metadata", json::object());
  if (metadata.is_object()) {
    if (metadata.value("name", json()).is_string()) secret.name = metadata["name"];
    if (metadata.value("namespace", json()).is_string()) secret.namespace_ = metadata["namespace"];
  }
  for (const char* field : {"data", "stringData"}) {
    if (!doc.contains(field) || doc[field].is_null()) continue;
    if (!doc[field].is_object()) throw PasswordError(where + ": " + field + " must be a mapping");
    for (const auto& [key, value] : doc[field].items()) {
      if (!value.is_string()) {
        throw PasswordError(where + ": " + field + "." + key + " must be a string");
      }
      std::string plain = value.get<std::string>();
      if (std::string_view(field) == "data") {
        auto decoded = base64_decode(plain);
        if (!decoded) throw PasswordError(where + ": data." + key + " is not base64");
        plain = std::move(*decoded);
      }
      kolla::register_secret(plain);
      secret.values[key] = std::move(plain);  // stringData wins, as in Kubernetes
    }
  }
  return secret;
}

FillResult fill_passwords(PasswordSecret secret, const std::set<std::string>& keys) {
  FillResult result;
  for (const auto& key : keys) {
    if (secret.values.contains(key)) {
      result.kept.push_back(key);
      continue;
    }
    std::string value = is_fernet_key(key) ? random_fernet_key() : random_password();
    kolla::register_secret(value);
    secret.values[key] = std::move(value);
    result.added.push_back(key);
  }
  result.secret = std::move(secret);
  return result;
}

std::string to_manifest(const PasswordSecret& secret) {
  json string_data = json::object();
  for (const auto& [key, value] : secret.values) string_data[key] = value;
  json manifest = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata",
                    {{"name", secret.name},
                     {"namespace", secret.namespace_},
                     {"labels",
                      {{"app.kubernetes.io/part-of", "openstack"},
                       {"app.kubernetes.io/managed-by", "kollakube"}}}}},
                   {"type", "Opaque"},
                   {"stringData", string_data}};
  return "# Written by kollakube genpwd: every password the OpenStack charts read.\n"
         "# Keep it secret. Running genpwd again keeps these values and adds missing keys.\n" +
         yaml::emit(manifest);
}

}  // namespace kolla::chart
