#include "claudegate/routes/responses_handler.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "claudegate/routes/upstream_errors.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/message_accumulator.hpp"
#include "claudegate/translate/responses_output.hpp"
#include "claudegate/translate/responses_request.hpp"
#include "claudegate/translate/responses_stream.hpp"
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

// The helpers below mirror chat_completions_handler.cpp (same upstream contract); they are small
// and local there, so they are repeated rather than moved while that file is being edited.
std::optional<unsigned> RetryAfterSeconds(std::string_view value) {
  unsigned seconds = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || ptr != value.data() + value.size()) {
    return std::nullopt;
  }
  return seconds;
}

// Reads what is left after the last event so the connection can return to the pool.
Awaitable<void> DrainBody(upstream::UpstreamResponse& response, const config::Upstream& config) {
  for (int reads = 0; reads < 4; ++reads) {
    auto rest = co_await response.Read(config.heartbeat_interval);
    if (!rest || rest->empty()) {
      co_return;
    }
  }
}

Awaitable<Outcome> RelayUpstreamError(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                                      const config::Upstream& config) {
  std::string body;
  if (answer.error_body) {
    body = std::move(*answer.error_body);
  } else if (auto read =
                 co_await answer.response.ReadAll(kMaxErrorBody, config.first_byte_timeout)) {
    body = std::move(*read);
  }
  const auto retry_after = RetryAfterSeconds(answer.response.header("retry-after"));
  const auto mapped = translate::MapUpstreamError(answer.response.status(), body, retry_after);
  server::HeaderList headers = UsefulUpstreamHeaders(answer.response.headers());
  if (mapped.should_retry_false) {
    headers.emplace_back("x-should-retry", "false");
  }
  ctx.details = "upstream_" + std::to_string(answer.response.status());
  co_return co_await middleware::JsonReply(ctx, mapped.status, mapped.openai_body, headers);
}

translate::ResponseMeta MakeMeta(const translate::ResponsesRequest& request) {
  translate::ResponseMeta meta;
  meta.model = request.anthropic.requested_model;
  meta.created_at = UnixNow();
  meta.echo = request.echo;
  return meta;
}

// Relays the upstream SSE stream as Responses events, one client write per upstream read.
Awaitable<Outcome> RelayStream(RequestContext& ctx, upstream::UpstreamResponse& response,
                               const translate::ResponsesRequest& request,
                               const config::Upstream& config) {
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  headers.emplace_back("cache-control", "no-cache");
  headers.emplace_back("x-accel-buffering", "no");
  if (auto ec = co_await ctx.sink.WriteHead(200, "text/event-stream; charset=utf-8", headers); ec) {
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  translate::ResponsesStreamTranslator translator(MakeMeta(request));
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
      translator.Abort("timeout", "The Claude API stream went silent; giving up.", out);
    } else if (!piece) {
      translator.Abort("server_error", piece.error().message, out);
    } else if (piece->empty()) {
      translator.OnUpstreamEnd(out);
    } else {
      silence = std::chrono::milliseconds::zero();
      auto fed =
          decoder.Feed(*piece, [&](const sse::Event& event) { translator.OnEvent(event, out); });
      if (!fed) {
        translator.Abort("server_error", fed.error().message, out);
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
  }
  co_await ctx.sink.Finish();
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

// A non-streaming client served from a streamed upstream call (reference §3.4).
Awaitable<Outcome> RelayAccumulated(RequestContext& ctx, upstream::UpstreamResponse& response,
                                    const translate::ResponsesRequest& request,
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
    co_return co_await middleware::JsonReply(ctx, error.status, error.openai_body);
  }
  if (failure) {
    co_return co_await middleware::LocalReply(ctx, *failure, "upstream_failed");
  }
  auto message = accumulator.TakeMessage();
  if (!message) {
    co_return co_await middleware::LocalReply(ctx, message.error(), "upstream_incomplete");
  }
  auto translated = translate::ToResponse(*message, MakeMeta(request));
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "upstream_unparseable");
  }
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  std::string body = translated->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  co_return co_await middleware::JsonReply(ctx, 200, std::move(body), headers);
}

}  // namespace

Awaitable<Outcome> ResponsesHandler::Create(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const auto json = nlohmann::json::parse(ctx.request.body(), nullptr, false);
  if (json.is_discarded()) {
    co_return co_await middleware::LocalReply(
        ctx,
        Error(ErrorKind::kInvalidRequest,
              "The request body is not valid JSON. Send a Responses request object.", {},
              "invalid_json"),
        "invalid_json");
  }
  translate::TranslateOptions options;
  options.models = &config_.models;
  options.drop_params = config_.translation.drop_params;
  options.default_max_tokens = config_.translation.default_max_tokens;
  options.anthropic_version = config_.upstream.anthropic_version;
  options.always_stream_upstream = true;  // RelayAccumulated serves non-streaming clients.
  auto translated = translate::ResponsesToAnthropic(json, options);
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "invalid_request");
  }
  ctx.model = translated->anthropic.requested_model;
  for (const auto& warning : translated->anthropic.warnings) {
    spdlog::debug("request {}: {}", ctx.request_id, warning);
  }

  upstream::UpstreamRequest request;
  request.target = "/v1/messages";
  request.body =
      translated->anthropic.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  request.headers.emplace_back("content-type", "application/json");
  request.headers.emplace_back("accept", "text/event-stream");
  request.headers.emplace_back("anthropic-version", config_.upstream.anthropic_version);
  auto answer =
      co_await upstream::SendAuthorized(call_, std::move(request), {}, translated->anthropic.betas);
  if (!answer) {
    co_return co_await middleware::LocalReply(ctx, answer.error(), "upstream_unavailable");
  }
  if (answer->response.status() != 200) {
    co_return co_await RelayUpstreamError(ctx, *answer, config_.upstream);
  }
  if (translated->anthropic.stream) {
    co_return co_await RelayStream(ctx, answer->response, *translated, config_.upstream);
  }
  co_return co_await RelayAccumulated(ctx, answer->response, *translated, config_.upstream);
}

Awaitable<Outcome> ResponsesHandler::Retrieve(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const Error error(ErrorKind::kNotFound,
                    "claudegate keeps no conversation state: responses are never stored, so they "
                    "cannot be retrieved. Keep the output you need on the client and send the "
                    "whole conversation in `input`.",
                    {}, "response_not_stored");
  co_return co_await middleware::LocalReply(ctx, error, "response_not_stored");
}

}  // namespace claudegate::routes
