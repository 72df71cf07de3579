#include "claudegate/exchange/attempt_failure.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/exchange/plan_refusal.hpp"

namespace claudegate::exchange {
namespace {

// Anthropic's error body: {"type":"error","error":{"type":..,"message":..}}.
struct ErrorFields {
  std::string type;
  std::string message;
};

ErrorFields FieldsOf(std::string_view body) {
  ErrorFields fields;
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object()) {
    return fields;
  }
  const auto error = json.find("error");
  if (error == json.end() || !error->is_object()) {
    return fields;
  }
  fields.type = error->value("type", "");
  fields.message = error->value("message", "");
  return fields;
}

}  // namespace

FailureKind ClassifyTransport(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kUpstreamUnreachable:
      // upstream_connection.cpp and tls_socket.cpp name the handshake in their messages.
      return error.message.find("TLS") != std::string::npos ? FailureKind::kTls
                                                            : FailureKind::kConnection;
    case ErrorKind::kUpstreamTimeout:
      // upstream_client.cpp: "... (first-byte timeout)" once the request was sent; the connect
      // and handshake timeouts come before anything was sent.
      return error.message.find("first-byte") != std::string::npos ? FailureKind::kFirstByteTimeout
                                                                   : FailureKind::kConnectTimeout;
    default:
      return FailureKind::kNotRetryable;
  }
}

FailureKind ClassifyAnswer(unsigned status, std::string_view body, const http::fields& headers) {
  if (IsPlanRefusal(status, body, headers)) {
    return FailureKind::kPlanRefusal;
  }
  switch (status) {
    case 529:
      return FailureKind::kOverloaded;
    case 500:
    case 502:
    case 503:
    case 504:
      return FieldsOf(body).type == "overloaded_error" ? FailureKind::kOverloaded
                                                       : FailureKind::kServerError;
    case 429:
      return FailureKind::kRateLimited;
    case 400: {
      const ErrorFields fields = FieldsOf(body);
      // docs/anthropic-notes.md ("Retries and fallbacks"): "prompt is too long: N tokens > M".
      if (fields.type == "invalid_request_error" &&
          fields.message.find("prompt is too long") != std::string::npos) {
        return FailureKind::kPromptTooLong;
      }
      return FailureKind::kNotRetryable;
    }
    default:
      return FailureKind::kNotRetryable;
  }
}

FailureKind ClassifyStreamError(std::string_view data) {
  const std::string type = FieldsOf(data).type;
  return type == "overloaded_error" || type == "api_error" ? FailureKind::kStreamError
                                                           : FailureKind::kNotRetryable;
}

}  // namespace claudegate::exchange
