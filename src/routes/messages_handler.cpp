#include "claudegate/routes/messages_handler.hpp"

#include <array>

#include "claudegate/anthropic/body_fields.hpp"
#include "claudegate/routes/upstream_errors.hpp"

namespace claudegate::routes {
namespace {

using middleware::Outcome;
using middleware::RequestContext;

constexpr std::size_t kMaxJsonResponse = 64U * 1024U * 1024U;
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

// Streams an SSE response through as it arrives, one client chunk per upstream read.
Awaitable<Outcome> RelayStream(RequestContext& ctx, upstream::UpstreamResponse& response,
                               const config::Upstream& config) {
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
      // Too late for a status: report in the stream's own grammar, as Anthropic does.
      ctx.details = "stream_error";
      const Error failure(ErrorKind::kUpstreamUnreachable, piece.error().message);
      const std::string event = "event: error\ndata: " + AnthropicErrorBody(failure) + "\n\n";
      co_await ctx.sink.WriteChunk(event);
      break;
    }
    if (piece->empty()) {
      break;
    }
    if (co_await ctx.sink.WriteChunk(*piece)) {
      co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};  // client gone
    }
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
    auto read = co_await answer.response.ReadAll(kMaxJsonResponse, config.stream_idle_timeout);
    if (!read) {
      co_return co_await middleware::LocalReply(ctx, read.error(), "upstream_failed");
    }
    body = std::move(*read);
  }
  if (answer.response.status() >= 400) {
    ctx.details = "upstream_" + std::to_string(answer.response.status());
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
  // The path as the client sent it, query string included (Claude Code sends ?beta=true).
  request.target = std::string(ctx.request.target());
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
  auto answer = co_await upstream::SendAuthorized(call_, std::move(request),
                                                  ctx.request["anthropic-beta"], {});
  if (!answer) {
    co_return co_await middleware::LocalReply(ctx, answer.error(), "upstream_unavailable");
  }
  const bool is_stream = answer->response.status() == 200 &&
                         answer->response.header("content-type").starts_with("text/event-stream");
  if (is_stream) {
    co_return co_await RelayStream(ctx, answer->response, config_.upstream);
  }
  co_return co_await RelayWhole(ctx, *answer, config_.upstream);
}

}  // namespace claudegate::routes
