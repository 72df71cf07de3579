#include "claudegate/routes/responses_handler.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/exchange.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/routes/openai_request.hpp"
#include "claudegate/routes/translated_relay.hpp"
#include "claudegate/translate/request/responses_request.hpp"
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

// The error types the Responses stream translator reports for gateway-detected failures.
constexpr AbortTypes kResponsesAbortTypes{"timeout", "server_error"};

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

translate::ResponseMeta MakeMeta(const translate::ResponsesRequest& request,
                                 const std::string& model) {
  translate::ResponseMeta meta;
  meta.model = model;
  meta.created_at = UnixNow();
  meta.echo = request.echo;
  return meta;
}

// A non-streaming client served from a streamed upstream call (docs/architecture.md: always
// stream upstream).
Awaitable<Outcome> RelayAccumulated(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                                    const translate::ResponseMeta& meta,
                                    const config::Upstream& config) {
  const upstream::UpstreamResponse& response = answer.response;
  auto accumulated = co_await AccumulateUpstreamMessage(ctx, answer, config);
  if (accumulated.replied) {
    co_return *accumulated.replied;
  }
  if (const auto usage = accumulated.message->find("usage");
      usage != accumulated.message->end() && usage->is_object()) {
    translate::Usage tokens;
    translate::UpdateUsage(tokens, *usage);
    exchange::RecordUsage(ctx, tokens);
  }
  auto translated = translate::ToResponse(*accumulated.message, meta);
  if (!translated) {
    co_return co_await server::LocalReply(ctx, translated.error(),
                                          std::string(details::kUpstreamUnparseable));
  }
  server::HeaderList headers = exchange::UsefulUpstreamHeaders(response.headers());
  std::string body = translated->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  co_return co_await server::JsonReply(ctx, 200, std::move(body), headers);
}

}  // namespace

Awaitable<Outcome> ResponsesHandler::Create(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  // Parse.
  const auto parsed = ParseJsonBody(ctx.request.body(), "a Responses request object");
  if (parsed.error) {
    co_return co_await server::LocalReply(ctx, *parsed.error, std::string(parsed.details));
  }
  // Translate.
  auto options = TranslateOptionsFor(config_);
  options.always_stream_upstream = true;  // RelayAccumulated serves non-streaming clients.
  auto translated = translate::ResponsesToAnthropic(parsed.json, options);
  if (!translated) {
    co_return co_await server::LocalReply(ctx, translated.error(),
                                          std::string(details::kInvalidRequest));
  }
  ctx.model = translated->anthropic.requested_model;
  LogTranslationNotes(ctx, translated->anthropic.warnings,
                      translated->anthropic.cache_breakpoints_added);

  // Exchange.
  exchange::Exchange call(ctx, call_, &config_.retries);
  const auto fallback =
      JsonModelFallback(config_, translated->anthropic.requested_model, translated->anthropic.body);
  auto request = exchange::MessagesCall(
      translated->anthropic.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      true, config_.upstream.anthropic_version);
  const std::string_view no_client_betas;  // named: see the GCC 12 note in docs/architecture.md
  auto opened = co_await call.Open(std::move(request), no_client_betas, translated->anthropic.betas,
                                   &fallback);
  if (!opened.answer) {
    co_return opened.replied;
  }
  auto& answer = *opened.answer;
  const translate::ResponseMeta meta = MakeMeta(
      *translated, AnsweringModel(opened.fallback_model, translated->anthropic.requested_model));

  // Pump.
  if (translated->anthropic.stream) {
    translate::ResponsesStreamTranslator translator(meta);
    co_return co_await RelayTranslatedStream(ctx, answer, translator, config_.upstream,
                                             call_.metrics, kResponsesAbortTypes);
  }
  co_return co_await RelayAccumulated(ctx, answer, meta, config_.upstream);
}

Awaitable<Outcome> ResponsesHandler::Retrieve(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kOpenAi;
  const Error error(ErrorKind::kNotFound,
                    "claudegate keeps no conversation state: responses are never stored, so they "
                    "cannot be retrieved. Keep the output you need on the client and send the "
                    "whole conversation in `input`.",
                    {}, "response_not_stored");
  co_return co_await server::LocalReply(ctx, error, std::string(details::kResponseNotStored));
}

}  // namespace claudegate::routes
