#include "operator/event_routing.hpp"

#include "operator/resources.hpp"

namespace kolla::op {

namespace {

std::string namespace_of(const json& o) {
  return o.value("/metadata/namespace"_json_pointer, std::string{});
}

std::string label_of(const json& o, const std::string& label) {
  const json labels = o.value("/metadata/labels"_json_pointer, json::object());
  if (!labels.is_object()) return {};
  auto it = labels.find(label);
  return it != labels.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// The name of the object's ownerReference of the given kind, or "".
std::string owner_named(const json& o, const kube::GroupVersionKind& kind) {
  const json refs = o.value("/metadata/ownerReferences"_json_pointer, json::array());
  if (!refs.is_array()) return {};
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("kind", "") == kind.kind &&
        ref.value("apiVersion", "") == kind.api_version()) {
      return ref.value("name", "");
    }
  }
  return {};
}

std::optional<std::string> key_in(const json& o, const std::string& name) {
  if (name.empty()) return std::nullopt;
  return kube::object_key(namespace_of(o), name);
}

json without_status(const json& o) {
  if (!o.is_object()) return o;
  json copy = o;
  copy.erase("status");
  if (copy.contains("metadata") && copy["metadata"].is_object()) {
    copy["metadata"].erase("resourceVersion");
    copy["metadata"].erase("managedFields");
  }
  return copy;
}

template <typename Fn>
kube::EventHandlers same_for_all(Fn fn) {
  return {fn, [fn](const kube::ObjectPtr&, const kube::ObjectPtr& n) { fn(n); }, fn};
}

}  // namespace

std::optional<std::string> owning_service_key(const json& object) {
  std::string name = label_of(object, kServiceLabel);
  if (name.empty()) name = owner_named(object, kServiceKind);
  return key_in(object, name);
}

std::optional<std::string> owning_deployment_key(const json& service) {
  std::string name = label_of(service, kDeploymentLabel);
  if (name.empty()) name = owner_named(service, kDeploymentKind);
  return key_in(service, name);
}

std::optional<std::string> endpoint_slice_service_key(
    const json& slice, const std::function<kube::ObjectPtr(const std::string& key)>& lookup) {
  const std::string service = label_of(slice, kEndpointSliceServiceLabel);
  if (service.empty() || !lookup) return std::nullopt;
  const kube::ObjectPtr svc = lookup(kube::object_key(namespace_of(slice), service));
  if (!svc) return std::nullopt;
  return owning_service_key(*svc);
}

std::string controlling_job(const json& pod) {
  const json refs = pod.value("/metadata/ownerReferences"_json_pointer, json::array());
  if (!refs.is_array()) return {};
  for (const auto& ref : refs) {
    if (ref.is_object() && ref.value("controller", false) && ref.value("kind", "") == "Job" &&
        ref.value("apiVersion", "") == "batch/v1") {
      return ref.value("name", "");
    }
  }
  return {};
}

bool changed_beyond_status(const json& old_object, const json& new_object) {
  if (old_object == new_object) return true;  // a resync: reconcile again
  return without_status(old_object) != without_status(new_object);
}

kube::EventHandlers service_event_handlers(Controller& services, Controller& deployments) {
  auto enqueue_owner = [&deployments](const json& o) {
    if (auto owner = owning_deployment_key(o)) deployments.enqueue(*owner);
  };
  return {[&services, enqueue_owner](const kube::ObjectPtr& o) {
            services.enqueue(kube::object_key(*o));
            enqueue_owner(*o);
          },
          [&services, enqueue_owner](const kube::ObjectPtr& old_object,
                                     const kube::ObjectPtr& new_object) {
            if (changed_beyond_status(*old_object, *new_object)) {
              services.enqueue(kube::object_key(*new_object));
            }
            enqueue_owner(*new_object);
          },
          [&services, enqueue_owner](const kube::ObjectPtr& o) {
            services.enqueue(kube::object_key(*o));
            enqueue_owner(*o);
          }};
}

kube::EventHandlers deployment_event_handlers(Controller& deployments) {
  auto enqueue = [&deployments](const kube::ObjectPtr& o) {
    deployments.enqueue(kube::object_key(*o));
  };
  return {enqueue,
          [enqueue](const kube::ObjectPtr& old_object, const kube::ObjectPtr& new_object) {
            if (changed_beyond_status(*old_object, *new_object)) enqueue(new_object);
          },
          enqueue};
}

kube::EventHandlers owned_object_event_handlers(Controller& services) {
  return same_for_all([&services](const kube::ObjectPtr& o) {
    if (auto owner = owning_service_key(*o)) services.enqueue(*owner);
  });
}

kube::EventHandlers endpoint_slice_event_handlers(
    Controller& services, std::function<kube::ObjectPtr(const std::string& key)> lookup) {
  return same_for_all([&services, lookup = std::move(lookup)](const kube::ObjectPtr& o) {
    if (auto owner = endpoint_slice_service_key(*o, lookup)) services.enqueue(*owner);
  });
}

kube::EventHandlers job_pod_event_handlers(
    Controller& services, std::function<kube::ObjectPtr(const std::string& key)> lookup) {
  return {[](const kube::ObjectPtr&) {},
          [&services, lookup = std::move(lookup)](const kube::ObjectPtr& old_pod,
                                                  const kube::ObjectPtr& new_pod) {
            const auto phase = "/status/phase"_json_pointer;
            if (old_pod->value(phase, std::string{}) == new_pod->value(phase, std::string{})) {
              return;
            }
            const std::string job = controlling_job(*new_pod);
            if (job.empty() || !lookup) return;
            const kube::ObjectPtr object = lookup(kube::object_key(namespace_of(*new_pod), job));
            if (!object) return;
            if (auto owner = owning_service_key(*object)) services.enqueue(*owner);
          },
          [](const kube::ObjectPtr&) {}};
}

}  // namespace kolla::op
