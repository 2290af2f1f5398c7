#pragma once
// How the service controller turns an OpenStackService into objects: the real chart renderer
// (helm template through src/chart) in production, a fake in tests.
//
// An OpenStackService carries its complete chart values (global block included) in spec.values,
// written by the deployment controller from the OpenStackDeployment; the chart is
// spec.chart (a directory under the charts directory, or an absolute path), default spec.service.

#include <filesystem>
#include <string>

#include "chart/render.hpp"
#include "operator/object_client.hpp"

namespace kolla::op {

class ServiceRenderer {
 public:
  virtual ~ServiceRenderer() = default;
  // Changes exactly when render() could give another result (cheap: no helm run).
  virtual std::string hash(const json& service) = 0;
  // Throws (chart::RenderError, plan::PlanError, std::exception) when the chart cannot render.
  virtual chart::RenderedService render(const json& service) = 0;
};

class HelmServiceRenderer final : public ServiceRenderer {
 public:
  explicit HelmServiceRenderer(std::filesystem::path charts_dir, chart::RenderOptions options = {})
      : charts_dir_(std::move(charts_dir)), options_(std::move(options)) {}
  std::string hash(const json& service) override;
  chart::RenderedService render(const json& service) override;

  // The inputs src/chart wants, from the OpenStackService (public for tests).
  spec::Spec spec_of(const json& service) const;
  plan::CatalogEntry entry_of(const json& service) const;

 private:
  std::filesystem::path charts_dir_;
  chart::RenderOptions options_;
};

}  // namespace kolla::op
