#include "claudegate/translate/response/upstream_error.hpp"

#include <array>
#include <chrono>

#include <nlohmann/json.hpp>

namespace claudegate::translate {
namespace {

constexpr unsigned kLongRetryAfterSeconds = 60;
constexpr std::size_t kMaxQuotedBodyBytes = 200;

struct TypeRow {
  std::string_view anthropic_type;
  unsigned status;
};

// Status for an Anthropic error type when no HTTP status is known (stream `error` events).
constexpr std::array kTypeStatus{
    TypeRow{"invalid_request_error", 400},
    TypeRow{"authentication_error", 401},
    TypeRow{"billing_error", 402},
    TypeRow{"permission_error", 403},
    TypeRow{"not_found_error", 404},
    TypeRow{"conflict_error", 409},
    TypeRow{"request_too_large", 413},
    TypeRow{"rate_limit_error", 429},
    TypeRow{"api_error", 500},
    TypeRow{"timeout_error", 504},
    TypeRow{"overloaded_error", 529},
};

bool MentionsModel(std::string_view message) {
  return message.find("model") != std::string_view::npos;
}

// Fills status/type/code from the upstream status per docs/anthropic-notes.md#error-mapping.
void Classify(unsigned upstream_status, std::string_view details_code, UpstreamError& out) {
  out.code = std::string(details_code);
  switch (upstream_status) {
    case 400:
      out.status = 400;
      out.type = "invalid_request_error";
      return;
    case 401:
      // Anthropic refused claudegate's own credential; a 401 would blame the client's key.
      out.status = 502;
      out.type = "upstream_authentication_error";
      out.code.clear();
      out.should_retry_false = true;
      return;
    case 402:
      out.status = 402;
      out.type = "billing_error";
      out.should_retry_false = true;
      return;
    case 403:
      out.status = 403;
      out.type = "permission_error";
      return;
    case 404:
      out.status = 404;
      out.type = "invalid_request_error";
      if (out.code.empty() && MentionsModel(out.message)) {
        out.code = "model_not_found";
      }
      return;
    case 409:
      out.status = 409;
      out.type = "conflict_error";
      return;
    case 413:
      out.status = 413;
      out.type = "invalid_request_error";
      out.code = "request_too_large";
      return;
    case 429:
      out.status = 429;
      out.type = "rate_limit_error";
      return;
    case 500:
      out.status = 500;
      out.type = "server_error";
      return;
    case 504:
      out.status = 504;
      out.type = "server_error";
      out.code = "timeout";
      return;
    case 529:
      // 503 is what generic HTTP clients and retry libraries understand.
      out.status = 503;
      out.type = "server_error";
      out.code = "overloaded";
      return;
    default:
      break;
  }
  if (upstream_status >= 500 && upstream_status <= 599) {
    out.status = upstream_status;
    out.type = "server_error";
  } else if (upstream_status >= 400 && upstream_status <= 499) {
    out.status = upstream_status;
    out.type = "invalid_request_error";
  } else {
    out.status = 502;  // A non-error status handed in as an error: a protocol problem.
    out.type = "server_error";
    out.code = "upstream_unreachable";
  }
}

void RenderBody(UpstreamError& out) {
  const nlohmann::json body = {
      {"error",
       {{"message", out.message},
        {"type", out.type},
        {"param", nullptr},
        {"code", out.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(out.code)}}}};
  out.openai_body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct RefusalRow {
  anthropic::RefusalKind kind;
  unsigned status;
  std::string_view type;
  std::string_view code;
};

// One row per kind (docs/anthropic-notes.md#refusals). Limits stay 429; where only money helps the
// status is 402 (the OpenAI SDKs do not retry it); a model outside the plan is a permission matter.
constexpr std::array kRefusalTable{
    RefusalRow{anthropic::RefusalKind::kFiveHourLimit, 429, "rate_limit_error",
               "plan_limit_reached"},
    RefusalRow{anthropic::RefusalKind::kWeeklyLimit, 429, "rate_limit_error", "plan_limit_reached"},
    RefusalRow{anthropic::RefusalKind::kPlanLimit, 429, "rate_limit_error", "plan_limit_reached"},
    RefusalRow{anthropic::RefusalKind::kModelLimit, 429, "rate_limit_error", "model_limit_reached"},
    RefusalRow{anthropic::RefusalKind::kLongContextExtraUsage, 402, "billing_error",
               "extra_usage_required"},
    RefusalRow{anthropic::RefusalKind::kFastModeExtraUsage, 402, "billing_error",
               "extra_usage_required"},
    RefusalRow{anthropic::RefusalKind::kExtraUsageRequired, 402, "billing_error",
               "extra_usage_required"},
    RefusalRow{anthropic::RefusalKind::kThirdPartyExtraUsage, 402, "billing_error",
               "third_party_extra_usage"},
    RefusalRow{anthropic::RefusalKind::kOutOfExtraUsage, 402, "billing_error",
               "extra_usage_exhausted"},
    RefusalRow{anthropic::RefusalKind::kOverageInUse, 429, "rate_limit_error",
               "plan_limit_reached"},
    RefusalRow{anthropic::RefusalKind::kModelNotInPlan, 403, "permission_error",
               "model_not_in_plan"},
    RefusalRow{anthropic::RefusalKind::kRateLimit, 429, "rate_limit_error", "rate_limit_exceeded"},
};

}  // namespace

void NameRefusal(UpstreamError& error, const anthropic::Refusal& refusal) {
  // Overload already has its own status and code (Classify), and clients and tests match
  // Anthropic's "Overloaded" as it is; only the refusals above get a message of ours.
  for (const auto& row : kRefusalTable) {
    if (row.kind != refusal.kind) {
      continue;
    }
    error.status = row.status;
    error.type = std::string(row.type);
    error.code = std::string(row.code);
    // Anthropic's own words stay visible after ours: people search for them.
    error.message = error.message.empty() || error.message == refusal.message
                        ? refusal.message
                        : refusal.message + " Anthropic said: \"" + error.message + "\"";
    error.should_retry_false = error.should_retry_false || refusal.retry_useless;
    RenderBody(error);
    return;
  }
}

UpstreamError MapUpstreamError(unsigned status, std::string_view body,
                               std::optional<unsigned> retry_after_seconds) {
  UpstreamError out;
  std::string details_code;
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  const nlohmann::json* error = nullptr;
  if (parsed.is_object()) {
    const auto it = parsed.find("error");
    if (it != parsed.end() && it->is_object()) {
      error = &*it;
    }
  }
  if (error != nullptr) {
    if (const auto msg = error->find("message"); msg != error->end() && msg->is_string()) {
      out.message = msg->get<std::string>();
    }
    if (const auto details = error->find("details");
        details != error->end() && details->is_object()) {
      const auto code = details->find("error_code");
      if (code != details->end() && code->is_string()) {
        details_code = code->get<std::string>();
      }
    }
  }
  if (out.message.empty()) {
    std::string_view excerpt = body.substr(0, kMaxQuotedBodyBytes);
    out.message = "upstream returned HTTP " + std::to_string(status);
    if (!excerpt.empty() && error == nullptr) {
      out.message += ": ";
      out.message += excerpt;
    }
  }
  Classify(status, details_code, out);
  if (retry_after_seconds && *retry_after_seconds > kLongRetryAfterSeconds) {
    out.should_retry_false = true;
  }
  RenderBody(out);
  return out;
}

UpstreamError MapStreamError(std::string_view error_type, std::string_view message) {
  unsigned status = 500;
  for (const auto& row : kTypeStatus) {
    if (row.anthropic_type == error_type) {
      status = row.status;
      break;
    }
  }
  UpstreamError out;
  out.message =
      message.empty() ? std::string("An error occurred during streaming") : std::string(message);
  Classify(status, "", out);
  RenderBody(out);
  const anthropic::UpstreamAnswer answer{0, nullptr, error_type, message};
  NameRefusal(out, anthropic::ClassifyRefusal(answer, std::chrono::system_clock::now()));
  return out;
}

}  // namespace claudegate::translate
