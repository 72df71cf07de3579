#include "claudegate/routes/translated_relay.hpp"

#include <charconv>

#include "claudegate/translate/message_accumulator.hpp"
#include "claudegate/translate/upstream_error.hpp"

namespace claudegate::routes {
namespace {

constexpr std::size_t kMaxErrorBody = 1024U * 1024U;

}  // namespace

Error ResponseTooLarge(std::size_t limit) {
  return Error(ErrorKind::kUpstreamUnreachable,
               "The Claude API answer is larger than upstream.max_response_bytes (" +
                   std::to_string(limit) + " bytes); ask for fewer tokens or stream it.",
               {}, "upstream_response_too_large");
}

std::optional<unsigned> RetryAfterSeconds(std::string_view value) {
  unsigned seconds = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return seconds;
}

Awaitable<void> DrainBody(upstream::UpstreamResponse& response, const config::Upstream& config) {
  for (int reads = 0; reads < 4; ++reads) {
    auto rest = co_await response.Read(config.heartbeat_interval);
    if (!rest || rest->empty()) {
      co_return;
    }
  }
}

Awaitable<middleware::Outcome> RelayOpenAiUpstreamError(middleware::RequestContext& ctx,
                                                        upstream::AuthorizedResponse& answer,
                                                        const config::Upstream& config) {
  std::string body;
  if (answer.error_body) {
    body = std::move(*answer.error_body);
  } else if (auto read =
                 co_await answer.response.ReadAll(kMaxErrorBody, config.first_byte_timeout)) {
    body = std::move(*read);
  }
  ctx.usage.upstream_error = AnthropicErrorTypeOf(answer.response.status(), body);
  const auto retry_after = RetryAfterSeconds(answer.response.header("retry-after"));
  const auto mapped = translate::MapUpstreamError(answer.response.status(), body, retry_after);
  server::HeaderList headers = UsefulUpstreamHeaders(answer.response.headers());
  if (mapped.should_retry_false) {
    headers.emplace_back("x-should-retry", "false");
  }
  ctx.details = "upstream_" + std::to_string(answer.response.status());
  co_return co_await middleware::JsonReply(ctx, mapped.status, mapped.openai_body, headers);
}

Awaitable<AccumulatedMessage> AccumulateUpstreamMessage(middleware::RequestContext& ctx,
                                                        upstream::UpstreamResponse& response,
                                                        const config::Upstream& config) {
  translate::MessageAccumulator accumulator;
  sse::Decoder decoder(config.max_sse_event_bytes);
  auto silence = std::chrono::milliseconds::zero();
  std::optional<Error> failure;
  // The answer is held whole until it ends: bound it like ReadAll bounds a JSON answer, so a
  // hostile or broken upstream cannot grow it without end (issue 14, finding 13).
  std::size_t received = 0;
  while (!accumulator.done()) {
    auto piece = co_await response.Read(config.heartbeat_interval);
    if (!piece && piece.error().code == "idle") {
      silence += config.heartbeat_interval;
      if (silence < config.stream_idle_timeout) {
        continue;
      }
      failure = Error(ErrorKind::kUpstreamTimeout, "The Claude API went silent; giving up.", {},
                      "timeout");
      break;
    }
    if (!piece) {
      failure = piece.error();
      break;
    }
    if (piece->empty()) {
      break;
    }
    silence = std::chrono::milliseconds::zero();
    received += piece->size();
    if (received > config.max_response_bytes) {
      failure = ResponseTooLarge(config.max_response_bytes);
      break;
    }
    auto fed = decoder.Feed(*piece, [&](const sse::Event& event) { accumulator.OnEvent(event); });
    if (!fed) {
      failure = fed.error();
      break;
    }
  }
  AccumulatedMessage result;
  if (accumulator.done() && !failure) {
    co_await DrainBody(response, config);
  }
  if (accumulator.error()) {
    const auto& error = *accumulator.error();
    ctx.details = "stream_error";
    ctx.usage.upstream_error = error.type;
    result.replied = co_await middleware::JsonReply(ctx, error.status, error.openai_body);
    co_return result;
  }
  if (failure) {
    ctx.usage.upstream_error = TransportErrorLabel(*failure);
    result.replied = co_await middleware::LocalReply(ctx, *failure, "upstream_failed");
    co_return result;
  }
  auto message = accumulator.TakeMessage();
  if (!message) {
    result.replied = co_await middleware::LocalReply(ctx, message.error(), "upstream_incomplete");
    co_return result;
  }
  result.message = std::move(*message);
  co_return result;
}

}  // namespace claudegate::routes
