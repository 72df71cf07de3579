#include "claudegate/exchange/attempt.hpp"

#include "claudegate/exchange/attempt_failure.hpp"
#include "claudegate/sse/decoder.hpp"

namespace claudegate::exchange {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Events Anthropic sends before the first content block (docs/anthropic-notes.md, "Retries and
// fallbacks"): anything else means the model is answering, and nothing is retried after that.
bool BeforeContent(const sse::Event& event) {
  return event.event == "message_start" || event.event == "ping";
}

// Reads the start of a 200 stream into `answer.read_ahead` until the first content event, the
// bounds, or the end; a retryable `error` event before content, or a broken connection, is a
// failure.
Awaitable<std::optional<FailureKind>> ReadAhead(upstream::AuthorizedResponse& answer,
                                                const AttemptLimits& limits) {
  sse::Decoder decoder(limits.max_event_bytes);
  const auto deadline = steady_clock::now() + limits.read_ahead_time;
  std::optional<FailureKind> failure;
  bool decided = false;
  const auto on_event = [&](const sse::Event& event) {
    if (decided) {
      return;
    }
    if (event.event == "error") {
      if (const auto kind = ClassifyStreamError(event.data); kind != FailureKind::kNotRetryable) {
        failure = kind;
      }
      decided = true;
    } else if (!BeforeContent(event)) {
      decided = true;
    }
  };
  while (!decided && answer.read_ahead.size() < limits.read_ahead_bytes) {
    const auto left = std::chrono::ceil<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) {
      break;
    }
    auto read = co_await answer.response.Read(left);
    if (!read) {
      // Cut before any content: nothing of it can have reached the client.
      co_return FailureKind::kConnection;
    }
    if (read->status != upstream::BodyRead::Status::kData) {
      break;  // silent for now, or ended: the pump takes it from here
    }
    answer.read_ahead.append(read->data);
    if (!decoder.Feed(read->data, on_event)) {
      break;  // undecodable here is undecodable for the consumer too: it reports it
    }
  }
  co_return failure;
}

}  // namespace

Awaitable<Attempt> SendAttempt(const upstream::CallContext& call,
                               const upstream::UpstreamRequest& request,
                               std::string_view client_betas,
                               const std::vector<std::string>& request_betas,
                               const AttemptLimits& limits) {
  Attempt attempt;
  auto sent = co_await upstream::SendAuthorized(call, request, client_betas, request_betas);
  if (!sent) {
    attempt.failure = ClassifyTransport(sent.error());
    attempt.error = sent.error();
    co_return attempt;
  }
  auto& answer = attempt.answer.emplace(std::move(*sent));
  const unsigned status = answer.response.status();
  if (status == 200) {
    if (limits.read_ahead_bytes > 0 &&
        answer.response.header("content-type").starts_with("text/event-stream")) {
      attempt.failure = co_await ReadAhead(answer, limits);
    }
    co_return attempt;
  }
  if (!answer.error_body) {
    // Read now to classify; the reply relays it from here (`ReadBody` returns it).
    auto body =
        co_await answer.response.ReadAll(limits.max_error_body, call.config.stream_idle_timeout);
    if (body) {
      answer.error_body = std::move(*body);
    } else {
      attempt.error = body.error();
    }
  }
  const std::string_view body = answer.error_body ? std::string_view(*answer.error_body) : "";
  attempt.failure = ClassifyAnswer(status, body, answer.response.headers());
  attempt.hints = HintsFrom(answer.response.headers(), std::chrono::system_clock::now());
  co_return attempt;
}

}  // namespace claudegate::exchange
