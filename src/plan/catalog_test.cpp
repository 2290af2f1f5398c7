#include "plan/catalog.hpp"

#include <gtest/gtest.h>

namespace kolla::plan {
namespace {

const std::filesystem::path kTestdata =
    std::filesystem::path(KOLLA_SOURCE_DIR) / "src/plan/testdata";

TEST(Catalog, ReadsServiceChartsOnly) {
  auto catalog = ServiceCatalog::load(kTestdata / "charts");
  EXPECT_EQ(catalog.names(), (std::vector<std::string>{"cache", "compute", "dashboard", "db",
                                                       "identity", "image", "queue"}));
  const auto& identity = catalog.at("identity");
  EXPECT_EQ(identity.depends_on, (std::vector<std::string>{"db", "cache"}));
  EXPECT_EQ(identity.version, "0.1.0");
  EXPECT_EQ(identity.role, "controller");
  EXPECT_TRUE(identity.chart_dir.is_absolute());
  EXPECT_EQ(identity.chart_dir.filename(), "identity");
  EXPECT_TRUE(catalog.at("db").depends_on.empty());
  EXPECT_EQ(catalog.find("lib"), nullptr);       // library chart
  EXPECT_EQ(catalog.find("operator"), nullptr);  // no kolla annotations
}

TEST(Catalog, UnknownServiceNamesTheKnownOnes) {
  auto catalog = ServiceCatalog::load(kTestdata / "charts");
  try {
    catalog.at("nova");
    FAIL();
  } catch (const PlanError& e) {
    EXPECT_EQ(std::string(e.what()),
              "unknown service 'nova'; known services: cache, compute, dashboard, db, identity, "
              "image, queue");
  }
}

TEST(Catalog, ChartNameMustMatchDirectory) {
  try {
    ServiceCatalog::load(kTestdata / "badname/charts");
    FAIL();
  } catch (const PlanError& e) {
    EXPECT_NE(std::string(e.what()).find("name 'other' differs from its directory 'x'"),
              std::string::npos)
        << e.what();
  }
}

TEST(Catalog, MissingDirectoryIsAnError) {
  EXPECT_THROW(ServiceCatalog::load(kTestdata / "nonexistent"), PlanError);
}

TEST(Catalog, SplitsAnnotation) {
  EXPECT_EQ(split_depends_on(" a, b ,,c\n"), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(split_depends_on("").empty());
}

}  // namespace
}  // namespace kolla::plan
