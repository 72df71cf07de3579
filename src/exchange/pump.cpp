#include "claudegate/exchange/pump.hpp"

#include <algorithm>
#include <optional>

#include "claudegate/sse/encoder.hpp"

namespace claudegate::exchange {
namespace {

using std::chrono::milliseconds;

// Reads allowed after the consumer is done, for what follows its last event (normally only the
// chunked terminator), so the connection can go back to the pool. A body still going after that
// is cut: the connection is closed instead.
constexpr int kDrainReads = 4;

// The head goes out just before the first byte for the client (see pump.hpp).
class ClientStream {
 public:
  ClientStream(server::ResponseSink& sink, const StreamHead& head) : sink_(sink), head_(head) {}

  // False when the client is gone.
  Awaitable<bool> Write(std::string_view bytes) {
    if (!head_written_) {
      head_written_ = true;
      if (co_await sink_.WriteHead(head_.status, head_.content_type, head_.headers)) {
        co_return false;
      }
    }
    if (bytes.empty()) {
      co_return true;
    }
    const error_code ec = co_await sink_.WriteChunk(bytes);
    co_return !ec;
  }

  Awaitable<void> Finish() {
    // A named empty view: GCC 12 miscompiles a braced `{}` argument inside a co_await
    // (docs/architecture.md, "GCC 12 coroutine pitfalls"; it trapped here).
    const std::string_view nothing;
    const bool open = co_await Write(nothing);
    if (open) {
      co_await sink_.Finish();
    }
  }

 private:
  server::ResponseSink& sink_;
  const StreamHead& head_;
  bool head_written_ = false;
};

// True when the bytes decoded so far may end inside an event: a failed decoder no longer knows.
bool MidEvent(const sse::Decoder& decoder) {
  return decoder.failed() || decoder.has_partial_event();
}

bool HeartbeatFits(Heartbeats heartbeats, const sse::Decoder& decoder) {
  switch (heartbeats) {
    case Heartbeats::kNone:
      return false;
    case Heartbeats::kBetweenFrames:
      return true;
    case Heartbeats::kBetweenUpstreamEvents:
      return !MidEvent(decoder);
  }
  return false;
}

Awaitable<void> Drain(BodySource& body, milliseconds timeout) {
  for (int reads = 0; reads < kDrainReads; ++reads) {
    auto rest = co_await body.Read(timeout);
    if (!rest || rest->status != upstream::BodyRead::Status::kData) {
      co_return;
    }
  }
}

}  // namespace

PumpLimits PumpLimits::From(const config::Upstream& config) {
  PumpLimits limits;
  limits.idle_budget = config.stream_idle_timeout;
  limits.heartbeat_interval = config.heartbeat_interval;
  limits.max_event_bytes = config.max_sse_event_bytes;
  limits.max_response_bytes = config.max_response_bytes;
  return limits;
}

Error SilenceError() {
  return Error(ErrorKind::kUpstreamTimeout, "The Claude API stream went silent; giving up.", {},
               "timeout");
}

Error ResponseTooLarge(std::size_t limit) {
  return Error(ErrorKind::kUpstreamUnreachable,
               "The Claude API answer is larger than upstream.max_response_bytes (" +
                   std::to_string(limit) + " bytes); ask for fewer tokens or stream it.",
               {}, "upstream_response_too_large");
}

Awaitable<PumpEnd> Pump(BodySource& body, const PumpLimits& limits, Consumer& consumer,
                        server::RequestContext& ctx, const StreamHead* head) {
  using Status = upstream::BodyRead::Status;
  const bool streams = head != nullptr;
  std::optional<ClientStream> client;
  if (streams) {
    client.emplace(ctx.sink, *head);
  }
  const Heartbeats heartbeats = streams ? consumer.heartbeats() : Heartbeats::kNone;
  // Config values are positive (config/yaml_reader.cpp); the floor only keeps a zero from spinning.
  const milliseconds budget = std::max(limits.idle_budget, milliseconds(1));
  const milliseconds beat = std::max(limits.heartbeat_interval, milliseconds(1));
  sse::Decoder decoder(limits.max_event_bytes);
  std::string out;
  out.reserve(4096);
  milliseconds silence{0};
  std::size_t received = 0;
  PumpEnd end = PumpEnd::kUpstreamEnded;
  for (;;) {
    // One budget for the whole silence, whichever consumer reads: a read waits a heartbeat
    // interval at most when a heartbeat may follow, else all that is left of the budget.
    const milliseconds wait =
        heartbeats == Heartbeats::kNone ? budget - silence : std::min(beat, budget - silence);
    auto read = co_await body.Read(wait);
    std::optional<PumpEnd> stop;
    std::string_view relayed;
    if (!read) {
      consumer.OnFailure(Failure::kBroken, read.error(), MidEvent(decoder), out);
      stop = PumpEnd::kFailed;
    } else if (read->status == Status::kIdle) {
      silence += wait;
      if (silence < budget) {
        if (HeartbeatFits(heartbeats, decoder)) {
          const bool written = co_await client->Write(sse::kKeepAlive);
          if (!written) {
            end = PumpEnd::kClientGone;
            break;
          }
        }
        continue;
      }
      consumer.OnFailure(Failure::kIdle, SilenceError(), MidEvent(decoder), out);
      stop = PumpEnd::kFailed;
    } else if (read->status == Status::kEnd) {
      consumer.OnEnd(out);
      stop = PumpEnd::kUpstreamEnded;
    } else {
      silence = milliseconds(0);
      received += read->data.size();
      if (consumer.holds_answer() && received > limits.max_response_bytes) {
        consumer.OnFailure(Failure::kTooLarge, ResponseTooLarge(limits.max_response_bytes),
                           MidEvent(decoder), out);
        stop = PumpEnd::kFailed;
      } else if (!decoder.failed()) {
        auto fed = decoder.Feed(read->data, [&](const sse::Event& event) {
          if (streams && !ctx.usage.ttft_seconds && event.event == "content_block_delta") {
            ctx.usage.ttft_seconds = ctx.ElapsedSeconds();
          }
          consumer.OnEvent(event, out);
        });
        if (!fed && consumer.decoding() == Decoding::kRequired) {
          consumer.OnFailure(Failure::kUndecodable, fed.error(), true, out);
          stop = PumpEnd::kFailed;
        }
      }
      if (!stop && consumer.relays_bytes()) {
        relayed = read->data;
      }
    }
    // (No co_await inside && or ?: here: GCC 12 miscompiles some; docs/architecture.md.)
    bool client_gone = false;
    if (streams && !relayed.empty()) {
      client_gone = !co_await client->Write(relayed);
    }
    if (streams && !client_gone && !out.empty()) {
      client_gone = !co_await client->Write(out);
    }
    if (client_gone) {
      end = PumpEnd::kClientGone;
      break;
    }
    out.clear();
    if (stop) {
      end = *stop;
      break;
    }
    if (consumer.done()) {
      co_await Drain(body, beat);
      end = PumpEnd::kConsumerDone;
      break;
    }
  }
  if (client && end != PumpEnd::kClientGone) {
    co_await client->Finish();
  }
  co_return end;
}

}  // namespace claudegate::exchange
