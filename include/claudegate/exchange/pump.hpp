/// @file pump.hpp
/// The one loop that reads an upstream answer's body: every route's stream, and every streamed
/// answer assembled for a non-streaming client, goes through `Pump`.
///
/// The pump reads, keeps one idle budget, sends heartbeats, measures the time to first token,
/// bounds answers held whole, decodes the event stream (`sse::Decoder`) and hands each event to a
/// `Consumer`: the translating stream relays (chat, Responses), the accumulator for non-streaming
/// clients, or the raw passthrough of `/v1/messages`. Whatever the consumer writes to `out` goes to
/// the client after that read, one client write per upstream read, so a slow client slows the
/// upstream read (backpressure). The rules it applies for every consumer, and why, are in
/// docs/architecture.md ("The exchange and the pump"):
///
/// - **Idle budget.** `limits.idle_budget` (`upstream.stream_idle_timeout`) is the longest silence
///   allowed between two upstream reads that carried bytes. Reads wait at most the heartbeat
///   interval or what is left of the budget; a silence is counted in the time each read waited.
/// - **Heartbeats.** During a silence the client of a stream gets the SSE comment
///   `: keep-alive` every `limits.heartbeat_interval`, so proxies in front keep the stream open.
///   On the passthrough only where the relayed bytes end between two events (a comment inside an
///   event would corrupt it), and never once its events can no longer be followed.
/// - **TTFT.** The first decoded `content_block_delta` of a stream the client sees live.
/// - **Size.** `limits.max_response_bytes` bounds only consumers that hold the whole answer.
/// - **Nothing before the first byte.** The head (`StreamHead`) is written just before the first
///   byte for the client, not when the upstream answered: until then a retry (issue #16) stays
///   invisible to the client.
///
/// Runs on the request's strand; a client disconnect cancels the pending read.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "claudegate/config/config.hpp"
#include "claudegate/error.hpp"
#include "claudegate/net.hpp"
#include "claudegate/server/request_context.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace claudegate::exchange {

/// Where the pump reads from: an upstream response (`UpstreamBody`), or a script in tests.
class BodySource {
 public:
  virtual ~BodySource() = default;
  /// As `upstream::UpstreamResponse::Read`.
  virtual Awaitable<Result<upstream::BodyRead>> Read(std::chrono::milliseconds timeout) = 0;
};

/// `BodySource` over an upstream response, which must outlive it. `read_ahead` is what the
/// exchange already read of the body (exchange.hpp: the first events of a stream, looked at
/// before deciding on a retry); it comes first, unchanged, then the response is read on.
class UpstreamBody final : public BodySource {
 public:
  explicit UpstreamBody(upstream::UpstreamResponse& response, std::string read_ahead = {})
      : response_(response), read_ahead_(std::move(read_ahead)) {}
  Awaitable<Result<upstream::BodyRead>> Read(std::chrono::milliseconds timeout) override {
    if (!read_ahead_.empty() && !replayed_) {
      replayed_ = true;
      return Replay(read_ahead_);
    }
    return response_.Read(timeout);
  }

 private:
  static Awaitable<Result<upstream::BodyRead>> Replay(std::string_view bytes) {
    co_return upstream::BodyRead(bytes);
  }

  upstream::UpstreamResponse& response_;
  std::string read_ahead_;
  bool replayed_ = false;
};

/// The bounds one pump applies (docs/configuration.md names the settings).
struct PumpLimits {
  std::chrono::milliseconds idle_budget{300'000};        ///< `upstream.stream_idle_timeout`.
  std::chrono::milliseconds heartbeat_interval{15'000};  ///< `upstream.heartbeat_interval`.
  std::size_t max_event_bytes = sse::Decoder::kDefaultMaxEventBytes;
  std::size_t max_response_bytes = 64U * 1024U * 1024U;  ///< For consumers that hold the answer.

  [[nodiscard]] static PumpLimits From(const config::Upstream& config);
};

/// When a consumer's client may get a heartbeat comment during a silence.
enum class Heartbeats {
  kNone,                  ///< Never: nothing reaches the client until the answer is complete.
  kBetweenFrames,         ///< Any time: the consumer only ever writes whole SSE frames.
  kBetweenUpstreamEvents  ///< Only where the upstream bytes relayed so far end between events.
};

/// What the consumer needs the decoded events for.
enum class Decoding {
  kRequired,    ///< The answer is built from them: an undecodable stream is a failure.
  kObserveOnly  ///< Only watched (accounting): when decoding fails the bytes keep flowing.
};

/// Why the pump gave up on the upstream answer.
enum class Failure {
  kIdle,         ///< Silent for the whole idle budget.
  kBroken,       ///< The connection broke or the body was malformed.
  kTooLarge,     ///< Over `max_response_bytes` (consumers that hold the answer only).
  kUndecodable,  ///< An event over `max_event_bytes` (consumers with `Decoding::kRequired`).
};

/// How a pump ended.
enum class PumpEnd {
  kConsumerDone,   ///< The consumer had what it needed (the rest of the body was drained).
  kUpstreamEnded,  ///< The upstream body ended.
  kFailed,         ///< A `Failure`; the consumer was told.
  kClientGone,     ///< A write to the client failed; the upstream connection is to be closed.
};

/// One reader of the pumped answer. Outputs go to `out`, which the pump writes to the client.
class Consumer {
 public:
  virtual ~Consumer() = default;

  [[nodiscard]] virtual Heartbeats heartbeats() const = 0;
  [[nodiscard]] virtual Decoding decoding() const { return Decoding::kRequired; }
  /// True when the consumer keeps the whole answer in memory: `max_response_bytes` applies.
  [[nodiscard]] virtual bool holds_answer() const { return false; }
  /// True when the client gets the upstream bytes exactly as read (the passthrough): the pump
  /// writes each read's bytes, then the consumer's own output, if any.
  [[nodiscard]] virtual bool relays_bytes() const { return false; }
  /// True once the consumer needs nothing more (e.g. a translator wrote its last frame).
  [[nodiscard]] virtual bool done() const = 0;

  /// One decoded event, in order.
  virtual void OnEvent(const sse::Event& event, std::string& out) = 0;
  /// The upstream body ended.
  virtual void OnEnd(std::string& out) = 0;
  /// The pump gave up: `error` is what the client should be told. `mid_event` is true when the
  /// bytes read so far may end inside an event (a relayed stream then needs a blank line before
  /// an event of its own).
  virtual void OnFailure(Failure failure, const Error& error, bool mid_event, std::string& out) = 0;
};

/// The head of a streamed answer.
struct StreamHead {
  unsigned status = 200;
  std::string content_type;
  server::HeaderList headers;
};

/// Reads `body` until it ends, the consumer is done, a failure, or the client is gone, feeding
/// `consumer`. With a `head`, the consumer's output streams to `ctx.sink`: the head goes out before
/// the first byte (or at the end if there was none), and the response is finished unless the
/// client is gone. Without one (an answer for a non-streaming client) the consumer must write
/// nothing to `out`; it answers the client itself afterwards.
Awaitable<PumpEnd> Pump(BodySource& body, const PumpLimits& limits, Consumer& consumer,
                        server::RequestContext& ctx, const StreamHead* head);

/// The error the client is told when the upstream went silent for the whole idle budget.
[[nodiscard]] Error SilenceError();
/// The 502 for an answer over `max_response_bytes` held for a non-streaming client.
[[nodiscard]] Error ResponseTooLarge(std::size_t limit);

}  // namespace claudegate::exchange
