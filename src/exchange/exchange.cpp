#include "claudegate/exchange/exchange.hpp"

#include <charconv>
#include <chrono>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/refusal.hpp"
#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/translate/upstream_error.hpp"

namespace claudegate::exchange {
namespace {

// An error body is a short JSON object; a bigger one is not worth holding.
constexpr std::size_t kMaxErrorBody = 1024U * 1024U;

}  // namespace

upstream::UpstreamRequest MessagesCall(std::string body, bool stream,
                                       std::string_view anthropic_version) {
  upstream::UpstreamRequest request;
  request.target = "/v1/messages";
  request.body = std::move(body);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", stream ? "text/event-stream" : "application/json");
  request.headers.emplace_back("anthropic-version", std::string(anthropic_version));
  return request;
}

Awaitable<Opened> Exchange::Open(upstream::UpstreamRequest request, std::string_view client_betas,
                                 const std::vector<std::string>& request_betas) {
  Opened opened;
  auto sent =
      co_await upstream::SendAuthorized(call_, std::move(request), client_betas, request_betas);
  if (!sent) {
    ctx_.usage.upstream_error = TransportErrorLabel(sent.error());
    opened.replied = co_await middleware::LocalReply(ctx_, sent.error(),
                                                     std::string(details::kUpstreamUnavailable));
    co_return opened;
  }
  ctx_.usage.upstream_seconds = sent->upstream_seconds;
  if (sent->response.status() == 200) {
    opened.answer.emplace(std::move(*sent));
    co_return opened;
  }
  if (ctx_.flavor == ApiFlavor::kAnthropic) {
    opened.replied = co_await RelayAsSent(ctx_, *sent, call_.config);
  } else {
    opened.replied = co_await RelayOpenAiError(ctx_, *sent, call_.config);
  }
  co_return opened;
}

Awaitable<Result<std::string>> ReadBody(upstream::AuthorizedResponse& answer, std::size_t limit,
                                        const config::Upstream& config) {
  if (answer.error_body) {
    co_return std::move(*answer.error_body);
  }
  // A body read is bounded like a stream's silence, whatever the status: the first-byte timeout
  // ended when the headers arrived (docs/architecture.md, "The exchange and the pump").
  co_return co_await answer.response.ReadAll(limit, config.stream_idle_timeout);
}

Awaitable<middleware::Outcome> RelayAsSent(server::RequestContext& ctx,
                                           upstream::AuthorizedResponse& answer,
                                           const config::Upstream& config) {
  const unsigned status = answer.response.status();
  auto read = co_await ReadBody(answer, config.max_response_bytes, config);
  if (!read) {
    ctx.usage.upstream_error = TransportErrorLabel(read.error());
    co_return co_await middleware::LocalReply(ctx, read.error(),
                                              std::string(details::kUpstreamFailed));
  }
  std::string body = std::move(*read);
  server::HeaderList headers = UsefulUpstreamHeaders(answer.response.headers());
  if (status >= 400) {
    ctx.details = details::UpstreamStatus(status);
    ctx.usage.upstream_error = AnthropicErrorTypeOf(status, body);
    // The body stays Anthropic's (Claude Code matches on it); the kind goes into a header.
    const auto refusal = anthropic::ClassifyHttpAnswer(status, answer.response.headers(), body,
                                                       std::chrono::system_clock::now());
    if (refusal.kind != anthropic::RefusalKind::kNone) {
      ctx.usage.refusal = std::string(anthropic::Label(refusal.kind));
      headers.emplace_back(std::string(anthropic::kRefusalHeader), ctx.usage.refusal);
    }
  } else {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() && status / 100 == 2) {
      // A success that is not JSON (a cut or garbled body) must not reach the client as a 200.
      const Error invalid(ErrorKind::kUpstreamUnreachable, "The Claude API sent invalid JSON.", {},
                          "bad_upstream_response");
      ctx.usage.upstream_error = TransportErrorLabel(invalid);
      co_return co_await middleware::LocalReply(ctx, invalid,
                                                std::string(details::kUpstreamUnparseable));
    }
    if (json.is_object() && json.contains("usage") && json["usage"].is_object()) {
      translate::Usage usage;
      translate::UpdateUsage(usage, json["usage"]);
      RecordUsage(ctx, usage);
    }
  }
  const std::string content_type(answer.response.header("content-type"));
  co_await ctx.sink.Send(status, content_type, std::move(body), headers);
  co_return middleware::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

Awaitable<middleware::Outcome> RelayOpenAiError(server::RequestContext& ctx,
                                                upstream::AuthorizedResponse& answer,
                                                const config::Upstream& config) {
  std::string body;
  if (auto read = co_await ReadBody(answer, kMaxErrorBody, config)) {
    body = std::move(*read);
  }
  const unsigned status = answer.response.status();
  ctx.usage.upstream_error = AnthropicErrorTypeOf(status, body);
  const auto retry_after = RetryAfterSeconds(answer.response.header("retry-after"));
  auto mapped = translate::MapUpstreamError(status, body, retry_after);
  // Anthropic's refusal named (docs/anthropic-notes.md#refusals): its own code and message, the
  // wait until the window's reset when Anthropic sent no retry-after, and the kind in a header.
  const auto now = std::chrono::system_clock::now();
  const auto refusal = anthropic::ClassifyHttpAnswer(status, answer.response.headers(), body, now);
  translate::NameRefusal(mapped, refusal);
  server::HeaderList headers = UsefulUpstreamHeaders(answer.response.headers());
  if (const auto wait = refusal.SecondsUntilReset(now); wait && !retry_after) {
    headers.emplace_back("retry-after", std::to_string(*wait));
  }
  if (mapped.should_retry_false) {
    headers.emplace_back("x-should-retry", "false");
  }
  if (refusal.kind != anthropic::RefusalKind::kNone) {
    ctx.usage.refusal = std::string(anthropic::Label(refusal.kind));
    headers.emplace_back(std::string(anthropic::kRefusalHeader), ctx.usage.refusal);
  }
  ctx.details = details::UpstreamStatus(status);
  co_return co_await middleware::JsonReply(ctx, mapped.status, mapped.openai_body, headers);
}

std::optional<unsigned> RetryAfterSeconds(std::string_view value) {
  unsigned seconds = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return seconds;
}

}  // namespace claudegate::exchange
