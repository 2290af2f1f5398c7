#pragma once
// Informer events → work-queue keys. Controllers react to changes, not to timers: every object a
// controller waits on enqueues the key of the object that waits, at once (client-go's
// EnqueueRequestForOwner / handler.EnqueueRequestsFromMapFunc):
//   - an OpenStackService event enqueues its OpenStackDeployment (label
//     kolla.openstack.org/deployment, else its OpenStackDeployment ownerReference), so that a
//     service turning Ready creates its dependants without delay; status-only changes (the
//     service's own status writes) do not enqueue the service itself;
//   - an event on an object a service applied (Job, Deployment, StatefulSet, DaemonSet, PVC,
//     Service) enqueues the owning OpenStackService (label kolla.openstack.org/service, else its
//     OpenStackService ownerReference);
//   - an EndpointSlice event enqueues the OpenStackService owning the Service named by the
//     slice's kubernetes.io/service-name label.
//   - a Node turning unready or Ready again enqueues the OpenStackServices with pods on it
//     (node_watch.hpp);
//   - a Job's pod changing phase (e.g. Succeeded, before the Job controller marks the Job
//     Complete) enqueues the OpenStackService owning the Job (looked up in a cache).
// The controllers' requeue_after polls remain as a slow safety net only.

#include <functional>
#include <optional>
#include <string>

#include "kube/informer.hpp"
#include "kube/resource.hpp"
#include "operator/controller.hpp"

namespace kolla::op {

using kube::json;

inline const kube::GroupVersionKind kEndpointSliceKind{"discovery.k8s.io", "v1", "EndpointSlice"};
inline constexpr const char* kEndpointSliceServiceLabel = "kubernetes.io/service-name";
// On every pod of a Job (set by the Job controller): the Job's name.
inline constexpr const char* kJobNameLabel = "batch.kubernetes.io/job-name";

// "namespace/name" of the OpenStackService owning an applied object, if any.
std::optional<std::string> owning_service_key(const json& object);
// "namespace/name" of the OpenStackDeployment an OpenStackService belongs to, if any.
std::optional<std::string> owning_deployment_key(const json& service);
// "namespace/name" of the OpenStackService owning the Service an EndpointSlice belongs to;
// lookup returns the Service of a key from a cache (nullptr when unknown).
std::optional<std::string> endpoint_slice_service_key(
    const json& slice, const std::function<kube::ObjectPtr(const std::string& key)>& lookup);
// The name of the Job controlling a pod (ownerReference kind Job, controller), or "".
std::string controlling_job(const json& pod);
// Whether an update changed more than status (and resourceVersion/managedFields, which every
// write changes). An update with identical objects (an informer resync) counts as a change.
bool changed_beyond_status(const json& old_object, const json& new_object);

// OpenStackService events: enqueue the service (unless only its status changed) and its
// deployment (always: the deployment aggregates its services' status).
kube::EventHandlers service_event_handlers(Controller& services, Controller& deployments);
// OpenStackDeployment events: enqueue the deployment unless only its status changed.
kube::EventHandlers deployment_event_handlers(Controller& deployments);
// Events on objects a service applied: enqueue the owning service.
kube::EventHandlers owned_object_event_handlers(Controller& services);
// EndpointSlice events: enqueue the service owning the slice's Service.
kube::EventHandlers endpoint_slice_event_handlers(
    Controller& services, std::function<kube::ObjectPtr(const std::string& key)> lookup);

// Job pod events: a phase change enqueues the service owning the pod's Job; lookup returns the
// Job of a key from a cache (nullptr when unknown).
kube::EventHandlers job_pod_event_handlers(
    Controller& services, std::function<kube::ObjectPtr(const std::string& key)> lookup);

}  // namespace kolla::op
