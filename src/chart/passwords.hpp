#pragma once
// The passwords Secret (docs/design/contracts.md §5) that `kollakube genpwd` writes: every key the
// charts read, kolla-ansible passwords.yml names, random values from OpenSSL RAND_bytes.
// Existing values are never regenerated. Every value read or generated is registered with
// kolla::register_secret so it cannot reach a log or an error message.

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace kolla::chart {

struct PasswordError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct PasswordSecret {
  std::string name = "openstack-passwords";
  std::string namespace_ = "openstack";
  std::map<std::string, std::string> values;  // key → plain value
};

// The keys named by the contract (§5) and kolla-ansible's passwords.yml for the twelve services.
std::set<std::string> contract_password_keys();

// Keys the charts under charts_dir mention: quoted names or `…Key: name` values ending in
// _password, _secret, _secret_key, _encryption_key, _cookie or _key_<n> in templates and values
// files (the charts pass key names to kolla-common's secretKeyRef helpers). Missing dir: {}.
std::set<std::string> password_keys_in_charts(const std::filesystem::path& charts_dir);

// keystone_fernet_key_<n> and keystone_credential_key_<n>: Fernet keys, not passwords.
bool is_fernet_key(std::string_view key);

// length characters from [A-Za-z0-9], uniformly, from RAND_bytes.
std::string random_password(std::size_t length = 32);
// 32 random bytes, URL-safe base64 with padding (44 characters), as cryptography.Fernet expects.
std::string random_fernet_key();

// Reads a Secret manifest (data: base64 or stringData). Throws PasswordError naming the source.
PasswordSecret parse_password_secret(std::string_view text, std::string_view source);

struct FillResult {
  PasswordSecret secret;
  std::vector<std::string> added;  // keys generated now, sorted
  std::vector<std::string> kept;   // keys whose existing value was kept, sorted
};

// Adds a random value for every key of `keys` that `secret` lacks; never changes existing ones.
FillResult fill_passwords(PasswordSecret secret, const std::set<std::string>& keys);

// The Secret manifest (YAML, stringData, keys sorted).
std::string to_manifest(const PasswordSecret& secret);

}  // namespace kolla::chart
