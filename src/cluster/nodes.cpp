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
    const size_t i = out.size();
    p.name = "node-" + std::to_string(i);
    p.address = "172.30." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
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

nlohmann::json node_object(const NodePlan& p) {
  using json = nlohmann::json;
  json labels = {{"kubernetes.io/hostname", p.name},
                 {"kubernetes.io/os", "linux"},
                 {"kubernetes.io/arch", "amd64"},
                 {"type", "kwok"}};
  // The charts select on kolla.openstack.org/<role>; node-role.kubernetes.io/<role> is what
  // `kubectl get nodes` shows under ROLES.
  for (const auto& [role, has] :
       {std::pair{"controller", p.controller}, std::pair{"compute", p.compute},
        std::pair{"network", p.network}}) {
    if (!has) continue;
    labels[std::string("kolla.openstack.org/") + role] = "true";
    labels[std::string("node-role.kubernetes.io/") + role] = "";
  }
  json node = {{"apiVersion", "v1"},
               {"kind", "Node"},
               {"metadata",
                {{"name", p.name},
                 {"annotations",
                  {{std::string(kKwokNodeAnnotation), "fake"},
                   {std::string(kNodeAddressAnnotation), p.address},
                   {"node.alpha.kubernetes.io/ttl", "0"}}},
                 {"labels", labels}}}};
  if (!p.taints.empty()) {
    json taints = json::array();
    for (const auto& t : p.taints) {
      json taint = {{"key", t.key}, {"effect", t.effect}};
      if (!t.value.empty()) taint["value"] = t.value;
      taints.push_back(taint);
    }
    node["spec"] = {{"taints", taints}};
  }
  return node;
}

namespace {

// JSON is YAML: one document per object.
std::string yaml_documents(const std::vector<nlohmann::json>& objects) {
  std::string out;
  for (const auto& object : objects) out += "---\n" + object.dump(2) + "\n";
  return out;
}

}  // namespace

std::string node_manifests(const std::vector<NodePlan>& plans, size_t begin, size_t end) {
  std::vector<nlohmann::json> objects;
  for (size_t i = begin; i < end && i < plans.size(); ++i) objects.push_back(node_object(plans[i]));
  return yaml_documents(objects);
}

std::vector<nlohmann::json> storage_objects(int volumes, const std::string& host_dir) {
  using json = nlohmann::json;
  std::vector<json> out;
  out.push_back({{"apiVersion", "storage.k8s.io/v1"},
                 {"kind", "StorageClass"},
                 {"metadata",
                  {{"name", kStorageClass},
                   {"annotations", {{"storageclass.kubernetes.io/is-default-class", "true"}}}}},
                 {"provisioner", "kubernetes.io/no-provisioner"},
                 {"reclaimPolicy", "Retain"},
                 {"volumeBindingMode", "Immediate"}});
  for (int i = 0; i < volumes; ++i) {
    out.push_back(
        {{"apiVersion", "v1"},
         {"kind", "PersistentVolume"},
         {"metadata",
          {{"name", "kolla-pv-" + std::to_string(i)},
           {"labels", {{"kolla.openstack.org/local-cluster", "true"}}}}},
         {"spec",
          {{"capacity", {{"storage", "1Ti"}}},
           {"accessModes", {"ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany"}},
           {"persistentVolumeReclaimPolicy", "Retain"},
           {"storageClassName", kStorageClass},
           {"volumeMode", "Filesystem"},
           {"hostPath",
            {{"path", host_dir + "/pv-" + std::to_string(i)}, {"type", "DirectoryOrCreate"}}}}}});
  }
  return out;
}

std::string storage_manifests(int volumes, const std::string& host_dir) {
  return yaml_documents(storage_objects(volumes, host_dir));
}

}  // namespace kolla::cluster
