// Filter-level tests of the middleware: each step run as the pipeline runs it, over a recording
// sink, without a socket. The integration suite covers the same steps through a real session;
// these pin each filter's own contract (status, error shape, headers, what reaches the next step).
#include <algorithm>
#include <chrono>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "claudegate/config/config.hpp"
#include "claudegate/config/model_catalog.hpp"
#include "claudegate/logging.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/middleware/access_log.hpp"
#include "claudegate/middleware/auth.hpp"
#include "claudegate/middleware/metrics_middleware.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/middleware/plan_guard.hpp"
#include "claudegate/middleware/request_id.hpp"
#include "claudegate/middleware/router.hpp"

#include "support/recording_response_sink.hpp"
#include "support/run_sync.hpp"

namespace claudegate::middleware {
namespace {

using testing::RecordingResponseSink;
using testing::RunSync;

constexpr std::string_view kKey = "sk-test-0123456789abcdef-filters";

// One request as the session hands it to the pipeline.
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

  server::Request request;
  RecordingResponseSink sink;
  server::RequestContext ctx{request, sink, "203.0.113.7:5555"};
};

// The terminal step of a test pipeline: answers 200 and counts the requests that reached it.
class Terminal final : public Middleware {
 public:
  explicit Terminal(int& calls) : calls_(calls) {}
  Awaitable<server::Outcome> Handle(server::RequestContext& ctx, Next /*next*/) const override {
    ++calls_;
    co_return co_await server::JsonReply(ctx, 200, R"({"ok":true})");
  }

 private:
  int& calls_;
};

template <typename... Steps>
Pipeline MakePipeline(int& terminal_calls, std::unique_ptr<Steps>... steps) {
  std::vector<std::unique_ptr<Middleware>> all;
  (all.push_back(std::move(steps)), ...);
  all.push_back(std::make_unique<Terminal>(terminal_calls));
  return Pipeline(std::move(all));
}

nlohmann::json BodyJson(const RecordingResponseSink& sink) {
  return nlohmann::json::parse(sink.body(), nullptr, false);
}

// --- auth -------------------------------------------------------------------------------------

TEST(AuthFilter, MissingKeyIs401InOpenAiShapeAndStopsThere) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<AuthMiddleware>(kKey));
  Call call(http::verb::post, "/v1/chat/completions");
  const server::Outcome outcome = RunSync(pipeline.Run(call.ctx));
  EXPECT_EQ(outcome.status, 401U);
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(call.ctx.details, kAuthMissing);
  ASSERT_TRUE(call.sink.head());
  EXPECT_EQ(call.sink.head()->content_type, "application/json");
  const auto body = BodyJson(call.sink);
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  EXPECT_EQ(body["error"]["code"], "invalid_api_key");
  EXPECT_EQ(outcome.bytes, call.sink.body().size());
  EXPECT_TRUE(call.sink.violations().empty());
}

TEST(AuthFilter, WrongKeyOnMessagesIs401InAnthropicShapeWithoutTheKey) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<AuthMiddleware>(kKey));
  Call call(http::verb::post, "/v1/messages");
  call.request.set("x-api-key", "sk-wrong-key-filters");
  const server::Outcome outcome = RunSync(pipeline.Run(call.ctx));
  EXPECT_EQ(outcome.status, 401U);
  EXPECT_EQ(reached, 0);
  EXPECT_EQ(call.ctx.details, kAuthInvalid);
  const auto body = BodyJson(call.sink);
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  EXPECT_EQ(call.sink.body().find("sk-wrong"), std::string::npos) << "the presented key leaked";
}

TEST(AuthFilter, RightKeyPassesAsBearerOrXApiKey) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<AuthMiddleware>(kKey));
  Call bearer(http::verb::post, "/v1/chat/completions");
  bearer.request.set(http::field::authorization, "bearer " + std::string(kKey));
  EXPECT_EQ(RunSync(pipeline.Run(bearer.ctx)).status, 200U);
  Call api_key(http::verb::post, "/v1/messages");
  api_key.request.set("x-api-key", kKey);
  EXPECT_EQ(RunSync(pipeline.Run(api_key.ctx)).status, 200U);
  EXPECT_EQ(reached, 2);
}

TEST(AuthFilter, HealthProbesNeedNoKeyButDetailedHealthDoes) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<AuthMiddleware>(kKey));
  Call probe(http::verb::get, "/health/liveliness");
  EXPECT_EQ(RunSync(pipeline.Run(probe.ctx)).status, 200U);
  Call detailed(http::verb::get, "/health");
  EXPECT_EQ(RunSync(pipeline.Run(detailed.ctx)).status, 401U);
  EXPECT_EQ(reached, 1);
}

// --- header gate ------------------------------------------------------------------------------

TEST(HeaderGate, DecidesFromTheHeaderAndThePipelineAnswersThatDecisionOnce) {
  // The gate the session asks, and the pipeline's auth step: one object, as in the daemon.
  const AuthThrottleSettings limit_one{1, std::chrono::minutes(1), std::chrono::minutes(5)};
  auto auth = std::make_unique<AuthMiddleware>(kKey, false, limit_one);
  const HeaderGate& gate = *auth;
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::move(auth));

  Call right(http::verb::post, "/v1/chat/completions");
  right.request.set("x-api-key", kKey);
  EXPECT_EQ(gate.Check(right.ctx), HeaderVerdict::kReadBody);
  EXPECT_FALSE(right.ctx.refusal);

  // The session asks the gate (counting the wrong key once) and then runs the pipeline, whose auth
  // step answers the gate's refusal instead of deciding (and counting) again.
  Call wrong(http::verb::post, "/v1/chat/completions");
  wrong.request.set("x-api-key", "sk-wrong-1");
  EXPECT_EQ(gate.Check(wrong.ctx), HeaderVerdict::kHeaderOnly);
  ASSERT_TRUE(wrong.ctx.refusal);
  EXPECT_EQ(wrong.ctx.refusal->details, kAuthInvalidNowBlocked);  // limit 1: blocked at once
  EXPECT_EQ(RunSync(pipeline.Run(wrong.ctx)).status, 401U);
  EXPECT_EQ(wrong.ctx.details, kAuthInvalidNowBlocked);

  // The gate's own throttle now refuses this client, whatever key it presents.
  Call next(http::verb::post, "/v1/chat/completions");
  next.request.set("x-api-key", kKey);
  EXPECT_EQ(gate.Check(next.ctx), HeaderVerdict::kHeaderOnly);
  ASSERT_TRUE(next.ctx.refusal);
  EXPECT_EQ(next.ctx.refusal->error.kind, ErrorKind::kRateLimited);
  EXPECT_EQ(reached, 0);
}

TEST(HeaderGate, ThrottledClientGets429WithRetryAfterAndNoRetry) {
  int reached = 0;
  const auto pipeline = MakePipeline(
      reached,
      std::make_unique<AuthMiddleware>(
          kKey, false, AuthThrottleSettings{1, std::chrono::minutes(1), std::chrono::minutes(5)}));
  Call wrong(http::verb::post, "/v1/chat/completions");
  wrong.request.set("x-api-key", "sk-wrong-2");
  EXPECT_EQ(RunSync(pipeline.Run(wrong.ctx)).status, 401U);
  Call blocked(http::verb::post, "/v1/chat/completions");
  blocked.request.set("x-api-key", kKey);
  EXPECT_EQ(RunSync(pipeline.Run(blocked.ctx)).status, 429U);
  EXPECT_EQ(blocked.ctx.details, kAuthThrottled);
  const auto retry_after = blocked.sink.HeaderValue("retry-after");
  ASSERT_TRUE(retry_after);
  EXPECT_GT(std::stoi(*retry_after), 0);
  EXPECT_LE(std::stoi(*retry_after), 300);
  EXPECT_EQ(blocked.sink.HeaderValue("x-should-retry"), "false");
  EXPECT_EQ(reached, 0);
}

// --- request id -------------------------------------------------------------------------------

TEST(RequestIdFilter, AdoptsASaneIdAndEchoesIt) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<RequestIdMiddleware>());
  Call call(http::verb::get, "/v1/models");
  call.request.set("x-request-id", "trace-42.a:b_c");
  RunSync(pipeline.Run(call.ctx));
  EXPECT_EQ(call.ctx.request_id, "trace-42.a:b_c");
  EXPECT_EQ(call.sink.HeaderValue("x-request-id"), "trace-42.a:b_c");
}

TEST(RequestIdFilter, ReplacesAnIdThatCouldInjectIntoLogsOrHeaders) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<RequestIdMiddleware>());
  Call call(http::verb::get, "/v1/models");
  call.request.set("x-request-id", "evil id\" with spaces");
  RunSync(pipeline.Run(call.ctx));
  EXPECT_TRUE(call.ctx.request_id.starts_with("req_"));
  EXPECT_EQ(call.ctx.request_id.size(), 4U + 24U);
  EXPECT_TRUE(IsAcceptableRequestId(call.ctx.request_id));
  EXPECT_EQ(call.sink.HeaderValue("x-request-id"), call.ctx.request_id);
}

// --- router -----------------------------------------------------------------------------------

Pipeline RouterPipeline(int& handled) {
  auto router = std::make_unique<Router>();
  router->Add(http::verb::get, "/v1/models",
              [&handled](server::RequestContext& ctx) -> Awaitable<server::Outcome> {
                ++handled;
                co_return co_await server::JsonReply(ctx, 200, R"({"object":"list","data":[]})");
              });
  router->AddPrefix(http::verb::get, "/v1/models/", "/v1/models/{id}",
                    [&handled](server::RequestContext& ctx) -> Awaitable<server::Outcome> {
                      ++handled;
                      co_return co_await server::JsonReply(ctx, 200, R"({"id":"x"})");
                    });
  std::vector<std::unique_ptr<Middleware>> steps;
  steps.push_back(std::move(router));
  return Pipeline(std::move(steps));
}

TEST(RouterFilter, MatchesExactAndPrefixRoutesAndNamesThePattern) {
  int handled = 0;
  const auto pipeline = RouterPipeline(handled);
  Call list(http::verb::get, "/v1/models?limit=5");
  EXPECT_EQ(RunSync(pipeline.Run(list.ctx)).status, 200U);
  EXPECT_EQ(list.ctx.route, "/v1/models");
  Call one(http::verb::get, "/v1/models/claude-sonnet-5-5");
  EXPECT_EQ(RunSync(pipeline.Run(one.ctx)).status, 200U);
  EXPECT_EQ(one.ctx.route, "/v1/models/{id}");  // bounded label cardinality
  Call bare_prefix(http::verb::get, "/v1/models/");
  EXPECT_EQ(RunSync(pipeline.Run(bare_prefix.ctx)).status, 404U);
  EXPECT_EQ(handled, 2);
}

TEST(RouterFilter, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  int handled = 0;
  const auto pipeline = RouterPipeline(handled);
  Call unknown(http::verb::get, "/v2/nothing");
  EXPECT_EQ(RunSync(pipeline.Run(unknown.ctx)).status, 404U);
  EXPECT_EQ(BodyJson(unknown.sink)["error"]["code"], "route_not_found");
  EXPECT_EQ(unknown.ctx.route, "unmatched");
  Call post(http::verb::post, "/v1/models");
  EXPECT_EQ(RunSync(pipeline.Run(post.ctx)).status, 405U);
  EXPECT_EQ(post.sink.HeaderValue("allow"), "GET, HEAD");
  EXPECT_EQ(post.ctx.details, "method_not_allowed");
  EXPECT_EQ(handled, 0);
}

TEST(RouterFilter, HeadOfAGetRouteRunsTheHandlerWithoutABody) {
  int handled = 0;
  const auto pipeline = RouterPipeline(handled);
  Call head(http::verb::head, "/v1/models");
  const server::Outcome outcome = RunSync(pipeline.Run(head.ctx));
  EXPECT_EQ(outcome.status, 200U);
  EXPECT_EQ(outcome.bytes, 0U);
  EXPECT_TRUE(head.sink.body().empty());
  EXPECT_EQ(handled, 1);
  // A refusal to HEAD is header-only too, or the next response on the connection would desync.
  Call head_unknown(http::verb::head, "/nowhere");
  EXPECT_EQ(RunSync(pipeline.Run(head_unknown.ctx)).status, 404U);
  EXPECT_TRUE(head_unknown.sink.body().empty());
}

// --- local replies and a client that went away -------------------------------------------------

TEST(LocalReplyFilter, AfterAStreamStartedItWritesNothingMore) {
  Call call(http::verb::post, "/v1/chat/completions");
  const server::Outcome outcome = RunSync([&]() -> Awaitable<server::Outcome> {
    co_await call.sink.WriteHead(200, "text/event-stream");
    co_await call.sink.WriteChunk("data: {}\n\n");
    co_return co_await server::LocalReply(call.ctx, Error{ErrorKind::kInternal, "late", {}, {}},
                                          "late");
  }());
  EXPECT_EQ(outcome.status, 200U);  // what the client got: the stream's status
  EXPECT_EQ(call.ctx.details, "late");
  EXPECT_EQ(call.sink.chunks().size(), 1U);
  EXPECT_TRUE(call.sink.violations().empty());
}

TEST(RecordingSink, ReportsAClientThatWentAwayMidStream) {
  Call call(http::verb::post, "/v1/chat/completions");
  call.sink.SimulateClientGone(/*after_writes=*/2);
  const auto codes = RunSync([&]() -> Awaitable<std::vector<error_code>> {
    std::vector<error_code> out;
    out.push_back(co_await call.sink.WriteHead(200, "text/event-stream"));
    out.push_back(co_await call.sink.WriteChunk("data: 1\n\n"));
    out.push_back(co_await call.sink.WriteChunk("data: 2\n\n"));
    out.push_back(co_await call.sink.Finish());
    co_return out;
  }());
  ASSERT_EQ(codes.size(), 4U);
  EXPECT_FALSE(codes[0]);
  EXPECT_FALSE(codes[1]);
  EXPECT_EQ(codes[2], error_code(net::error::broken_pipe));
  EXPECT_EQ(codes[3], error_code(net::error::broken_pipe));
  EXPECT_EQ(call.sink.body(), "data: 1\n\n");
  EXPECT_FALSE(call.sink.finished());
  EXPECT_EQ(call.sink.refused_writes(), 2U);
}

TEST(RecordingSink, FlagsASecondResponseAndChunksWithoutAHead) {
  Call call(http::verb::get, "/v1/models");
  RunSync([&]() -> Awaitable<int> {
    co_await call.sink.WriteChunk("early");
    co_await call.sink.Send(200, "application/json", "{}");
    co_await call.sink.Send(500, "application/json", "{}");
    co_return 0;
  }());
  EXPECT_EQ(call.sink.violations().size(), 2U);
  EXPECT_EQ(call.sink.status(), 200U);
}

// --- plan guard -------------------------------------------------------------------------------

class PlanGuardFilter : public ::testing::Test {
 protected:
  void Reject(std::int64_t reset_in_seconds) {
    http::fields headers;
    headers.set("anthropic-ratelimit-unified-status", "rejected");
    const auto reset = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       reset_in_seconds;
    headers.set("anthropic-ratelimit-unified-reset", std::to_string(reset));
    metrics_.plan.Update(headers);
  }

  config::ModelCatalog catalog_{config::ModelCatalog::DefaultAliases()};
  metrics::GatewayMetrics metrics_{catalog_};
  config::PlanGuard settings_{.enabled = true, .refuse_overage = true};
};

TEST_F(PlanGuardFilter, RefusesSpendingCallsWhileTheLimitIsReached) {
  Reject(3600);
  int reached = 0;
  const auto pipeline =
      MakePipeline(reached, std::make_unique<PlanGuardMiddleware>(settings_, metrics_));
  Call chat(http::verb::post, "/v1/chat/completions");
  EXPECT_EQ(RunSync(pipeline.Run(chat.ctx)).status, 429U);
  EXPECT_EQ(chat.ctx.details, "plan_guard");
  EXPECT_EQ(chat.sink.HeaderValue("x-should-retry"), "false");
  const auto retry_after = chat.sink.HeaderValue("retry-after");
  ASSERT_TRUE(retry_after);
  EXPECT_GT(std::stoi(*retry_after), 3500);
  Call messages(http::verb::post, "/v1/messages");
  EXPECT_EQ(RunSync(pipeline.Run(messages.ctx)).status, 429U);
  EXPECT_EQ(BodyJson(messages.sink)["error"]["type"], "rate_limit_error");  // Anthropic's shape
  // Calls that spend nothing stay available.
  Call models(http::verb::get, "/v1/models");
  EXPECT_EQ(RunSync(pipeline.Run(models.ctx)).status, 200U);
  EXPECT_EQ(reached, 1);
  // The reason is the refusal kind (anthropic/refusal.hpp): no claim reported, a plan limit.
  EXPECT_EQ(chat.sink.HeaderValue("x-claudegate-refusal"), "plan_limit");
  EXPECT_NE(metrics_.registry.Render().find(
                R"(claudegate_plan_guard_refusals_total{reason="plan_limit"} 2)"),
            std::string::npos);
}

TEST_F(PlanGuardFilter, DisabledOrNotLimitedPassesEverything) {
  int reached = 0;
  const auto pipeline =
      MakePipeline(reached, std::make_unique<PlanGuardMiddleware>(settings_, metrics_));
  Call before(http::verb::post, "/v1/chat/completions");
  EXPECT_EQ(RunSync(pipeline.Run(before.ctx)).status, 200U);  // nothing reported yet
  Reject(3600);
  const config::PlanGuard off{.enabled = false};
  const auto unguarded =
      MakePipeline(reached, std::make_unique<PlanGuardMiddleware>(off, metrics_));
  Call after(http::verb::post, "/v1/chat/completions");
  EXPECT_EQ(RunSync(unguarded.Run(after.ctx)).status, 200U);
  EXPECT_EQ(reached, 2);
}

// --- metrics middleware -----------------------------------------------------------------------

TEST(MetricsFilter, CountsEachRequestByRouteModelAndStatusClass) {
  const config::ModelCatalog catalog(config::ModelCatalog::DefaultAliases());
  metrics::GatewayMetrics metrics(catalog);
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<MetricsMiddleware>(metrics),
                                     std::make_unique<AuthMiddleware>(kKey));
  Call ok(http::verb::post, "/v1/chat/completions");
  ok.request.set("x-api-key", kKey);
  ok.ctx.route = "/v1/chat/completions";
  ok.ctx.model = "sonnet";
  RunSync(pipeline.Run(ok.ctx));
  Call keyless(http::verb::post, "/v1/chat/completions");
  keyless.ctx.route = "/v1/chat/completions";
  keyless.ctx.model = "a-model-nobody-configured";
  RunSync(pipeline.Run(keyless.ctx));

  const std::string text = metrics.registry.Render();
  EXPECT_NE(text.find(R"(claudegate_requests_total{route="/v1/chat/completions",model="sonnet",)"
                      R"(status_class="2xx"} 1)"),
            std::string::npos)
      << text;
  // Unknown models share one label value, so clients cannot create unbounded series.
  EXPECT_NE(text.find(R"(model="other",status_class="4xx"} 1)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(claudegate_auth_failures_total{reason="missing"} 1)"), std::string::npos);
  EXPECT_NE(text.find("claudegate_requests_in_flight 0\n"), std::string::npos) << text;
}

// --- access log -------------------------------------------------------------------------------

class AccessLogFilter : public ::testing::Test {
 protected:
  void SetUp() override {
    logger_ = logging::AccessLogger();
    sink_ = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_);
    sink_->set_pattern("%v");
    logger_->sinks().push_back(sink_);
    level_ = logger_->level();
    logger_->set_level(spdlog::level::info);
  }
  void TearDown() override {
    auto& sinks = logger_->sinks();
    std::erase(sinks, sink_);
    logger_->set_level(level_);
  }

  std::ostringstream lines_;
  std::shared_ptr<spdlog::logger> logger_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
  spdlog::level::level_enum level_ = spdlog::level::info;
};

TEST_F(AccessLogFilter, OneJsonLinePerRequestWithoutQueryKeyOrBody) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<RequestIdMiddleware>(),
                                     std::make_unique<AccessLogMiddleware>(/*json=*/true),
                                     std::make_unique<AuthMiddleware>(kKey));
  Call call(http::verb::post, "/v1/chat/completions?api_key=sk-in-query");
  call.request.set("x-api-key", "sk-wrong-in-log-test");
  call.request.body() = R"({"messages":"secret body"})";
  call.ctx.model = "bad\nmodel";
  RunSync(pipeline.Run(call.ctx));

  const std::string text = lines_.str();
  ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
  const auto line = nlohmann::json::parse(text, nullptr, false);
  ASSERT_TRUE(line.is_object()) << text;
  EXPECT_EQ(line["type"], "access");
  EXPECT_EQ(line["method"], "POST");
  EXPECT_EQ(line["path"], "/v1/chat/completions");
  EXPECT_EQ(line["status"], 401);
  EXPECT_EQ(line["details"], std::string(kAuthInvalid));
  EXPECT_EQ(line["request_id"], call.ctx.request_id);
  EXPECT_EQ(line["bytes"], call.sink.body().size());
  EXPECT_EQ(text.find("sk-"), std::string::npos) << "a key reached the access log: " << text;
  EXPECT_EQ(text.find("secret body"), std::string::npos);
}

TEST_F(AccessLogFilter, TextLineNamesStatusPathAndRequestId) {
  int reached = 0;
  const auto pipeline = MakePipeline(reached, std::make_unique<RequestIdMiddleware>(),
                                     std::make_unique<AccessLogMiddleware>(/*json=*/false));
  Call call(http::verb::get, "/v1/models?x=1");
  RunSync(pipeline.Run(call.ctx));
  const std::string text = lines_.str();
  EXPECT_NE(text.find("GET /v1/models "), std::string::npos) << text;
  EXPECT_NE(text.find(" 200 "), std::string::npos) << text;
  EXPECT_NE(text.find(call.ctx.request_id), std::string::npos) << text;
  EXPECT_EQ(text.find("x=1"), std::string::npos) << text;
}

}  // namespace
}  // namespace claudegate::middleware
