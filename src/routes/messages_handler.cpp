#include "claudegate/routes/messages_handler.hpp"

#include <algorithm>
#include <array>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/body_fields.hpp"
#include "claudegate/anthropic/usage_watcher.hpp"
#include "claudegate/routes/request_accounting.hpp"
#include "claudegate/routes/upstream_errors.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/cache_breakpoints.hpp"
#include "claudegate/translate/json_depth.hpp"

namespace claudegate::routes {
namespace {

using middleware::Outcome;
using middleware::RequestContext;

// Anthropic requires the header; clients that omit it get the version every SDK line accepts.
constexpr std::string_view kDefaultAnthropicVersion = "2023-06-01";

// Client headers that may reach Anthropic. Everything else — the master key, cookies, hop-by-hop
// headers, client fingerprints — stays here. anthropic-beta is merged separately.
constexpr std::array<std::string_view, 2> kForwardedClientHeaders = {"accept", "content-type"};

server::HeaderList ForwardedHeaders(const server::Request& request) {
  server::HeaderList headers;
  for (const auto name : kForwardedClientHeaders) {
    if (auto value = request[name]; !value.empty()) {
      headers.emplace_back(std::string(name), std::string(value));
    }
  }
  const std::string_view version = request["anthropic-version"];
  headers.emplace_back("anthropic-version",
                       std::string(version.empty() ? kDefaultAnthropicVersion : version));
  return headers;
}

// Opt-in automatic prompt caching on the Anthropic route (docs/prompt-caching.md). Claude Code
// and the Anthropic SDKs place their own breakpoints, which are left alone; a body that is not a
// JSON object, or nests too deep to re-serialise safely, goes through unchanged.
void AddCacheBreakpoints(std::string& body, const config::PromptCaching& caching,
                         std::string_view model) {
  auto json = nlohmann::json::parse(body, nullptr, false);
  if (!json.is_object() || translate::ExceedsJsonDepth(json)) {
    return;
  }
  if (translate::PlaceCacheBreakpoints(json, caching, model).outcome ==
      translate::CacheMarking::kPlaced) {
    body = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

// Query parameters that may reach Anthropic, as exact `name=value` pairs: Anthropic's SDKs send
// `?beta=true` on beta calls. Everything else — a key pasted into a URL (`?key=sk-…`), tracking
// ids — stays here, like the headers above.
constexpr std::array<std::string_view, 2> kForwardedQueryParameters = {"beta=true", "beta=false"};

// The client's target with its query string reduced to the allowed parameters, in their order.
std::string UpstreamTarget(std::string_view client_target) {
  const auto question = client_target.find('?');
  std::string target(client_target.substr(0, question));
  if (question == std::string_view::npos) {
    return target;
  }
  std::string_view query = client_target.substr(question + 1);
  char separator = '?';
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view parameter = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (std::find(kForwardedQueryParameters.begin(), kForwardedQueryParameters.end(),
                  parameter) != kForwardedQueryParameters.end()) {
      target += separator;
      target += parameter;
      separator = '&';
    }
  }
  return target;
}

// Streams an SSE response through as it arrives, one client chunk per upstream read.
Awaitable<Outcome> RelayStream(RequestContext& ctx, upstream::UpstreamResponse& response,
                               const config::Upstream& config, metrics::GatewayMetrics* metrics) {
  const OpenStream open_stream(metrics);
  ctx.usage.stream = true;
  sse::Decoder decoder(config.max_sse_event_bytes);
  anthropic::UsageWatcher watcher;
  server::HeaderList headers = UsefulUpstreamHeaders(response.headers());
  headers.emplace_back("cache-control", "no-cache");
  headers.emplace_back("x-accel-buffering", "no");
  const std::string content_type(response.header("content-type"));
  if (co_await ctx.sink.WriteHead(response.status(), content_type, headers)) {
    co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
  }
  for (;;) {
    auto piece = co_await response.Read(config.stream_idle_timeout);
    if (!piece) {
      // Too late for a status: report in the stream's own grammar, as Anthropic does. The kind is
      // kept so that a silent upstream reads as timeout_error, as the non-stream 504 does.
      ctx.details = "stream_error";
      const std::string event =
          "event: error\ndata: " + AnthropicErrorBody(piece.error()) + "\n\n";
      co_await ctx.sink.WriteChunk(event);
      break;
    }
    if (piece->empty()) {
      break;
    }
    if (!ctx.usage.ttft_seconds && piece->find("content_block_delta") != std::string_view::npos) {
      ctx.usage.ttft_seconds = ctx.ElapsedSeconds();
    }
    auto fed = decoder.Feed(*piece, [&](const sse::Event& event) { watcher.OnEvent(event); });
    (void)fed;  // an oversized event is the client's to judge; accounting just stops
    if (co_await ctx.sink.WriteChunk(*piece)) {
      break;  // client gone
    }
  }
  if (watcher.saw_usage()) {
    RecordUsage(ctx, watcher.usage());
  }
  if (!watcher.error_type().empty()) {
    ctx.usage.upstream_error = watcher.error_type();
  }
  co_await ctx.sink.Finish();
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

Awaitable<Outcome> RelayWhole(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                              const config::Upstream& config) {
  std::string body;
  if (answer.error_body) {
    body = std::move(*answer.error_body);
  } else {
    auto read =
        co_await answer.response.ReadAll(config.max_response_bytes, config.stream_idle_timeout);
    if (!read) {
      co_return co_await middleware::LocalReply(ctx, read.error(), "upstream_failed");
    }
    body = std::move(*read);
  }
  if (answer.response.status() >= 400) {
    ctx.details = "upstream_" + std::to_string(answer.response.status());
    ctx.usage.upstream_error = AnthropicErrorTypeOf(answer.response.status(), body);
  } else {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() && answer.response.status() / 100 == 2) {
      // A success that is not JSON (a cut or garbled body) must not reach the client as a 200.
      const Error invalid(ErrorKind::kUpstreamUnreachable, "The Claude API sent invalid JSON.", {},
                          "bad_upstream_response");
      ctx.usage.upstream_error = TransportErrorLabel(invalid);
      co_return co_await middleware::LocalReply(ctx, invalid, "upstream_unparseable");
    }
    if (json.is_object() && json.contains("usage") && json["usage"].is_object()) {
      translate::Usage usage;
      translate::UpdateUsage(usage, json["usage"]);
      RecordUsage(ctx, usage);
    }
  }
  const server::HeaderList headers = UsefulUpstreamHeaders(answer.response.headers());
  std::string content_type(answer.response.header("content-type"));
  co_await ctx.sink.Send(answer.response.status(), content_type, std::move(body), headers);
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

}  // namespace

Awaitable<Outcome> MessagesHandler::Handle(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kAnthropic;
  const std::string& body = ctx.request.body();
  auto fields = anthropic::ScanBodyFields(body);
  if (!fields) {
    co_return co_await middleware::LocalReply(ctx, fields.error(), "invalid_json");
  }
  upstream::UpstreamRequest request;
  // The path as the client sent it, with only the allowed query parameters (Claude Code sends
  // ?beta=true).
  request.target = UpstreamTarget(ctx.request.target());
  request.headers = ForwardedHeaders(ctx.request);
  if (fields->model) {
    ctx.model = *fields->model;
    auto resolved = config_.models.Resolve(*fields->model);
    if (!resolved) {
      co_return co_await middleware::LocalReply(
          ctx,
          Error(ErrorKind::kModelNotFound,
                "model: '" + *fields->model +
                    "' is not a Claude model id or a configured alias (GET /v1/models lists them)",
                "model", "model_not_found"),
          "model_not_found");
    }
    request.body = *resolved == *fields->model ? body : ReplaceModel(body, *fields, *resolved);
  } else {
    request.body = body;  // Anthropic will explain what is missing.
  }
  if (config_.prompt_caching.messages_route) {
    AddCacheBreakpoints(request.body, config_.prompt_caching, fields->model.value_or(""));
  }
  auto answer = co_await upstream::SendAuthorized(call_, std::move(request),
                                                  ctx.request["anthropic-beta"], {});
  if (!answer) {
    ctx.usage.upstream_error = TransportErrorLabel(answer.error());
    co_return co_await middleware::LocalReply(ctx, answer.error(), "upstream_unavailable");
  }
  ctx.usage.upstream_seconds = answer->upstream_seconds;
  const bool is_stream = answer->response.status() == 200 &&
                         answer->response.header("content-type").starts_with("text/event-stream");
  if (is_stream) {
    co_return co_await RelayStream(ctx, answer->response, config_.upstream, call_.metrics);
  }
  co_return co_await RelayWhole(ctx, *answer, config_.upstream);
}

}  // namespace claudegate::routes
