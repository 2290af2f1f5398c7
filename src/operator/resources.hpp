#pragma once
// Names the operators share: the custom resources' kinds, labels, finalizers, field manager.

#include <string>

#include "kube/resource.hpp"

namespace kolla::op {

inline const kube::GroupVersionKind kDeploymentKind{"kolla.openstack.org", "v1alpha1",
                                                    "OpenStackDeployment"};
inline const kube::GroupVersionKind kServiceKind{"kolla.openstack.org", "v1alpha1",
                                                 "OpenStackService"};

inline constexpr const char* kFieldManager = "kolla-operator";
// On every object a service applies: the OpenStackService that owns it (inventory, pruning).
inline constexpr const char* kServiceLabel = "kolla.openstack.org/service";
// On every OpenStackService: the OpenStackDeployment that created it.
inline constexpr const char* kDeploymentLabel = "kolla.openstack.org/deployment";
// Finalizers: the deployment tears its services down in reverse dependency order; a service
// deletes its objects.
inline constexpr const char* kDeploymentFinalizer = "kolla.openstack.org/teardown";
inline constexpr const char* kServiceFinalizer = "kolla.openstack.org/cleanup";
// On applied Jobs: hash of the Job as rendered, to re-run a Job only when it changed.
inline constexpr const char* kSpecHashAnnotation = "kolla.openstack.org/spec-hash";

}  // namespace kolla::op
