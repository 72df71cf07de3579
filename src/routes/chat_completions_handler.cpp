#include "claudegate/routes/chat_completions_handler.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "claudegate/routes/request_accounting.hpp"
#include "claudegate/routes/translated_relay.hpp"
#include "claudegate/translate/chat_request.hpp"
#include "claudegate/translate/chat_response.hpp"
#include "claudegate/translate/json_depth.hpp"
#include "claudegate/translate/stream_translator.hpp"

namespace claudegate::routes {
namespace {

using middleware::Outcome;
using middleware::RequestContext;

// The Anthropic error types the chat stream translator reports for gateway-detected failures.
constexpr AbortTypes kChatAbortTypes{"timeout_error", "api_error"};

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Awaitable<Outcome> ReplyTranslated(RequestContext& ctx, const nlohmann::json& message,
                                   const translate::AnthropicRequest& request,
                                   const upstream::UpstreamResponse& response) {
  auto translated = translate::ToOpenAi(message, request.requested_model, UnixNow());
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "upstream_unparseable");
  }
  RecordUsage(ctx, translated->usage);
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  std::string body = translated->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  co_return co_await middleware::JsonReply(ctx, 200, std::move(body), headers);
}

// An upstream that answered JSON (not asked to stream): only when the translator is configured
// not to stream upstream.
Awaitable<Outcome> RelayJson(RequestContext& ctx, upstream::UpstreamResponse& response,
                             const translate::AnthropicRequest& request,
                             const config::Upstream& config) {
  auto body = co_await response.ReadAll(config.max_response_bytes, config.stream_idle_timeout);
  if (!body) {
    co_return co_await middleware::LocalReply(ctx, body.error(), "upstream_failed");
  }
  auto message = nlohmann::json::parse(*body, nullptr, false);
  if (message.is_discarded()) {
    const Error invalid(ErrorKind::kUpstreamUnreachable, "The Claude API sent invalid JSON.", {},
                        "bad_upstream_response");
    co_return co_await middleware::LocalReply(ctx, invalid, "upstream_unparseable");
  }
  co_return co_await ReplyTranslated(ctx, message, request, response);
}

}  // namespace

Awaitable<Outcome> ChatCompletionsHandler::Handle(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  // Before any DOM is built: a deep body costs seconds and a GiB to parse (docs/security.md).
  if (translate::JsonTextExceedsDepth(ctx.request.body())) {
    co_return co_await middleware::LocalReply(ctx, translate::JsonTooDeep("The request body"),
                                              "json_too_deep");
  }
  const auto json = nlohmann::json::parse(ctx.request.body(), nullptr, false);
  if (json.is_discarded()) {
    const Error invalid(ErrorKind::kInvalidRequest,
                        "The request body is not valid JSON. Send a chat completions request "
                        "object.",
                        {}, "invalid_json");
    co_return co_await middleware::LocalReply(ctx, invalid, "invalid_json");
  }
  translate::TranslateOptions options;
  options.models = &config_.models;
  options.drop_params = config_.translation.drop_params;
  options.default_max_tokens = config_.translation.default_max_tokens;
  options.anthropic_version = config_.upstream.anthropic_version;
  options.caching = &config_.prompt_caching;
  auto translated = translate::ToAnthropic(json, options);
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "invalid_request");
  }
  ctx.model = translated->requested_model;
  for (const auto& warning : translated->warnings) {
    spdlog::debug("request {}: {}", ctx.request_id, warning);
  }
  if (translated->cache_breakpoints_added > 0) {
    spdlog::debug("request {}: added {} cache breakpoint(s) (docs/prompt-caching.md)",
                  ctx.request_id, translated->cache_breakpoints_added);
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
    co_return co_await RelayOpenAiUpstreamError(ctx, *answer, config_.upstream);
  }
  if (translated->stream) {
    translate::StreamOptions stream_options;
    stream_options.model = translated->requested_model;
    stream_options.created = UnixNow();
    stream_options.include_usage = translated->include_usage;
    translate::StreamTranslator translator(stream_options);
    co_return co_await RelayTranslatedStream(ctx, answer->response, translator, config_.upstream,
                                             call_.metrics, kChatAbortTypes);
  }
  if (!upstream_streams) {
    co_return co_await RelayJson(ctx, answer->response, *translated, config_.upstream);
  }
  auto accumulated = co_await AccumulateUpstreamMessage(ctx, answer->response, config_.upstream);
  if (accumulated.replied) {
    co_return *accumulated.replied;
  }
  co_return co_await ReplyTranslated(ctx, *accumulated.message, *translated, answer->response);
}

}  // namespace claudegate::routes
