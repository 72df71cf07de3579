// The Prometheus exposition as a scraper reads it: families, label escaping, bounded labels, and
// the counters fed from the credential source's status.
#include "claudegate/metrics/gateway_metrics.hpp"

#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/config/model_catalog.hpp"
#include "claudegate/metrics/registry.hpp"

namespace claudegate::metrics {
namespace {

bool Contains(const std::string& text, std::string_view piece) {
  return text.find(piece) != std::string::npos;
}

TEST(Registry, RendersEachFamilyWithHelpTypeAndSeries) {
  Registry registry;
  auto& counter = registry.Counter("demo_requests_total", "Requests.", {"route"});
  auto& gauge = registry.Gauge("demo_open", "Open things.", {});
  auto& histogram = registry.Histogram("demo_seconds", "Durations.", {"route"}, {0.1, 1.0});
  counter.Add({"/a"});
  counter.Add({"/a"}, 2);
  gauge.Set({}, 3);
  histogram.Observe({"/a"}, 0.5);
  const std::string text = registry.Render();
  EXPECT_TRUE(Contains(text,
                       "# HELP demo_requests_total Requests.\n"
                       "# TYPE demo_requests_total counter\n"
                       "demo_requests_total{route=\"/a\"} 3\n"))
      << text;
  EXPECT_TRUE(Contains(text, "# TYPE demo_open gauge\ndemo_open 3\n")) << text;
  EXPECT_TRUE(Contains(text, "# TYPE demo_seconds histogram\n")) << text;
  EXPECT_TRUE(Contains(text, R"(demo_seconds_bucket{route="/a",le="0.1"} 0)")) << text;
  EXPECT_TRUE(Contains(text, R"(demo_seconds_bucket{route="/a",le="1"} 1)")) << text;
  EXPECT_TRUE(Contains(text, R"(demo_seconds_bucket{route="/a",le="+Inf"} 1)")) << text;
  EXPECT_TRUE(Contains(text, R"(demo_seconds_count{route="/a"} 1)")) << text;
  // Registration order, so the exposition is stable between scrapes.
  EXPECT_LT(text.find("demo_requests_total"), text.find("demo_open"));
  EXPECT_LT(text.find("demo_open"), text.find("demo_seconds"));
}

TEST(Registry, EscapesLabelValuesSoAClientCannotForgeSeries) {
  Registry registry;
  auto& counter = registry.Counter("demo_total", "Demo.", {"v"});
  counter.Add({"a\"b\\c\nd"});
  EXPECT_TRUE(Contains(registry.Render(), R"(demo_total{v="a\"b\\c\nd"} 1)")) << registry.Render();
}

TEST(GatewayMetrics, ModelLabelIsAConfiguredNameOrOther) {
  const config::ModelCatalog catalog(config::ModelCatalog::DefaultAliases());
  const GatewayMetrics metrics(catalog);
  ASSERT_FALSE(catalog.aliases().empty());
  const auto& alias = catalog.aliases().front();
  EXPECT_EQ(metrics.ModelLabel(alias.name), alias.name);
  EXPECT_EQ(metrics.ModelLabel(alias.upstream_id), alias.upstream_id);
  EXPECT_EQ(metrics.ModelLabel("claude-made-up-9"), "other");
  EXPECT_EQ(metrics.ModelLabel(""), "none");
}

TEST(GatewayMetrics, RenderExportsRefreshCountsConnectionsAndBuildInfo) {
  const config::ModelCatalog catalog(config::ModelCatalog::DefaultAliases());
  GatewayMetrics metrics(catalog);
  const nlohmann::json credentials = {{"source", "credentials_file"},
                                      {"refresh_counts", {{"refreshed", 2}, {"failed", 1}}}};
  const std::string text = metrics.Render(7, credentials);
  EXPECT_TRUE(Contains(text, R"(claudegate_credential_refreshes_total{outcome="refreshed"} 2)"))
      << text;
  EXPECT_TRUE(Contains(text, R"(claudegate_credential_refreshes_total{outcome="failed"} 1)"));
  EXPECT_TRUE(Contains(text, "# TYPE claudegate_requests_total counter\n"));
  EXPECT_TRUE(Contains(text, "claudegate_open_connections 7\n")) << text;
  EXPECT_FALSE(Contains(text, "sk-")) << text;
  // A status without counts (static token, API key) adds no refresh series.
  GatewayMetrics fresh(catalog);
  EXPECT_FALSE(
      Contains(fresh.Render(0, {{"source", "env"}}), "claudegate_credential_refreshes_total{"));
}

TEST(GatewayMetrics, UpstreamJsonKeepsTheLastStatusAndError) {
  const config::ModelCatalog catalog(config::ModelCatalog::DefaultAliases());
  GatewayMetrics metrics(catalog);
  metrics.RecordUpstreamResult(200);
  metrics.RecordUpstreamResult(0, "connection refused");
  const auto json = metrics.UpstreamJson();
  EXPECT_EQ(json["last_status"], 200);
  EXPECT_EQ(json["last_error"], "connection refused");
}

}  // namespace
}  // namespace claudegate::metrics
