#include "claudegate/routes/responses_handler.hpp"

#include <spdlog/spdlog.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "claudegate/routes/translated_relay.hpp"
#include "claudegate/routes/upstream_errors.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/json_depth.hpp"
#include "claudegate/translate/message_accumulator.hpp"
#include "claudegate/translate/responses_output.hpp"
#include "claudegate/translate/responses_request.hpp"
#include "claudegate/translate/responses_stream.hpp"
#include "claudegate/translate/upstream_error.hpp"

namespace claudegate::routes {
namespace {

using middleware::Outcome;
using middleware::RequestContext;

// The error types the Responses stream translator reports for gateway-detected failures.
constexpr AbortTypes kResponsesAbortTypes{"timeout", "server_error"};

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

translate::ResponseMeta MakeMeta(const translate::ResponsesRequest& request) {
  translate::ResponseMeta meta;
  meta.model = request.anthropic.requested_model;
  meta.created_at = UnixNow();
  meta.echo = request.echo;
  return meta;
}

// A non-streaming client served from a streamed upstream call (reference §3.4).
Awaitable<Outcome> RelayAccumulated(RequestContext& ctx, upstream::UpstreamResponse& response,
                                    const translate::ResponsesRequest& request,
                                    const config::Upstream& config) {
  auto accumulated = co_await AccumulateUpstreamMessage(ctx, response, config);
  if (accumulated.replied) {
    co_return *accumulated.replied;
  }
  if (const auto usage = accumulated.message->find("usage");
      usage != accumulated.message->end() && usage->is_object()) {
    translate::Usage tokens;
    translate::UpdateUsage(tokens, *usage);
    RecordUsage(ctx, tokens);
  }
  auto translated = translate::ToResponse(*accumulated.message, MakeMeta(request));
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
  // Before any DOM is built: a deep body costs seconds and a GiB to parse (docs/security.md).
  if (translate::JsonTextExceedsDepth(ctx.request.body())) {
    co_return co_await middleware::LocalReply(ctx, translate::JsonTooDeep("The request body"),
                                              "json_too_deep");
  }
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
  options.caching = &config_.prompt_caching;
  options.always_stream_upstream = true;  // RelayAccumulated serves non-streaming clients.
  auto translated = translate::ResponsesToAnthropic(json, options);
  if (!translated) {
    co_return co_await middleware::LocalReply(ctx, translated.error(), "invalid_request");
  }
  ctx.model = translated->anthropic.requested_model;
  for (const auto& warning : translated->anthropic.warnings) {
    spdlog::debug("request {}: {}", ctx.request_id, warning);
  }
  if (translated->anthropic.cache_breakpoints_added > 0) {
    spdlog::debug("request {}: added {} cache breakpoint(s) (docs/prompt-caching.md)",
                  ctx.request_id, translated->anthropic.cache_breakpoints_added);
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
    ctx.usage.upstream_error = TransportErrorLabel(answer.error());
    co_return co_await middleware::LocalReply(ctx, answer.error(), "upstream_unavailable");
  }
  ctx.usage.upstream_seconds = answer->upstream_seconds;
  if (answer->response.status() != 200) {
    co_return co_await RelayOpenAiUpstreamError(ctx, *answer, config_.upstream);
  }
  if (translated->anthropic.stream) {
    translate::ResponsesStreamTranslator translator(MakeMeta(*translated));
    co_return co_await RelayTranslatedStream(ctx, answer->response, translator, config_.upstream,
                                             call_.metrics, kResponsesAbortTypes);
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
