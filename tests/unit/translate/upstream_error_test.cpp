#include "claudegate/translate/response/upstream_error.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace claudegate::translate {
namespace {

std::string AnthropicBody(std::string_view type, std::string_view message) {
  return nlohmann::json{
      {"type", "error"}, {"error", {{"type", type}, {"message", message}}}, {"request_id", "req_1"}}
      .dump();
}

struct Case {
  unsigned upstream_status;
  const char* anthropic_type;
  unsigned status;
  const char* type;
  const char* code;  // "" → null
  bool should_retry_false;
};

TEST(MapUpstreamError, MapsEveryDocumentedStatus) {
  const Case cases[] = {
      {400, "invalid_request_error", 400, "invalid_request_error", "", false},
      {401, "authentication_error", 502, "upstream_authentication_error", "", true},
      {402, "billing_error", 402, "billing_error", "", true},
      {403, "permission_error", 403, "permission_error", "", false},
      {404, "not_found_error", 404, "invalid_request_error", "", false},
      {409, "conflict_error", 409, "conflict_error", "", false},
      {413, "request_too_large", 413, "invalid_request_error", "request_too_large", false},
      {429, "rate_limit_error", 429, "rate_limit_error", "", false},
      {500, "api_error", 500, "server_error", "", false},
      {504, "timeout_error", 504, "server_error", "timeout", false},
      {529, "overloaded_error", 503, "server_error", "overloaded", false},
      {503, "api_error", 503, "server_error", "", false},
      {418, "invalid_request_error", 418, "invalid_request_error", "", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.upstream_status);
    const auto mapped = MapUpstreamError(c.upstream_status, AnthropicBody(c.anthropic_type, "msg"));
    EXPECT_EQ(mapped.status, c.status);
    EXPECT_EQ(mapped.type, c.type);
    EXPECT_EQ(mapped.code, c.code);
    EXPECT_EQ(mapped.should_retry_false, c.should_retry_false);
    const auto body = nlohmann::json::parse(mapped.openai_body);
    EXPECT_EQ(body["error"]["message"], "msg");
    EXPECT_EQ(body["error"]["type"], c.type);
    EXPECT_TRUE(body["error"]["param"].is_null());
    if (std::string_view(c.code).empty()) {
      EXPECT_TRUE(body["error"]["code"].is_null());
    } else {
      EXPECT_EQ(body["error"]["code"], c.code);
    }
  }
}

TEST(MapUpstreamError, PassesRateLimitMessageThroughUnchanged) {
  const std::string message = "This request would exceed your account's rate limit. Retry in 5h.";
  const auto mapped = MapUpstreamError(429, AnthropicBody("rate_limit_error", message));
  EXPECT_EQ(mapped.message, message);
  EXPECT_FALSE(mapped.should_retry_false);
}

TEST(MapUpstreamError, DisablesRetryForLongRetryAfter) {
  EXPECT_TRUE(
      MapUpstreamError(429, AnthropicBody("rate_limit_error", "x"), 18000).should_retry_false);
  EXPECT_FALSE(
      MapUpstreamError(429, AnthropicBody("rate_limit_error", "x"), 30).should_retry_false);
}

TEST(MapUpstreamError, UsesDetailsErrorCodeAsCode) {
  const auto mapped = MapUpstreamError(
      400,
      R"({"type":"error","error":{"type":"invalid_request_error","message":"m","details":{"error_code":"prefill_not_supported"}}})");
  EXPECT_EQ(mapped.code, "prefill_not_supported");
}

TEST(MapUpstreamError, MarksModelNotFound) {
  const auto mapped = MapUpstreamError(404, AnthropicBody("not_found_error", "model: claude-x"));
  EXPECT_EQ(mapped.code, "model_not_found");
}

TEST(MapUpstreamError, HandlesNonJsonBodies) {
  const auto mapped = MapUpstreamError(502, "<html>Bad Gateway</html>");
  EXPECT_EQ(mapped.status, 502U);
  EXPECT_EQ(mapped.type, "server_error");
  EXPECT_EQ(mapped.message, "upstream returned HTTP 502: <html>Bad Gateway</html>");
  EXPECT_FALSE(nlohmann::json::parse(mapped.openai_body, nullptr, false).is_discarded());
  const auto empty = MapUpstreamError(500, "");
  EXPECT_EQ(empty.message, "upstream returned HTTP 500");
  const auto binary = MapUpstreamError(400, std::string("\xFF\xFE", 2));
  EXPECT_FALSE(nlohmann::json::parse(binary.openai_body, nullptr, false).is_discarded());
}

TEST(MapStreamError, DerivesStatusFromErrorType) {
  EXPECT_EQ(MapStreamError("overloaded_error", "Overloaded").status, 503U);
  EXPECT_EQ(MapStreamError("rate_limit_error", "x").status, 429U);
  EXPECT_EQ(MapStreamError("api_error", "x").status, 500U);
  EXPECT_EQ(MapStreamError("unknown_type", "x").status, 500U);
  EXPECT_EQ(MapStreamError("api_error", "").message, "An error occurred during streaming");
}

struct NamedCase {
  anthropic::RefusalKind kind;
  unsigned status;
  const char* type;
  const char* code;
};

TEST(NameRefusal, GivesEachKindItsStatusCodeAndMessage) {
  using anthropic::RefusalKind;
  const NamedCase cases[] = {
      {RefusalKind::kFiveHourLimit, 429, "rate_limit_error", "plan_limit_reached"},
      {RefusalKind::kWeeklyLimit, 429, "rate_limit_error", "plan_limit_reached"},
      {RefusalKind::kPlanLimit, 429, "rate_limit_error", "plan_limit_reached"},
      {RefusalKind::kModelLimit, 429, "rate_limit_error", "model_limit_reached"},
      {RefusalKind::kLongContextExtraUsage, 402, "billing_error", "extra_usage_required"},
      {RefusalKind::kFastModeExtraUsage, 402, "billing_error", "extra_usage_required"},
      {RefusalKind::kExtraUsageRequired, 402, "billing_error", "extra_usage_required"},
      {RefusalKind::kThirdPartyExtraUsage, 402, "billing_error", "third_party_extra_usage"},
      {RefusalKind::kOutOfExtraUsage, 402, "billing_error", "extra_usage_exhausted"},
      {RefusalKind::kModelNotInPlan, 403, "permission_error", "model_not_in_plan"},
      {RefusalKind::kRateLimit, 429, "rate_limit_error", "rate_limit_exceeded"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(anthropic::Label(c.kind));
    auto mapped = MapUpstreamError(429, AnthropicBody("rate_limit_error", "Anthropic's words"));
    anthropic::Refusal refusal;
    refusal.kind = c.kind;
    refusal.message = "Ours.";
    refusal.retry_useless = c.kind != RefusalKind::kRateLimit;
    NameRefusal(mapped, refusal);
    EXPECT_EQ(mapped.status, c.status);
    EXPECT_EQ(mapped.type, c.type);
    EXPECT_EQ(mapped.code, c.code);
    EXPECT_EQ(mapped.should_retry_false, refusal.retry_useless);
    const auto body = nlohmann::json::parse(mapped.openai_body);
    EXPECT_EQ(body["error"]["message"], "Ours. Anthropic said: \"Anthropic's words\"");
    EXPECT_EQ(body["error"]["code"], c.code);
  }
}

TEST(NameRefusal, LeavesOverloadAndOrdinaryErrorsAlone) {
  for (const auto kind : {anthropic::RefusalKind::kNone, anthropic::RefusalKind::kOverloaded}) {
    auto mapped = MapUpstreamError(529, AnthropicBody("overloaded_error", "Overloaded"));
    const auto before = mapped.openai_body;
    anthropic::Refusal refusal;
    refusal.kind = kind;
    refusal.message = "Ours.";
    NameRefusal(mapped, refusal);
    EXPECT_EQ(mapped.openai_body, before);
  }
}

TEST(MapStreamError, NamesARefusalTheEventAloneTellsApart) {
  const auto long_context =
      MapStreamError("rate_limit_error", "Extra usage is required for long context requests.");
  EXPECT_EQ(long_context.status, 402U);
  EXPECT_EQ(long_context.code, "extra_usage_required");
  EXPECT_TRUE(long_context.should_retry_false);
  EXPECT_NE(long_context.message.find("Long-context"), std::string::npos);
  const auto overloaded = MapStreamError("overloaded_error", "Overloaded");
  EXPECT_EQ(overloaded.code, "overloaded");
  EXPECT_EQ(overloaded.message, "Overloaded");
  EXPECT_EQ(MapStreamError("rate_limit_error", "slow down").code, "rate_limit_exceeded");
  EXPECT_EQ(MapStreamError("api_error", "Internal server error").code, "");
}

}  // namespace
}  // namespace claudegate::translate
