#include "claudegate/routes/chat_completions_handler.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/exchange.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/routes/openai_request.hpp"
#include "claudegate/routes/translated_relay.hpp"
#include "claudegate/translate/request/chat_request.hpp"
#include "claudegate/translate/response/chat_response.hpp"
#include "claudegate/translate/stream/stream_translator.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

// The Anthropic error types the chat stream translator reports for gateway-detected failures.
constexpr AbortTypes kChatAbortTypes{"timeout_error", "api_error"};

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Awaitable<Outcome> ReplyTranslated(RequestContext& ctx, const nlohmann::json& message,
                                   const std::string& model,
                                   const upstream::UpstreamResponse& response) {
  auto translated = translate::ToOpenAi(message, model, UnixNow());
  if (!translated) {
    co_return co_await server::LocalReply(ctx, translated.error(),
                                          std::string(details::kUpstreamUnparseable));
  }
  exchange::RecordUsage(ctx, translated->usage);
  server::HeaderList headers = exchange::UsefulUpstreamHeaders(response.headers());
  std::string body =
      translated->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  co_return co_await server::JsonReply(ctx, 200, std::move(body), headers);
}

// An upstream that answered JSON (not asked to stream): only when the translator is configured
// not to stream upstream.
Awaitable<Outcome> RelayJson(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                             const std::string& model, const config::Upstream& config) {
  auto body = co_await exchange::ReadBody(answer, config.max_response_bytes, config);
  if (!body) {
    co_return co_await server::LocalReply(ctx, body.error(), std::string(details::kUpstreamFailed));
  }
  auto message = nlohmann::json::parse(*body, nullptr, false);
  if (message.is_discarded()) {
    const Error invalid(ErrorKind::kUpstreamUnreachable, "The Claude API sent invalid JSON.", {},
                        "bad_upstream_response");
    co_return co_await server::LocalReply(ctx, invalid, std::string(details::kUpstreamUnparseable));
  }
  co_return co_await ReplyTranslated(ctx, message, model, answer.response);
}

}  // namespace

Awaitable<Outcome> ChatCompletionsHandler::Handle(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  // Parse.
  const auto parsed = ParseJsonBody(ctx.request.body(), "a chat completions request object");
  if (parsed.error) {
    co_return co_await server::LocalReply(ctx, *parsed.error, std::string(parsed.details));
  }
  // Translate.
  auto translated = translate::ToAnthropic(parsed.json, TranslateOptionsFor(config_));
  if (!translated) {
    co_return co_await server::LocalReply(ctx, translated.error(),
                                          std::string(details::kInvalidRequest));
  }
  ctx.model = translated->requested_model;
  LogTranslationNotes(ctx, translated->warnings, translated->cache_breakpoints_added);

  // Exchange.
  const bool upstream_streams = translated->body.value("stream", false);
  exchange::Exchange call(ctx, call_, &config_.retries);
  const auto fallback = JsonModelFallback(config_, translated->requested_model, translated->body);
  auto request = exchange::MessagesCall(
      translated->body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      upstream_streams, config_.upstream.anthropic_version);
  const std::string_view no_client_betas;  // named: see the GCC 12 note in docs/architecture.md
  auto opened =
      co_await call.Open(std::move(request), no_client_betas, translated->betas, &fallback);
  if (!opened.answer) {
    co_return opened.replied;
  }
  auto& answer = *opened.answer;
  const std::string& model = AnsweringModel(opened.fallback_model, translated->requested_model);

  // Pump.
  if (translated->stream) {
    translate::StreamOptions stream_options;
    stream_options.model = model;
    stream_options.created = UnixNow();
    stream_options.include_usage = translated->include_usage;
    translate::StreamTranslator translator(stream_options);
    co_return co_await RelayTranslatedStream(ctx, answer, translator, config_.upstream,
                                             call_.metrics, kChatAbortTypes);
  }
  if (!upstream_streams) {
    co_return co_await RelayJson(ctx, answer, model, config_.upstream);
  }
  auto accumulated = co_await AccumulateUpstreamMessage(ctx, answer, config_.upstream);
  if (accumulated.replied) {
    co_return *accumulated.replied;
  }
  co_return co_await ReplyTranslated(ctx, *accumulated.message, model, answer.response);
}

}  // namespace claudegate::routes
