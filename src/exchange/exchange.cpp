#include "claudegate/exchange/exchange.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <random>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "claudegate/anthropic/refusal.hpp"
#include "claudegate/exchange/accounting.hpp"
#include "claudegate/exchange/details.hpp"
#include "claudegate/exchange/useful_headers.hpp"
#include "claudegate/translate/response/upstream_error.hpp"

namespace claudegate::exchange {
namespace {

// An error body is a short JSON object; a bigger one is not worth holding.
constexpr std::size_t kMaxErrorBody = 1024U * 1024U;

// What one attempt may read: the read-ahead only when a retry or fallback could follow, for at
// most a heartbeat interval (no heartbeat goes out meanwhile); error bodies as the reply reads
// them (RelayAsSent: max_response_bytes, RelayOpenAiError: kMaxErrorBody).
AttemptLimits LimitsFor(const config::Retries& settings, const config::Upstream& upstream,
                        ApiFlavor flavor, bool may_retry) {
  AttemptLimits limits;
  limits.read_ahead_bytes = may_retry ? settings.read_ahead_bytes : 0;
  limits.read_ahead_time = std::min(upstream.heartbeat_interval, upstream.stream_idle_timeout);
  limits.max_event_bytes = upstream.max_sse_event_bytes;
  limits.max_error_body =
      flavor == ApiFlavor::kAnthropic ? upstream.max_response_bytes : kMaxErrorBody;
  return limits;
}

// The settings of an exchange made without retries.
const config::Retries& OneAttempt() {
  static const config::Retries one = [] {
    config::Retries settings;
    settings.num_retries = 0;
    return settings;
  }();
  return one;
}

// The random part of a backoff, in [0, 1).
double Jitter() {
  thread_local std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

Awaitable<bool> ClientGone() {
  const net::cancellation_state state = co_await net::this_coro::cancellation_state;
  co_return state.cancelled() != net::cancellation_type::none;
}

// Logged with the request id, never a credential; counted by what failed (bounded labels).
void LogRetry(const server::RequestContext& ctx, metrics::GatewayMetrics* metrics, unsigned attempt,
              FailureKind kind, std::chrono::milliseconds delay) {
  spdlog::info("request {}: upstream attempt {} failed ({}); retrying in {} ms", ctx.request_id,
               attempt, FailureLabel(kind), delay.count());
  if (metrics != nullptr) {
    metrics->upstream_retries.Add({std::string(FailureLabel(kind))});
  }
}

void LogFallback(const server::RequestContext& ctx, metrics::GatewayMetrics* metrics,
                 FailureKind kind, GiveUp why, std::string_view to) {
  spdlog::warn("request {}: model failed ({}, {}); falling back to {}", ctx.request_id,
               FailureLabel(kind), GiveUpLabel(why), to);
  if (metrics != nullptr) {
    metrics->model_fallbacks.Add({std::string(FailureLabel(kind))});
  }
}

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
                                 const std::vector<std::string>& request_betas,
                                 const ModelFallback* fallback) {
  const config::Retries& settings = retries_ != nullptr ? *retries_ : OneAttempt();
  const bool may_retry =
      settings.num_retries > 0 || (fallback != nullptr && !fallback->models.empty());
  const AttemptLimits limits = LimitsFor(settings, call_.config, ctx_.flavor, may_retry);
  const auto started = std::chrono::steady_clock::now();
  Opened opened;
  unsigned retries = 0;                                   // of the model being tried
  bool sent_again = false;                                // any retry or fallback
  const std::vector<FallbackModel>* fallbacks = nullptr;  // the list being followed
  std::size_t next_fallback = 0;
  for (unsigned attempt_number = 1;; ++attempt_number) {
    auto attempt = co_await SendAttempt(call_, request, client_betas, request_betas, limits);
    // No co_await inside || (docs/architecture.md, "GCC 12 coroutine pitfalls").
    const bool client_gone = co_await ClientGone();
    if (!attempt.failure || client_gone) {
      if (attempt.answer) {
        NoteAnswer(*attempt.answer);
      }
      if (attempt.answer && attempt.answer->response.status() == 200) {
        opened.answer.emplace(std::move(*attempt.answer));
        co_return opened;
      }
      opened.replied = co_await ReplyFailure(attempt);
      co_return opened;
    }
    const FailureKind kind = *attempt.failure;
    const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    const RetryDecision decision =
        DecideRetry(settings, kind, retries, elapsed, attempt.hints, Jitter());
    if (decision.retry()) {
      LogRetry(ctx_, call_.metrics, attempt_number, kind, decision.delay);
      if (!co_await Wait(decision.delay)) {
        opened.replied = server::Outcome{ctx_.sink.status(), ctx_.sink.bytes_written()};
        co_return opened;
      }
      ++retries;
      sent_again = true;
      ++ctx_.usage.retries;
      continue;
    }
    const auto* list = fallback != nullptr ? FallbackListFor(fallback->models, kind) : nullptr;
    if (list != nullptr && fallbacks == nullptr) {
      // The first failure that falls back picks the list; a fallback that fails moves along it.
      fallbacks = list;
    }
    if (list != nullptr && next_fallback < fallbacks->size()) {
      const FallbackModel& model = (*fallbacks)[next_fallback++];
      LogFallback(ctx_, call_.metrics, kind, decision.give_up, model.name);
      request.body = fallback->render(model.upstream_id);
      opened.fallback_model = model.name;
      ctx_.usage.fallback_model = model.upstream_id;
      retries = 0;
      sent_again = true;
      ++ctx_.usage.retries;
      continue;
    }
    if (attempt.answer) {
      NoteAnswer(*attempt.answer);
    }
    if (sent_again) {
      // The SDKs honour it (openai-node, anthropic-sdk-typescript: `shouldRetry`), so that their
      // retries do not multiply ours (docs/architecture.md, "The exchange and the pump"). The
      // sink sets headers by name, so a reply that adds it too sends one line.
      ctx_.sink.AddHeader("x-should-retry", "false");
    }
    if (attempt.answer && attempt.answer->response.status() == 200) {
      // A 200 stream that failed before content: relayed as it came (its error event, or the
      // cut), as before retries existed.
      opened.answer.emplace(std::move(*attempt.answer));
      co_return opened;
    }
    opened.replied = co_await ReplyFailure(attempt);
    co_return opened;
  }
}

void Exchange::NoteAnswer(const upstream::AuthorizedResponse& answer) {
  ctx_.usage.upstream_seconds = answer.upstream_seconds;
  // Anthropic's id for the call (https://docs.anthropic.com/en/api/errors#request-id), for the
  // usage ledger; bounded, as it is stored.
  constexpr std::size_t kMaxRequestId = 128;
  ctx_.usage.upstream_request_id =
      std::string(answer.response.header("request-id").substr(0, kMaxRequestId));
}

Awaitable<server::Outcome> Exchange::ReplyFailure(Attempt& attempt) {
  if (!attempt.answer) {
    ctx_.usage.upstream_error = TransportErrorLabel(*attempt.error);
    co_return co_await server::LocalReply(ctx_, *attempt.error,
                                          std::string(details::kUpstreamUnavailable));
  }
  auto& answer = *attempt.answer;
  if (ctx_.flavor != ApiFlavor::kAnthropic) {
    co_return co_await RelayOpenAiError(ctx_, answer, call_.config);
  }
  if (attempt.error) {
    // The error body could not be read (RelayAsSent's own answer to that).
    ctx_.usage.upstream_error = TransportErrorLabel(*attempt.error);
    co_return co_await server::LocalReply(ctx_, *attempt.error,
                                          std::string(details::kUpstreamFailed));
  }
  co_return co_await RelayAsSent(ctx_, answer, call_.config);
}

Awaitable<bool> Exchange::Wait(std::chrono::milliseconds delay) {
  Timer timer(co_await net::this_coro::executor);
  timer.expires_after(delay);
  // The request's cancellation (a client disconnect) ends the wait early.
  const auto [ec] = co_await timer.async_wait();
  const bool client_gone = co_await ClientGone();
  co_return !ec && !client_gone;
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

Awaitable<server::Outcome> RelayAsSent(server::RequestContext& ctx,
                                       upstream::AuthorizedResponse& answer,
                                       const config::Upstream& config) {
  const unsigned status = answer.response.status();
  auto read = co_await ReadBody(answer, config.max_response_bytes, config);
  if (!read) {
    ctx.usage.upstream_error = TransportErrorLabel(read.error());
    co_return co_await server::LocalReply(ctx, read.error(), std::string(details::kUpstreamFailed));
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
      co_return co_await server::LocalReply(ctx, invalid,
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
  co_return server::Outcome{ctx.sink.status(), ctx.sink.bytes_written()};
}

Awaitable<server::Outcome> RelayOpenAiError(server::RequestContext& ctx,
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
  co_return co_await server::JsonReply(ctx, mapped.status, mapped.openai_body, headers);
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
