#include "claudegate/error.hpp"

#include <array>
#include <nlohmann/json.hpp>

namespace claudegate {
namespace {

struct ErrorRow {
  ErrorKind kind;
  unsigned status;
  std::string_view openai_type;
  std::string_view anthropic_type;
};

// The single mapping table. OpenAI types follow what the OpenAI SDKs and LiteLLM emit; Anthropic
// types are the documented `error.type` values (see reference/openai-anthropic-mapping.md §4).
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
    ErrorRow{ErrorKind::kUpstreamTimeout, 504, "server_error", "timeout_error"},
};

const ErrorRow& Row(ErrorKind kind) {
  for (const auto& row : kErrorTable) {
    if (row.kind == kind) {
      return row;
    }
  }
  return kErrorTable[10];  // kInternal; unreachable while the table lists every kind.
}

nlohmann::json NullIfEmpty(const std::string& value) {
  return value.empty() ? nlohmann::json(nullptr) : nlohmann::json(value);
}

}  // namespace

void throw_exception_from_error(const Error& error, const boost::source_location& /*location*/) {
  throw ErrorException(error);
}

unsigned ErrorStatus(ErrorKind kind) { return Row(kind).status; }
std::string_view OpenAiErrorType(ErrorKind kind) { return Row(kind).openai_type; }
std::string_view AnthropicErrorType(ErrorKind kind) { return Row(kind).anthropic_type; }

std::string OpenAiErrorBody(const Error& error) {
  const nlohmann::json body = {{"error",
                                {{"message", error.message},
                                 {"type", OpenAiErrorType(error.kind)},
                                 {"param", NullIfEmpty(error.param)},
                                 {"code", NullIfEmpty(error.code)}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string AnthropicErrorBody(const Error& error) {
  const nlohmann::json body = {
      {"type", "error"},
      {"error", {{"type", AnthropicErrorType(error.kind)}, {"message", error.message}}}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string ErrorBody(ApiFlavor flavor, const Error& error) {
  return flavor == ApiFlavor::kAnthropic ? AnthropicErrorBody(error) : OpenAiErrorBody(error);
}

}  // namespace claudegate
