#pragma once
// Migration from kolla-ansible (kollakube import): globals.yml → an OpenStackDeployment
// (docs/design/contracts.md §1) and passwords.yml → the passwords Secret (§5).
//
// Facts taken from kolla-ansible's ansible/group_vars/all.yml: enable_openstack_core defaults to
// yes and keystone, glance, nova, neutron, heat and horizon follow it; mariadb, memcached and
// rabbitmq default to yes; placement follows nova; openvswitch follows neutron unless
// neutron_plugin_agent is linuxbridge; cinder defaults to no. Images are
// <docker_registry>/<docker_namespace>/<name>:<openstack_release>-<kolla_base_distro>-<version>
// (docker_registry quay.io, docker_namespace openstack.kolla, kolla_base_distro rocky).
//
// Every key the import does not map is reported as a warning, never dropped silently. Password
// values never appear in warnings, errors or logs (they are registered with kolla::redact).

#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chart/passwords.hpp"

namespace kolla::migrate {

// Unusable input (malformed YAML, not a mapping, an invalid value for a mapped key).
struct MigrateError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The twelve services kolla-kubernetes deploys (chart names).
const std::vector<std::string>& supported_services();

struct ImportOptions {
  std::string name = "openstack";        // metadata.name of the OpenStackDeployment
  std::string namespace_ = "openstack";  // metadata.namespace
};

struct GlobalsImport {
  nlohmann::json deployment;          // the OpenStackDeployment document
  std::vector<std::string> enabled;   // services enabled, sorted
  std::vector<std::string> disabled;  // supported services left out, sorted
  std::vector<std::string> warnings;  // "key: what happened", in key order
  // The document as YAML, with a header comment naming the source and the disabled services.
  std::string to_yaml(std::string_view source) const;
};

// Maps a globals.yml document. Throws MigrateError.
GlobalsImport import_globals(std::string_view text, std::string_view source,
                             const ImportOptions& options = {});

struct PasswordsImport {
  chart::PasswordSecret secret;       // the keys the charts use, with the file's values
  std::vector<std::string> unused;    // keys no chart reads (not copied), sorted
  std::vector<std::string> empty;     // keys the charts use that have no value, sorted
  std::vector<std::string> missing;   // keys the charts use that the file lacks, sorted
  std::vector<std::string> warnings;  // key names and reasons only, never values
};

// Maps a passwords.yml document onto the keys in `wanted` (chart::contract_password_keys()
// plus chart::password_keys_in_charts()). Key names are kolla-ansible's, 1:1. Throws
// MigrateError (without any value in the message).
PasswordsImport import_passwords(std::string_view text, std::string_view source,
                                 const std::set<std::string>& wanted,
                                 const std::string& secret_name, const std::string& namespace_);

}  // namespace kolla::migrate
