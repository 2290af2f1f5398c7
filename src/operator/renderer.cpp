#include "operator/renderer.hpp"

namespace kolla::op {

spec::Spec HelmServiceRenderer::spec_of(const json& service) const {
  const json& spec = service.at("spec");
  const std::string name = spec.at("service").get<std::string>();
  spec::Spec s;
  s.name = service.at("metadata").value("name", name);
  s.namespace_ = service.at("metadata").value("namespace", "default");
  // spec.values already holds the deployment's global block; empty node selectors here keep the
  // defaults of spec::Spec from being merged into it.
  s.nodes.clear();
  spec::ServiceSpec svc;
  svc.values = spec.value("values", json::object());
  s.services[name] = svc;
  return s;
}

plan::CatalogEntry HelmServiceRenderer::entry_of(const json& service) const {
  const json& spec = service.at("spec");
  plan::CatalogEntry entry;
  entry.name = spec.at("service").get<std::string>();
  const std::string chart = spec.value("chart", entry.name);
  const std::filesystem::path path(chart);
  entry.chart_dir = path.is_absolute() ? path : charts_dir_ / path;
  return entry;
}

std::string HelmServiceRenderer::hash(const json& service) {
  return chart::values_hash(spec_of(service), entry_of(service));
}

chart::RenderedService HelmServiceRenderer::render(const json& service) {
  return chart::render_service(spec_of(service), entry_of(service), options_);
}

}  // namespace kolla::op
