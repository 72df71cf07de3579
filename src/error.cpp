#include "claudegate/error.hpp"

#include <array>

#include "claudegate/json/writer.hpp"

namespace claudegate {
namespace {

struct ErrorRow {
  ErrorKind kind;
  unsigned status;
  std::string_view openai_type;
  std::string_view anthropic_type;
};

// The single mapping table. OpenAI types follow what the OpenAI SDKs and LiteLLM emit; Anthropic
// types are the documented `error.type` values (docs/anthropic-notes.md#error-mapping).
constexpr std::array kErrorTable{
    ErrorRow{ErrorKind::kInvalidRequest, 400, "invalid_request_error", "invalid_request_error"},
    ErrorRow{ErrorKind::kAuthentication, 401, "authentication_error", "authentication_error"},
    ErrorRow{ErrorKind::kPermission, 403, "permission_error", "permission_error"},
    ErrorRow{ErrorKind::kNotFound, 404, "invalid_request_error", "not_found_error"},
    ErrorRow{ErrorKind::kModelNotFound, 404, "invalid_request_error", "not_found_error"},
    ErrorRow{ErrorKind::kMethodNotAllowed, 405, "invalid_request_error", "invalid_request_error"},
    ErrorRow{ErrorKind::kRequestTimeout, 408, "invalid_request_error", "timeout_error"},
    ErrorRow{ErrorKind::kPayloadTooLarge, 413, "invalid_request_error", "request_too_large"},
    ErrorRow{ErrorKind::kHeadersTooLarge, 431, "invalid_request_error", "invalid_request_error"},
    ErrorRow{ErrorKind::kRateLimited, 429, "rate_limit_error", "rate_limit_error"},
    ErrorRow{ErrorKind::kInternal, 500, "server_error", "api_error"},
    ErrorRow{ErrorKind::kUpstreamUnreachable, 502, "server_error", "api_error"},
    ErrorRow{ErrorKind::kUpstreamAuthentication, 502, "upstream_authentication_error",
             "authentication_error"},
    ErrorRow{ErrorKind::kServiceUnavailable, 503, "server_error", "overloaded_error"},
    // Not overloaded_error: Claude Code retries that for minutes, and nothing changes until a
    // person logs in again (docs/anthropic-notes.md#error-mapping).
    ErrorRow{ErrorKind::kCredentialUnavailable, 503, "server_error", "api_error"},
    ErrorRow{ErrorKind::kUpstreamTimeout, 504, "server_error", "timeout_error"},
    ErrorRow{ErrorKind::kUpgradeRequired, 426, "invalid_request_error", "invalid_request_error"},
};

const ErrorRow& Row(ErrorKind kind) {
  for (const auto& row : kErrorTable) {
    if (row.kind == kind) {
      return row;
    }
  }
  return kErrorTable[10];  // kInternal; unreachable while the table lists every kind.
}

void AppendStringOrNull(std::string& out, const std::string& value) {
  if (value.empty()) {
    out.append("null");
  } else {
    json::AppendJsonString(out, value);
  }
}

}  // namespace

void throw_exception_from_error(const Error& error, const boost::source_location& /*location*/) {
  throw ErrorException(error);
}

unsigned ErrorStatus(ErrorKind kind) { return Row(kind).status; }
std::string_view OpenAiErrorType(ErrorKind kind) { return Row(kind).openai_type; }
std::string_view AnthropicErrorType(ErrorKind kind) { return Row(kind).anthropic_type; }

// Both bodies are written by hand, with keys in the order nlohmann's sorted objects gave them:
// building a DOM and dumping it cost ~20k instructions, a sixth of a whole 401 reply.
std::string OpenAiErrorBody(const Error& error) {
  std::string body;
  body.reserve(96 + error.message.size());
  body.append(R"({"error":{"code":)");
  AppendStringOrNull(body, error.code);
  body.append(R"(,"message":)");
  json::AppendJsonString(body, error.message);
  body.append(R"(,"param":)");
  AppendStringOrNull(body, error.param);
  body.append(R"(,"type":)");
  json::AppendJsonString(body, OpenAiErrorType(error.kind));
  body.append("}}");
  return body;
}

std::string AnthropicErrorBody(const Error& error) {
  std::string body;
  body.reserve(64 + error.message.size());
  body.append(R"({"error":{"message":)");
  json::AppendJsonString(body, error.message);
  body.append(R"(,"type":)");
  json::AppendJsonString(body, AnthropicErrorType(error.kind));
  body.append(R"(},"type":"error"})");
  return body;
}

std::string ErrorBody(ApiFlavor flavor, const Error& error) {
  return flavor == ApiFlavor::kAnthropic ? AnthropicErrorBody(error) : OpenAiErrorBody(error);
}

}  // namespace claudegate
