/// @file attempt_failure.hpp
/// What kind of failure one upstream attempt was (retry_policy.hpp's `FailureKind`), from what
/// the exchange has at hand: a transport error, a status with its body and headers, or the first
/// event of a 200 stream. Pure; the retry and fallback rules are in docs/architecture.md ("The
/// exchange and the pump").
#pragma once

#include <string_view>

#include "claudegate/error.hpp"
#include "claudegate/exchange/retry_policy.hpp"
#include "claudegate/net.hpp"

namespace claudegate::exchange {

/// A send that got no answer (connection, TLS, timeouts; missing credentials are not retryable).
[[nodiscard]] FailureKind ClassifyTransport(const Error& error);

/// An answer other than 200, with its body (read whole, or empty when it could not be read).
[[nodiscard]] FailureKind ClassifyAnswer(unsigned status, std::string_view body,
                                         const http::fields& headers);

/// The `data` of an `error` event that came before any content of a 200 stream:
/// `overloaded_error` → kOverloaded-like kStreamError, `api_error` → kStreamError, else
/// kNotRetryable.
[[nodiscard]] FailureKind ClassifyStreamError(std::string_view data);

}  // namespace claudegate::exchange
