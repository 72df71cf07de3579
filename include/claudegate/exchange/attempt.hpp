/// @file attempt.hpp
/// One upstream attempt as the exchange's retry loop sees it (exchange.hpp): sent with the
/// credential, its failure classified (attempt_failure.hpp) with the server's retry hints, an
/// error body read so that it can be classified and still relayed, and a 200 event stream read
/// ahead until its first content event, so that an `overloaded_error` or `api_error` sent before
/// any content can be retried unseen. What was read ahead stays in `answer.read_ahead` for the
/// pump (`UpstreamBody`), unchanged.
///
/// Runs on the request's strand.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "claudegate/exchange/retry_policy.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::exchange {

/// How much one attempt may read before the exchange decides.
struct AttemptLimits {
  /// Read-ahead of a 200 event stream: at most these bytes (0: none) and this long. The time is
  /// at most the heartbeat interval: no heartbeat can go out while nothing is relayed.
  std::size_t read_ahead_bytes = 0;
  std::chrono::milliseconds read_ahead_time{0};
  std::size_t max_event_bytes = 0;
  std::size_t max_error_body = 0;  ///< An error body larger than this is not held.
};

/// What one attempt came back with.
struct Attempt {
  std::optional<upstream::AuthorizedResponse> answer;  ///< Anthropic answered (any status).
  /// No answer (then `answer` is empty), or the error body could not be read.
  std::optional<Error> error;
  std::optional<FailureKind> failure;  ///< Unset: a 200 for the pump.
  RetryHints hints;
};

/// Sends `request` once (`upstream::SendAuthorized`) and classifies the outcome.
Awaitable<Attempt> SendAttempt(const upstream::CallContext& call,
                               const upstream::UpstreamRequest& request,
                               std::string_view client_betas,
                               const std::vector<std::string>& request_betas,
                               const AttemptLimits& limits);

}  // namespace claudegate::exchange
