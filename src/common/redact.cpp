#include "common/redact.hpp"

#include <algorithm>
#include <mutex>
#include <regex>
#include <set>

namespace kolla {
namespace {

constexpr std::string_view kMask = "***";

struct SecretRegistry {
  std::mutex mutex;
  std::set<std::string, std::greater<>> values;  // longest-first is not needed; any order works
};

SecretRegistry& registry() {
  static SecretRegistry r;
  return r;
}

}  // namespace

void register_secret(std::string_view value) {
  if (value.size() < 4) return;
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  r.values.emplace(value);
}

std::string redact(std::string_view text) {
  std::string out(text);
  {
    auto& r = registry();
    std::lock_guard lock(r.mutex);
    for (const auto& secret : r.values) {
      for (auto pos = out.find(secret); pos != std::string::npos;
           pos = out.find(secret, pos + kMask.size())) {
        out.replace(pos, secret.size(), kMask);
      }
    }
  }
  static const std::regex bearer(R"((Bearer\s+)[A-Za-z0-9\-._~+/=]+)", std::regex::icase);
  static const std::regex keyed(
      R"(((?:password|passwd|secret|token|client-key-data)["']?\s*[=:]\s*["']?)[^\s"',&}]+)",
      std::regex::icase);
  static const std::regex url_userinfo(R"(([a-z][a-z0-9+.\-]*://[^:/@\s]+:)[^@\s/]+@)",
                                       std::regex::icase);
  out = std::regex_replace(out, bearer, "$1***");
  out = std::regex_replace(out, keyed, "$1***");
  out = std::regex_replace(out, url_userinfo, "$1***@");
  return out;
}

}  // namespace kolla
