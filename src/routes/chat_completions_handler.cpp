#include "claudegate/routes/chat_completions_handler.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include <nlohmann/json.hpp>

#include "claudegate/routes/request_accounting.hpp"
#include "claudegate/routes/upstream_errors.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/chat_request.hpp"
#include "claudegate/translate/chat_response.hpp"
#include "claudegate/translate/message_accumulator.hpp"
#include "claudegate/translate/stream_translator.hpp"
#include "claudegate/translate/upstream_error.hpp"

namespace claudegate::routes {
namespace {

using middleware::Outcome;
using middleware::RequestContext;

constexpr std::size_t kMaxErrorBody = 1024U * 1024U;

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<unsigned> RetryAfterSeconds(std::string_view value) {
  unsigned seconds = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return seconds;
}

// Reads what is left of a response after its last event (normally just the chunked terminator),
// so the connection can return to the pool instead of being closed.
Awaitable<void> DrainBody(upstream::UpstreamResponse& response, const config::Upstream& config) {
  for (int reads = 0; reads < 4; ++reads) {
    auto rest = co_await response.Read(config.heartbeat_interval);
    if (!rest || rest->empty()) {
      co_return;
    }
  }
}

// An upstream non-2xx answer, translated to OpenAI's error shape with the useful headers kept.
Awaitable<Outcome> RelayUpstreamError(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                                      const config::Upstream& config) {
  std::string body;
  if (answer.error_body) {
    body = std::move(*answer.error_body);
  } else if (auto read = co_await answer.response.ReadAll(kMaxErrorBody, config.first_byte_timeout)) {
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

// Reads the upstream SSE stream and relays it as OpenAI chunks, one write per upstream read so a
// slow client slows the upstream read (backpressure). Heartbeat comments keep proxies from
// cutting the stream during long silences (e.g. extended thinking).
Awaitable<Outcome> RelayStream(RequestContext& ctx, upstream::UpstreamResponse& response,
                               const translate::AnthropicRequest& request,
                               const config::Upstream& config, metrics::GatewayMetrics* metrics) {
  const OpenStream open_stream(metrics);
  ctx.usage.stream = true;
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  headers.emplace_back("cache-control", "no-cache");
  headers.emplace_back("x-accel-buffering", "no");  // nginx: do not buffer this response
  if (auto ec = co_await ctx.sink.WriteHead(200, "text/event-stream; charset=utf-8", headers); ec) {
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  translate::StreamOptions options;
  options.model = request.requested_model;
  options.created = UnixNow();
  options.include_usage = request.include_usage;
  translate::StreamTranslator translator(options);
  sse::Decoder decoder;
  std::string out;
  out.reserve(4096);
  auto silence = std::chrono::milliseconds::zero();
  for (;;) {
    auto piece = co_await response.Read(config.heartbeat_interval);
    if (!piece && piece.error().code == "idle") {
      silence += config.heartbeat_interval;
      if (silence < config.stream_idle_timeout) {
        if (co_await ctx.sink.WriteChunk(sse::kKeepAlive)) {
          break;  // client gone
        }
        continue;
      }
      translator.Abort("timeout_error", "The Claude API stream went silent; giving up.", out);
    } else if (!piece) {
      translator.Abort("api_error", piece.error().message, out);
    } else if (piece->empty()) {
      translator.OnUpstreamEnd(out);
    } else {
      silence = std::chrono::milliseconds::zero();
      if (!ctx.usage.ttft_seconds && piece->find("content_block_delta") != std::string_view::npos) {
        ctx.usage.ttft_seconds = ctx.ElapsedSeconds();
      }
      auto fed = decoder.Feed(*piece, [&](const sse::Event& event) { translator.OnEvent(event, out); });
      if (!fed) {
        translator.Abort("api_error", fed.error().message, out);
      }
    }
    if (!out.empty()) {
      if (co_await ctx.sink.WriteChunk(out)) {
        break;  // client gone: returning closes the upstream connection
      }
      out.clear();
    }
    if (!piece || piece->empty() || translator.done()) {
      if (translator.done() && piece && !piece->empty()) {
        co_await DrainBody(response, config);
      }
      break;
    }
  }
  if (translator.error()) {
    ctx.details = "stream_error";
    ctx.usage.upstream_error = translator.error()->type;
  }
  if (translator.started()) {
    RecordUsage(ctx, translator.usage());
  }
  co_await ctx.sink.Finish();
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

// A non-streaming client served from a streamed upstream call (reference §3.4): long generations
// would otherwise hit idle timeouts in proxies before the single JSON body arrives.
Awaitable<Outcome> RelayAccumulated(RequestContext& ctx, upstream::UpstreamResponse& response,
                                    const translate::AnthropicRequest& request,
                                    const config::Upstream& config) {
  translate::MessageAccumulator accumulator;
  sse::Decoder decoder;
  auto silence = std::chrono::milliseconds::zero();
  std::optional<Error> failure;
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
    auto fed = decoder.Feed(*piece, [&](const sse::Event& event) { accumulator.OnEvent(event); });
    if (!fed) {
      failure = fed.error();
      break;
    }
  }
  if (accumulator.done() && !failure) {
    co_await DrainBody(response, config);
  }
  if (accumulator.error()) {
    const auto& error = *accumulator.error();
    ctx.details = "stream_error";
    ctx.usage.upstream_error = error.type;
    co_return co_await middleware::JsonReply(ctx, error.status, error.openai_body);
  }
  if (failure) {
    ctx.usage.upstream_error = TransportErrorLabel(*failure);
    co_return co_await middleware::LocalReply(ctx, *failure, "upstream_failed");
  }
  auto message = accumulator.TakeMessage();
  if (!message) {
    co_return co_await middleware::LocalReply(ctx, message.error(), "upstream_incomplete");
  }
  auto translated = translate::ToOpenAi(*message, request.requested_model, UnixNow());
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "upstream_unparseable");
  }
  RecordUsage(ctx, translated->usage);
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  co_return co_await middleware::JsonReply(ctx, 200, translated->body.dump(), headers);
}

// An upstream that answered JSON (never asked to stream) — kept for completeness when the
// translator is configured not to stream upstream.
Awaitable<Outcome> RelayJson(RequestContext& ctx, upstream::UpstreamResponse& response,
                             const translate::AnthropicRequest& request,
                             const config::Upstream& config) {
  auto body = co_await response.ReadAll(64U * 1024U * 1024U, config.stream_idle_timeout);
  if (!body) {
    co_return co_await middleware::LocalReply(ctx, body.error(), "upstream_failed");
  }
  auto message = nlohmann::json::parse(*body, nullptr, false);
  if (message.is_discarded()) {
    co_return co_await middleware::LocalReply(
        ctx, Error(ErrorKind::kUpstreamUnreachable, "The Claude API sent invalid JSON.", {}, "bad_upstream_response"),
        "upstream_unparseable");
  }
  auto translated = translate::ToOpenAi(message, request.requested_model, UnixNow());
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "upstream_unparseable");
  }
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  co_return co_await middleware::JsonReply(ctx, 200, translated->body.dump(), headers);
}

}  // namespace

Awaitable<Outcome> ChatCompletionsHandler::Handle(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const auto json = nlohmann::json::parse(ctx.request.body(), nullptr, false);
  if (json.is_discarded()) {
    co_return co_await middleware::LocalReply(
        ctx,
        Error(ErrorKind::kInvalidRequest,
              "The request body is not valid JSON. Send a chat completions request object.", {},
              "invalid_json"),
        "invalid_json");
  }
  translate::TranslateOptions options;
  options.models = &config_.models;
  options.drop_params = config_.translation.drop_params;
  options.default_max_tokens = config_.translation.default_max_tokens;
  options.anthropic_version = config_.upstream.anthropic_version;
  auto translated = translate::ToAnthropic(json, options);
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "invalid_request");
  }
  ctx.model = translated->requested_model;
  for (const auto& warning : translated->warnings) {
    spdlog::debug("request {}: {}", ctx.request_id, warning);
  }

  const bool upstream_streams = translated->body.value("stream", false);
  upstream::UpstreamRequest request;
  request.target = "/v1/messages";
  request.body = translated->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", upstream_streams ? "text/event-stream" : "application/json");
  request.headers.emplace_back("anthropic-version", config_.upstream.anthropic_version);
  auto answer = co_await upstream::SendAuthorized(call_, std::move(request), {}, translated->betas);
  if (!answer) {
    ctx.usage.upstream_error = TransportErrorLabel(answer.error());
    co_return co_await middleware::LocalReply(ctx, answer.error(), "upstream_unavailable");
  }
  ctx.usage.upstream_seconds = answer->upstream_seconds;
  if (answer->response.status() != 200) {
    co_return co_await RelayUpstreamError(ctx, *answer, config_.upstream);
  }
  if (translated->stream) {
    co_return co_await RelayStream(ctx, answer->response, *translated, config_.upstream,
                                   call_.metrics);
  }
  if (upstream_streams) {
    co_return co_await RelayAccumulated(ctx, answer->response, *translated, config_.upstream);
  }
  co_return co_await RelayJson(ctx, answer->response, *translated, config_.upstream);
}

}  // namespace claudegate::routes
