#include "claudegate/routes/messages_handler.hpp"

#include <algorithm>
#include <array>
#include <iterator>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/body_fields.hpp"
#include "claudegate/anthropic/usage_watcher.hpp"
#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/exchange.hpp"
#include "claudegate/exchange/pump.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/request/cache_breakpoints.hpp"
#include "claudegate/translate/request/json_depth.hpp"

namespace claudegate::routes {
namespace {

using server::Outcome;
using server::RequestContext;

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

// Every `anthropic-beta` line the client sent, joined with commas. A client may send the header
// more than once (RFC 9110 §5.3 makes repeated lines equal to one comma-joined line); reading only
// the first would silently drop betas, e.g. Claude Code's, that change what Anthropic accepts.
// `joined` holds the text only when there are several lines; one line (the usual case) is viewed
// in place, without a copy.
std::string_view ClientBetas(const server::Request& request, std::string& joined) {
  auto [line, end] = request.equal_range("anthropic-beta");
  if (line == end) {
    return {};
  }
  if (std::next(line) == end) {
    return line->value();
  }
  for (; line != end; ++line) {
    if (!joined.empty()) {
      joined += ',';
    }
    joined += line->value();
  }
  return joined;
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
    if (std::find(kForwardedQueryParameters.begin(), kForwardedQueryParameters.end(), parameter) !=
        kForwardedQueryParameters.end()) {
      target += separator;
      target += parameter;
      separator = '&';
    }
  }
  return target;
}

// The raw passthrough: the client gets the upstream bytes exactly as read while the watcher
// follows the decoded events for usage. The pump may add heartbeat comments between events
// (exchange/pump.hpp; legal SSE, skipped by Anthropic's SDKs: docs/architecture.md).
class PassthroughConsumer final : public exchange::Consumer {
 public:
  explicit PassthroughConsumer(anthropic::UsageWatcher& watcher) : watcher_(watcher) {}

  [[nodiscard]] exchange::Heartbeats heartbeats() const override {
    return exchange::Heartbeats::kBetweenUpstreamEvents;
  }
  // An event the decoder cannot hold is the client's to judge; only the accounting stops.
  [[nodiscard]] exchange::Decoding decoding() const override {
    return exchange::Decoding::kObserveOnly;
  }
  [[nodiscard]] bool relays_bytes() const override { return true; }
  // Relayed to the end of the body, whatever the events say.
  [[nodiscard]] bool done() const override { return false; }
  void OnEvent(const sse::Event& event, std::string& /*out*/) override {
    label_.OnEvent(event);
    watcher_.OnEvent(event);
  }
  void OnEnd(std::string& /*out*/) override {}
  void OnFailure(exchange::Failure /*failure*/, const Error& error, bool mid_event,
                 std::string& out) override {
    label_.OnFailure(error);
    // Too late for a status: report in the stream's own grammar, as Anthropic does. The kind is
    // kept so that a silent upstream reads as timeout_error, as the non-stream 504 does. When the
    // failure may have cut an event, a blank line ends it first, so that the error is an event of
    // its own rather than lines glued onto the half event (which the client then rejects as the
    // cut event it is); where no event was open the blank line dispatches nothing
    // (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation).
    if (mid_event) {
      out += "\n\n";
    }
    out += "event: error\ndata: ";
    out += AnthropicErrorBody(error);
    out += "\n\n";
  }

  [[nodiscard]] const exchange::StreamErrorLabel& label() const { return label_; }

 private:
  anthropic::UsageWatcher& watcher_;
  exchange::StreamErrorLabel label_;
};

Awaitable<Outcome> RelayStream(RequestContext& ctx, upstream::AuthorizedResponse& answer,
                               const config::Upstream& config, metrics::GatewayMetrics* metrics) {
  upstream::UpstreamResponse& response = answer.response;
  const exchange::OpenStream open_stream(metrics);
  ctx.usage.stream = true;
  anthropic::UsageWatcher watcher;
  PassthroughConsumer consumer(watcher);
  exchange::StreamHead head;
  head.status = response.status();
  head.content_type = std::string(response.header("content-type"));
  head.headers = exchange::StreamHeaders(response.headers());
  exchange::UpstreamBody body(response, std::move(answer.read_ahead));
  co_await exchange::Pump(body, exchange::PumpLimits::From(config), consumer, ctx, &head);
  if (watcher.saw_usage()) {
    exchange::RecordUsage(ctx, watcher.usage());
  }
  consumer.label().Record(ctx, false);
  co_return Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

}  // namespace

Awaitable<Outcome> MessagesHandler::Handle(RequestContext& ctx) const {
  ctx.flavor = ApiFlavor::kAnthropic;
  const std::string& body = ctx.request.body();
  auto fields = anthropic::ScanBodyFields(body);
  if (!fields) {
    co_return co_await server::LocalReply(ctx, fields.error(), std::string(details::kInvalidJson));
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
      co_return co_await server::LocalReply(
          ctx,
          Error(ErrorKind::kModelNotFound,
                "model: '" + *fields->model +
                    "' is not a Claude model id or a configured alias (GET /v1/models lists them)",
                "model", "model_not_found"),
          std::string(details::kModelNotFound));
    }
    request.body = *resolved == *fields->model ? body : ReplaceModel(body, *fields, *resolved);
  } else {
    request.body = body;  // Anthropic will explain what is missing.
  }
  if (config_.prompt_caching.messages_route) {
    AddCacheBreakpoints(request.body, config_.prompt_caching, fields->model.value_or(""));
  }
  // Fallbacks (docs/configuration.md): the client's body with only the model replaced; the
  // answer's own `model` field tells the client which one answered.
  exchange::ModelFallback fallback;
  if (fields->model) {
    fallback.models = exchange::FallbacksFor(config_.retries, config_.models, *fields->model);
    fallback.render = [this, &body, &fields](const std::string& upstream_id) {
      std::string rendered = ReplaceModel(body, *fields, upstream_id);
      if (config_.prompt_caching.messages_route) {
        AddCacheBreakpoints(rendered, config_.prompt_caching, upstream_id);
      }
      return rendered;
    };
  }
  exchange::Exchange call(ctx, call_, &config_.retries);
  const std::vector<std::string> no_request_betas;  // named: the GCC 12 note in architecture.md
  std::string joined_betas;
  const std::string_view client_betas = ClientBetas(ctx.request, joined_betas);
  auto opened = co_await call.Open(std::move(request), client_betas, no_request_betas, &fallback);
  if (!opened.answer) {
    co_return opened.replied;  // no answer, or not a 200: relayed as Anthropic sent it
  }
  auto& answer = *opened.answer;
  if (answer.response.header("content-type").starts_with("text/event-stream")) {
    co_return co_await RelayStream(ctx, answer, config_.upstream, call_.metrics);
  }
  co_return co_await exchange::RelayAsSent(ctx, answer, config_.upstream);
}

}  // namespace claudegate::routes
