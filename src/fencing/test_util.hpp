#pragma once
// Helpers shared by the fencing unit tests.

#include <fstream>
#include <sstream>
#include <string>

#include "fencing/config.hpp"
#include "operator/clock.hpp"

namespace kolla::fencing::testing {

inline json fixture(const std::string& name) {
  std::ifstream in(std::string(FENCING_TESTDATA) + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  return json::parse(s.str());
}

inline std::chrono::system_clock::time_point at(const std::string& rfc3339) {
  return op::parse_time(rfc3339);
}

// A node whose Ready condition has `status` since `since`.
inline json make_node(const std::string& name, const std::string& status, const std::string& since,
                      json labels = json::object()) {
  if (!labels.contains("kolla.openstack.org/compute"))
    labels["kolla.openstack.org/compute"] = "true";
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name}, {"labels", labels}, {"creationTimestamp", "2024-12-01T00:00:00Z"}}},
          {"spec", json::object()},
          {"status",
           {{"conditions", json::array({{{"type", "Ready"},
                                         {"status", status},
                                         {"lastHeartbeatTime", since},
                                         {"lastTransitionTime", since}}})},
            {"addresses", json::array({{{"type", "InternalIP"},
                                        {"address", "10.1.0." + std::to_string(name.size())}}})}}}};
}

}  // namespace kolla::fencing::testing
