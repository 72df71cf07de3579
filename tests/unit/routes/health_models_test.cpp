// Filter-level tests of the routes no other layer rewrites: the health probes and the model list,
// over a recording sink. What a keyless probe may reveal is the point of several of them.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/config/config.hpp"
#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/routes/health_handler.hpp"
#include "claudegate/routes/models_handler.hpp"

#include "support/recording_response_sink.hpp"
#include "support/run_sync.hpp"

namespace claudegate::routes {
namespace {

using testing::RecordingResponseSink;
using testing::RunSync;

struct Call {
  Call(http::verb method, std::string_view target) {
    request.method(method);
    request.target(target);
    request.version(11);
    ctx.flavor = server::FlavorForPath(ctx.Path());
  }
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call() = default;

  [[nodiscard]] nlohmann::json Json() const {
    return nlohmann::json::parse(sink.body(), nullptr, false);
  }

  server::Request request;
  RecordingResponseSink sink;
  server::RequestContext ctx{request, sink, "127.0.0.1:40000"};
};

// A credential source in a chosen readiness state whose status holds details a keyless probe
// must never show.
class FakeSource final : public credentials::CredentialSource {
 public:
  explicit FakeSource(credentials::Readiness state) : state_(state) {}
  Awaitable<Result<credentials::Credential>> Current() override {
    co_return Error{ErrorKind::kServiceUnavailable, "not in this test", {}, {}};
  }
  Awaitable<Result<credentials::Credential>> OnRejected(
      const credentials::Credential& /*rejected*/) override {
    co_return Error{ErrorKind::kServiceUnavailable, "not in this test", {}, {}};
  }
  [[nodiscard]] nlohmann::json Status() const override {
    return {{"source", "credentials_file"},
            {"path", "/secret/place/.credentials.json"},
            {"error", "token endpoint said: detail"},
            {"refresh_counts", {{"refreshed", 3}}}};
  }
  [[nodiscard]] bool Ready() const override { return state_ == credentials::Readiness::kReady; }
  [[nodiscard]] credentials::Readiness ReadinessState() const override { return state_; }

 private:
  credentials::Readiness state_;
};

class HealthRoutes : public ::testing::Test {
 protected:
  config::Config config_;
  metrics::GatewayMetrics metrics_{config_.models};
};

TEST_F(HealthRoutes, LivenessAnswersLiteLlmsString) {
  const FakeSource source(credentials::Readiness::kNotLoggedIn);
  const HealthHandler handler(config_, source, metrics_);
  Call call(http::verb::get, "/health/liveliness");
  EXPECT_EQ(RunSync(handler.Liveness(call.ctx)).status, 200U);
  EXPECT_EQ(call.sink.body(), R"("I'm alive!")");
  EXPECT_TRUE(call.sink.violations().empty());
}

TEST_F(HealthRoutes, ReadinessIs200OnlyWhenCredentialsAreUsable) {
  const FakeSource ready(credentials::Readiness::kReady);
  const HealthHandler ready_handler(config_, ready, metrics_);
  Call ok(http::verb::get, "/health/readiness");
  EXPECT_EQ(RunSync(ready_handler.Readiness(ok.ctx)).status, 200U);
  EXPECT_EQ(ok.Json(), nlohmann::json({{"status", "healthy"}}));

  const FakeSource expired(credentials::Readiness::kExpired);
  const HealthHandler expired_handler(config_, expired, metrics_);
  Call not_ok(http::verb::get, "/health/readiness");
  EXPECT_EQ(RunSync(expired_handler.Readiness(not_ok.ctx)).status, 503U);
  EXPECT_EQ(not_ok.Json()["reason"],
            std::string(credentials::ReadinessName(credentials::Readiness::kExpired)));
}

TEST_F(HealthRoutes, KeylessReadinessRevealsNoPathOrErrorText) {
  const FakeSource source(credentials::Readiness::kUnusable);
  const HealthHandler handler(config_, source, metrics_);
  Call call(http::verb::get, "/health/readiness");
  RunSync(handler.Readiness(call.ctx));
  EXPECT_EQ(call.sink.body().find("/secret/place"), std::string::npos) << call.sink.body();
  EXPECT_EQ(call.sink.body().find("token endpoint"), std::string::npos) << call.sink.body();
}

TEST_F(HealthRoutes, DetailedHealthReportsCredentialsUpstreamAndRedactedBaseUrl) {
  config_.upstream.base_url = "https://user:hunter2@proxy.example:8443";
  const FakeSource source(credentials::Readiness::kReady);
  const HealthHandler handler(config_, source, metrics_);
  metrics_.RecordUpstreamResult(200);
  Call call(http::verb::get, "/health");
  EXPECT_EQ(RunSync(handler.Detailed(call.ctx)).status, 200U);
  const auto body = call.Json();
  EXPECT_EQ(body["status"], "healthy");
  EXPECT_EQ(body["credentials"]["source"], "credentials_file");
  EXPECT_EQ(body["upstream"]["last_status"], 200);
  EXPECT_EQ(call.sink.body().find("hunter2"), std::string::npos) << call.sink.body();
}

TEST_F(HealthRoutes, MetricsRouteServesThePrometheusTextFormat) {
  const FakeSource source(credentials::Readiness::kReady);
  const HealthHandler handler(config_, source, metrics_);
  Call call(http::verb::get, "/metrics");
  EXPECT_EQ(RunSync(handler.Metrics(call.ctx, 3)).status, 200U);
  ASSERT_TRUE(call.sink.head());
  EXPECT_EQ(call.sink.head()->content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(
      call.sink.body().find(R"(claudegate_credential_refreshes_total{outcome="refreshed"} 3)"),
      std::string::npos);
  EXPECT_NE(call.sink.body().find("claudegate_open_connections 3\n"), std::string::npos);
}

class ModelRoutes : public ::testing::Test {
 protected:
  config::ModelCatalog catalog_{{{"sonnet", "claude-sonnet-5-5"}, {"opus", "claude-opus-5-5"}}};
  ModelsHandler handler_{catalog_};
};

TEST_F(ModelRoutes, ListIsOpenAiShapedByDefault) {
  Call call(http::verb::get, "/v1/models");
  EXPECT_EQ(RunSync(handler_.List(call.ctx)).status, 200U);
  const auto body = call.Json();
  EXPECT_EQ(body["object"], "list");
  ASSERT_EQ(body["data"].size(), 2U);
  EXPECT_EQ(body["data"][0]["id"], "sonnet");
  EXPECT_EQ(body["data"][0]["object"], "model");
  EXPECT_EQ(body["data"][0]["owned_by"], "anthropic");
}

TEST_F(ModelRoutes, ListIsAnthropicShapedForAnthropicClients) {
  Call call(http::verb::get, "/v1/models");
  call.request.set("anthropic-version", "2023-06-01");
  RunSync(handler_.List(call.ctx));
  const auto body = call.Json();
  EXPECT_EQ(body["has_more"], false);
  EXPECT_EQ(body["first_id"], "sonnet");
  EXPECT_EQ(body["last_id"], "opus");
  EXPECT_EQ(body["data"][1]["type"], "model");
}

TEST_F(ModelRoutes, GetFindsAnAliasOrItsUpstreamId) {
  Call by_alias(http::verb::get, "/v1/models/opus");
  EXPECT_EQ(RunSync(handler_.Get(by_alias.ctx)).status, 200U);
  EXPECT_EQ(by_alias.Json()["id"], "opus");
  Call by_id(http::verb::get, "/v1/models/claude-sonnet-5-5");
  EXPECT_EQ(RunSync(handler_.Get(by_id.ctx)).status, 200U);
  EXPECT_EQ(by_id.Json()["id"], "sonnet");
}

TEST_F(ModelRoutes, UnknownModelIs404InTheClientsShape) {
  Call openai(http::verb::get, "/v1/models/gpt-4");
  EXPECT_EQ(RunSync(handler_.Get(openai.ctx)).status, 404U);
  EXPECT_EQ(openai.Json()["error"]["code"], "model_not_found");
  EXPECT_EQ(openai.ctx.details, "model_not_found");
  Call anthropic(http::verb::get, "/v1/models/gpt-4");
  anthropic.request.set("anthropic-version", "2023-06-01");
  EXPECT_EQ(RunSync(handler_.Get(anthropic.ctx)).status, 404U);
  EXPECT_EQ(anthropic.Json()["type"], "error");
  EXPECT_EQ(anthropic.Json()["error"]["type"], "not_found_error");
}

}  // namespace
}  // namespace claudegate::routes
