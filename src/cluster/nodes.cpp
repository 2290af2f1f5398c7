#include "cluster/nodes.hpp"

#include <sstream>
#include <stdexcept>

#include "cluster/profile.hpp"

namespace kolla::cluster {
namespace {

int parse_count(const std::string& role, const std::string& text) {
  size_t pos = 0;
  int n = -1;
  try {
    n = std::stoi(text, &pos);
  } catch (const std::exception&) {
    pos = 0;
  }
  if (pos != text.size() || n < 0) {
    throw std::invalid_argument("roles: bad count '" + text + "' for " + role);
  }
  return n;
}

}  // namespace

Taint parse_taint(const std::string& text) {
  auto first = text.find(':');
  auto last = text.rfind(':');
  if (first == std::string::npos || first == last) {
    throw std::invalid_argument("taint '" + text + "': expected ROLE:KEY[=VALUE]:EFFECT");
  }
  Taint t;
  t.role = text.substr(0, first);
  std::string kv = text.substr(first + 1, last - first - 1);
  t.effect = text.substr(last + 1);
  auto eq = kv.find('=');
  t.key = kv.substr(0, eq);
  if (eq != std::string::npos) t.value = kv.substr(eq + 1);
  if (t.role != "controller" && t.role != "compute" && t.role != "network") {
    throw std::invalid_argument("taint '" + text +
                                "': role must be controller, compute or network");
  }
  if (t.effect != "NoSchedule" && t.effect != "PreferNoSchedule" && t.effect != "NoExecute") {
    throw std::invalid_argument("taint '" + text +
                                "': effect must be NoSchedule, PreferNoSchedule or NoExecute");
  }
  if (t.key.empty()) throw std::invalid_argument("taint '" + text + "': empty key");
  return t;
}

std::vector<NodePlan> plan_nodes(int nodes, const std::string& roles,
                                 const std::vector<Taint>& taints) {
  if (nodes < 1) throw std::invalid_argument("the cluster needs at least one node");
  std::vector<NodePlan> out;
  auto add = [&](bool controller, bool network, bool compute) {
    NodePlan p;
    p.name = "node-" + std::to_string(out.size());
    p.controller = controller;
    p.network = network;
    p.compute = compute;
    out.push_back(std::move(p));
  };
  if (roles.empty()) {
    if (nodes == 1) {
      add(true, true, true);
    } else {
      int controllers = nodes >= 5 ? 3 : 1;
      for (int i = 0; i < nodes; ++i) add(i < controllers, i < controllers, i >= controllers);
    }
  } else {
    int controller = 0, network = 0, compute = 0;
    std::stringstream ss(roles);
    std::string item;
    while (std::getline(ss, item, ',')) {
      auto eq = item.find('=');
      if (eq == std::string::npos) {
        throw std::invalid_argument("roles: expected ROLE=COUNT, got '" + item + "'");
      }
      std::string role = item.substr(0, eq);
      int n = parse_count(role, item.substr(eq + 1));
      if (role == "controller") {
        controller = n;
      } else if (role == "network") {
        network = n;
      } else if (role == "compute") {
        compute = n;
      } else {
        throw std::invalid_argument("roles: unknown role '" + role + "'");
      }
    }
    int total = std::max(nodes, controller + network + compute);
    for (int i = 0; i < total; ++i) {
      add(i < controller, i >= controller && i < controller + network, i >= controller + network);
    }
  }
  for (auto& p : out) {
    for (const auto& t : taints) {
      bool has = (t.role == "controller" && p.controller) || (t.role == "compute" && p.compute) ||
                 (t.role == "network" && p.network);
      if (has) p.taints.push_back(t);
    }
  }
  return out;
}

std::string node_manifests(const std::vector<NodePlan>& plans, size_t begin, size_t end) {
  std::ostringstream y;
  for (size_t i = begin; i < end && i < plans.size(); ++i) {
    const NodePlan& p = plans[i];
    y << "---\napiVersion: v1\nkind: Node\nmetadata:\n  name: " << p.name << "\n"
      << "  annotations:\n    " << kKwokNodeAnnotation << ": fake\n"
      << "    node.alpha.kubernetes.io/ttl: \"0\"\n"
      << "  labels:\n    kubernetes.io/hostname: " << p.name << "\n"
      << "    kubernetes.io/os: linux\n    kubernetes.io/arch: amd64\n    type: kwok\n";
    if (p.controller) y << "    kolla.openstack.org/controller: \"true\"\n";
    if (p.compute) y << "    kolla.openstack.org/compute: \"true\"\n";
    if (p.network) y << "    kolla.openstack.org/network: \"true\"\n";
    if (!p.taints.empty()) {
      y << "spec:\n  taints:\n";
      for (const auto& t : p.taints) {
        y << "  - key: \"" << t.key << "\"\n";
        if (!t.value.empty()) y << "    value: \"" << t.value << "\"\n";
        y << "    effect: " << t.effect << "\n";
      }
    }
  }
  return y.str();
}

std::string storage_manifests(int volumes, const std::string& host_dir) {
  std::ostringstream y;
  y << "---\napiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata:\n  name: "
    << kStorageClass << "\n  annotations:\n"
    << "    storageclass.kubernetes.io/is-default-class: \"true\"\n"
    << "provisioner: kubernetes.io/no-provisioner\nreclaimPolicy: Retain\n"
    << "volumeBindingMode: Immediate\n";
  for (int i = 0; i < volumes; ++i) {
    y << "---\napiVersion: v1\nkind: PersistentVolume\nmetadata:\n  name: kolla-pv-" << i << "\n"
      << "  labels:\n    kolla.openstack.org/local-cluster: \"true\"\n"
      << "spec:\n  capacity:\n    storage: 1Ti\n"
      << "  accessModes: [ReadWriteOnce, ReadOnlyMany, ReadWriteMany]\n"
      << "  persistentVolumeReclaimPolicy: Retain\n"
      << "  storageClassName: " << kStorageClass << "\n"
      << "  volumeMode: Filesystem\n"
      << "  hostPath:\n    path: " << host_dir << "/pv-" << i << "\n    type: DirectoryOrCreate\n";
  }
  return y.str();
}

}  // namespace kolla::cluster
