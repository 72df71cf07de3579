/// @file exchange.hpp
/// One upstream exchange, shared by every route that calls the Claude API: the request's headers,
/// the authorized send (credential, merged betas, one refresh-and-retry when Anthropic rejects the
/// credential: upstream/authorized_call.hpp) and the replies the client gets when there is no
/// answer body to pump:
///
/// - no answer at all (no credential, connection, TLS, first-byte timeout): 502/503/504 in the
///   route's error shape, `details=upstream_unavailable`, labelled `connection`/`timeout`;
/// - an answer other than 200: in the route's own error shape (`ctx.flavor`): on the OpenAI routes
///   Anthropic's error mapped to OpenAI's (status, `retry-after`, `x-should-retry`); on
///   `/v1/messages` Anthropic's own body and status, as sent. `details=upstream_<status>`, labelled
///   with Anthropic's `error.type`.
///
/// A 200 is the caller's to read with the pump (pump.hpp). Before that, `Open` retries and falls
/// back (docs/architecture.md, "The exchange and the pump"): a failed attempt (attempt.hpp) is
/// sent again after the wait `DecideRetry` chooses (retry_policy.hpp), on a timer a client
/// disconnect cancels; a model that still fails, or that the plan refuses, gives way to its
/// fallbacks (fallbacks.hpp). All of it happens before any byte reached the client: the pump
/// writes nothing, not even the head, before the consumer's first output, and a 200 event stream
/// is read ahead to its first content event so that an `overloaded_error` there is still a
/// retryable failure. When the gateway retried and still fails, the reply adds
/// `x-should-retry: false`, so that the SDKs' own retries do not multiply ours.
///
/// Runs on the request's strand; a client disconnect cancels the send and closes the connection.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/config/config.hpp"
#include "claudegate/exchange/attempt.hpp"
#include "claudegate/exchange/fallbacks.hpp"
#include "claudegate/middleware/middleware.hpp"
#include "claudegate/upstream/authorized_call.hpp"

namespace claudegate::exchange {

/// The `POST /v1/messages` call the OpenAI routes make for a translated `body`: JSON in, an event
/// stream or JSON back, Anthropic's API version.
[[nodiscard]] upstream::UpstreamRequest MessagesCall(std::string body, bool stream,
                                                     std::string_view anthropic_version);

/// What `Exchange::Open` came back with.
struct Opened {
  std::optional<upstream::AuthorizedResponse> answer;  ///< A 200 whose body is still unread.
  server::Outcome replied;                             ///< Otherwise: the reply already sent.
  /// The fallback that answered (`FallbackModel::name`), empty when the requested model did.
  std::string fallback_model;
};

/// The upstream side of one request.
class Exchange {
 public:
  /// `ctx` (its `flavor` picks the error shape), `call` and `retries` must outlive the exchange.
  /// Without `retries`, one attempt only.
  Exchange(server::RequestContext& ctx, const upstream::CallContext& call,
           const config::Retries* retries = nullptr)
      : ctx_(ctx), call_(call), retries_(retries) {}

  /// Sends `request` (no credential, no `anthropic-beta`; betas are the client's header value,
  /// then `request_betas`), retried and sent to `fallback`'s models as the rules say, and answers
  /// the client itself unless the upstream answered 200.
  Awaitable<Opened> Open(upstream::UpstreamRequest request, std::string_view client_betas,
                         const std::vector<std::string>& request_betas,
                         const ModelFallback* fallback = nullptr);

 private:
  // The reply for the last failed attempt: what the client got before retries existed.
  Awaitable<server::Outcome> ReplyFailure(Attempt& attempt);
  // Records what the request's usage notes of the answer being relayed (timing, request-id).
  void NoteAnswer(const upstream::AuthorizedResponse& answer);
  // Waits `delay` before a retry; false when the client left meanwhile.
  Awaitable<bool> Wait(std::chrono::milliseconds delay);

  server::RequestContext& ctx_;
  const upstream::CallContext& call_;
  const config::Retries* retries_;
};

/// The body of `answer` (already read when `SendAuthorized` had to classify it), at most `limit`
/// bytes, each read waiting at most `upstream.stream_idle_timeout`. Errors are the client's.
Awaitable<Result<std::string>> ReadBody(upstream::AuthorizedResponse& answer, std::size_t limit,
                                        const config::Upstream& config);

/// Relays a whole answer as Anthropic sent it (`/v1/messages`): status, content type, body and the
/// useful headers. Errors are labelled, and a refusal Anthropic's answer names
/// (anthropic/refusal.hpp) is added as `x-claudegate-refusal` without touching the body; usage is
/// recorded from a JSON success; a 2xx whose body is not JSON (cut, garbled) becomes a 502
/// instead, and so does a body over `max_response_bytes`.
Awaitable<server::Outcome> RelayAsSent(server::RequestContext& ctx,
                                       upstream::AuthorizedResponse& answer,
                                       const config::Upstream& config);

/// An upstream error answer in OpenAI's shape (translate/response/upstream_error.hpp), useful
/// headers kept, `x-should-retry: false` where retrying cannot help. A named refusal
/// (anthropic/refusal.hpp) gets its own code, status and message, `retry-after` up to the window's
/// reset when Anthropic sent none, and `x-claudegate-refusal` (docs/anthropic-notes.md#refusals).
Awaitable<server::Outcome> RelayOpenAiError(server::RequestContext& ctx,
                                            upstream::AuthorizedResponse& answer,
                                            const config::Upstream& config);

/// `retry-after` as whole seconds, when it is one.
[[nodiscard]] std::optional<unsigned> RetryAfterSeconds(std::string_view value);

}  // namespace claudegate::exchange
