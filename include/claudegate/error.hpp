/// @file error.hpp
/// The one error type of claudegate's domain code and the one table that maps it to an HTTP status
/// and to each API's error body.
///
/// Domain functions return `Result<T>`; I/O code uses `error_code` and turns what it cannot handle
/// into an `Error` at the edge. Every reply the gateway itself produces for a failure goes through
/// `ErrorStatus()` and `OpenAiErrorBody()` / `AnthropicErrorBody()`, so a status and its body can
/// never disagree.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/system/result.hpp>
#include <nlohmann/json_fwd.hpp>

namespace claudegate {

/// What went wrong, independent of which API shape reports it.
enum class ErrorKind {
  kInvalidRequest,          ///< 400: the client sent something we cannot accept.
  kAuthentication,          ///< 401: missing or wrong master key.
  kPermission,              ///< 403.
  kNotFound,                ///< 404: unknown route or resource.
  kModelNotFound,           ///< 404: unknown model id or alias.
  kMethodNotAllowed,        ///< 405: route exists, method does not.
  kRequestTimeout,          ///< 408: the client was too slow sending its request.
  kPayloadTooLarge,         ///< 413: body over the configured limit.
  kHeadersTooLarge,         ///< 431: request header block over the limit.
  kRateLimited,             ///< 429: a limit of the gateway or of the plan.
  kInternal,                ///< 500: a bug; the message is generic.
  kUpstreamUnreachable,     ///< 502: connect/TLS/protocol failure talking to Anthropic.
  kUpstreamAuthentication,  ///< 502: Anthropic refused *our* Claude credential, not the client's.
  kServiceUnavailable,      ///< 503: overloaded, shutting down, a refresh that failed for now.
  kCredentialUnavailable,   ///< 503: no usable Claude login (absent, logged out, unreadable):
                            ///< retrying cannot help until someone logs in on the host.
  kUpstreamTimeout,         ///< 504: upstream did not answer in time.
  kUpgradeRequired,         ///< 426: a transport the gateway does not serve (WebSocket).
};

/// A domain error: a kind, a human-readable message, and optionally the offending parameter and a
/// machine-readable code (OpenAI's `error.code`).
struct Error {
  Error() = default;
  // A constructor rather than aggregate initialisation: GCC 12 miscompiles aggregates initialised
  // from string literals inside coroutines ("array used as initializer").
  Error(ErrorKind error_kind, std::string error_message, std::string error_param = {},
        std::string machine_code = {})
      : kind(error_kind),
        message(std::move(error_message)),
        param(std::move(error_param)),
        code(std::move(machine_code)) {}

  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
  std::string param;  ///< Empty when not about one parameter; rendered as JSON null.
  std::string code;   ///< Empty renders as JSON null.
};

/// `boost::system::result` with our error type; `.value()` throws `ErrorException` (tests only).
template <typename T>
using Result = boost::system::result<T, Error>;

/// Thrown by `Result<T>::value()` on an error; only tests and start-up code let it escape.
class ErrorException : public std::runtime_error {
 public:
  explicit ErrorException(Error error)
      : std::runtime_error(error.message), error_(std::move(error)) {}
  [[nodiscard]] const Error& error() const { return error_; }

 private:
  Error error_;
};

/// ADL hook that makes `Result<T>::value()` usable (boost::system::result's customisation point).
[[noreturn]] void throw_exception_from_error(
    const Error& error,  // NOLINT(readability-identifier-naming)
    const boost::source_location& location);

/// HTTP status for a kind.
[[nodiscard]] unsigned ErrorStatus(ErrorKind kind);
/// OpenAI `error.type` for a kind (e.g. `invalid_request_error`).
[[nodiscard]] std::string_view OpenAiErrorType(ErrorKind kind);
/// Anthropic `error.type` for a kind (e.g. `authentication_error`).
[[nodiscard]] std::string_view AnthropicErrorType(ErrorKind kind);

/// `{"error":{"message","type","param","code"}}`.
[[nodiscard]] std::string OpenAiErrorBody(const Error& error);
/// `{"type":"error","error":{"type","message"}}`.
[[nodiscard]] std::string AnthropicErrorBody(const Error& error);

/// Which API's error shape a route speaks.
enum class ApiFlavor { kOpenAi, kAnthropic };

/// The body for `error` in the shape of `flavor`.
[[nodiscard]] std::string ErrorBody(ApiFlavor flavor, const Error& error);

}  // namespace claudegate
