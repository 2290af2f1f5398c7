#pragma once
// Where the API server is and how to authenticate: a kubeconfig file or the in-cluster
// service account. TLS is verified unless the kubeconfig says insecure-skip-tls-verify.

#include <stdexcept>
#include <string>

namespace kolla::kube {

// A kubeconfig that cannot be used. The message names the file and the field, never a secret.
class KubeConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct KubeConfig {
  std::string server;  // https://host:port (no trailing slash)
  std::string ca_pem;  // CA bundle (PEM); empty: the system's trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;         // overrides the name checked in the server certificate
  std::string token;                   // bearer token (registered with kolla::register_secret)
  std::string token_file;              // when set the token is re-read from it (rotation)
  std::string client_cert_pem;         // client certificate (PEM)
  std::string client_key_pem;          // client key (PEM; registered as a secret)
  std::string namespace_ = "default";  // the context's namespace
  std::string context;                 // the context used ("" for in-cluster)
  std::string source;                  // the file read, or "in-cluster"
};

struct KubeConfigOptions {
  std::string path;     // explicit --kubeconfig; empty: $KUBECONFIG (first entry), ~/.kube/config
  std::string context;  // empty: current-context
};

// Resolves like kubectl: explicit path, else the first file of $KUBECONFIG, else
// ~/.kube/config when it exists, else in-cluster when KUBERNETES_SERVICE_HOST is set.
// Throws KubeConfigError when nothing is found or the file is broken.
KubeConfig load_kubeconfig(const KubeConfigOptions& options = {});

// Reads one kubeconfig file. Relative file paths inside it are relative to its directory.
KubeConfig load_kubeconfig_file(const std::string& path, const std::string& context = {});

// Parses kubeconfig YAML text; `source` names it in errors, `base_dir` resolves relative paths.
KubeConfig parse_kubeconfig(const std::string& yaml_text, const std::string& source,
                            const std::string& base_dir, const std::string& context = {});

// The in-cluster config: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT, token,
// ca.crt and namespace from sa_dir. Throws KubeConfigError when not in a cluster.
inline constexpr const char* kServiceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount";
KubeConfig load_in_cluster(const std::string& sa_dir = kServiceAccountDir);

}  // namespace kolla::kube
