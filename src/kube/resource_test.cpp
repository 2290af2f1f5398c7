#include "kube/resource.hpp"

#include <gtest/gtest.h>

namespace kolla::kube {
namespace {

ResourceInfo info(std::string group, std::string version, std::string resource, bool namespaced) {
  ResourceInfo i;
  i.gvr = {std::move(group), std::move(version), std::move(resource)};
  i.namespaced = namespaced;
  return i;
}

TEST(ResourceTest, ApiVersionRoundTrip) {
  const auto apps = GroupVersionKind::from_api_version("apps/v1", "Deployment");
  EXPECT_EQ(apps.group, "apps");
  EXPECT_EQ(apps.version, "v1");
  EXPECT_EQ(apps.api_version(), "apps/v1");
  const auto core = GroupVersionKind::from_api_version("v1", "Pod");
  EXPECT_EQ(core.group, "");
  EXPECT_EQ(core.api_version(), "v1");
  EXPECT_EQ(core, gvk::kPod);
  EXPECT_EQ(apps.str(), "apps/v1, Kind=Deployment");
}

TEST(ResourceTest, GvkOfObject) {
  const json object = {{"apiVersion", "batch/v1"}, {"kind", "Job"}};
  EXPECT_EQ(GroupVersionKind::of(object), gvk::kJob);
  EXPECT_THROW(GroupVersionKind::of(json{{"kind", "Job"}}), std::invalid_argument);
  EXPECT_THROW(GroupVersionKind::of(json{{"apiVersion", "v1"}}), std::invalid_argument);
  EXPECT_THROW(GroupVersionKind::of(json::array()), std::invalid_argument);
}

TEST(ResourceTest, RefAndKey) {
  const json object = {{"apiVersion", "v1"},
                       {"kind", "ConfigMap"},
                       {"metadata", {{"name", "c"}, {"namespace", "ns"}}}};
  const auto ref = ResourceRef::of(object);
  EXPECT_EQ(ref.namespace_, "ns");
  EXPECT_EQ(ref.name, "c");
  EXPECT_EQ(ref.str(), "v1, Kind=ConfigMap ns/c");
  EXPECT_EQ(object_key(object), "ns/c");
  EXPECT_EQ(object_key("", "node-1"), "node-1");
}

TEST(ResourceTest, NamespacedPaths) {
  const auto pods = info("", "v1", "pods", true);
  EXPECT_EQ(resource_path(pods, "ns"), "/api/v1/namespaces/ns/pods");
  EXPECT_EQ(resource_path(pods, "ns", "p"), "/api/v1/namespaces/ns/pods/p");
  EXPECT_EQ(resource_path(pods, "ns", "p", "status"), "/api/v1/namespaces/ns/pods/p/status");
  EXPECT_EQ(resource_path(pods, ""), "/api/v1/pods");  // all namespaces
  const auto deployments = info("apps", "v1", "deployments", true);
  EXPECT_EQ(resource_path(deployments, "openstack", "keystone-api", "scale"),
            "/apis/apps/v1/namespaces/openstack/deployments/keystone-api/scale");
}

TEST(ResourceTest, ClusterScopedPathsIgnoreNamespace) {
  const auto crds = info("apiextensions.k8s.io", "v1", "customresourcedefinitions", false);
  EXPECT_EQ(resource_path(crds, "ignored", "x.example.org"),
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/x.example.org");
  const auto nodes = info("", "v1", "nodes", false);
  EXPECT_EQ(resource_path(nodes, "", "n1", "status"), "/api/v1/nodes/n1/status");
}

TEST(ResourceTest, EncodingAndQuery) {
  EXPECT_EQ(url_encode("a b/c?d=e&f"), "a%20b%2Fc%3Fd%3De%26f");
  EXPECT_EQ(url_encode("app.kubernetes.io/name"), "app.kubernetes.io%2Fname");
  EXPECT_EQ(query_string({}), "");
  EXPECT_EQ(query_string({{"labelSelector", "a=b,c!=d"}, {"limit", ""}, {"watch", "1"}}),
            "?labelSelector=a%3Db%2Cc%21%3Dd&watch=1");
  const auto pods = info("", "v1", "pods", true);
  EXPECT_EQ(resource_path(pods, "ns", "we ird"), "/api/v1/namespaces/ns/pods/we%20ird");
}

}  // namespace
}  // namespace kolla::kube
