// The pump at the filter level: a scripted upstream body (data, silences, end, breaks), a
// consumer that records what it is told, and a RecordingResponseSink for the client. Silences are
// scripted, not waited for: the pump counts each one as the time the read was allowed to wait,
// so the idle-budget arithmetic is checked exactly and the tests never sleep.
#include "claudegate/exchange/pump.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/recording_response_sink.hpp"

namespace claudegate::exchange {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using testing::RecordingResponseSink;

// One scripted outcome of `Read`.
struct Step {
  enum class Kind { kData, kIdle, kEnd, kBroken } kind;
  std::string data;
};
Step Data(std::string bytes) { return {Step::Kind::kData, std::move(bytes)}; }
Step Idle() { return {Step::Kind::kIdle, {}}; }
Step End() { return {Step::Kind::kEnd, {}}; }
Step Broken() { return {Step::Kind::kBroken, {}}; }

std::string Event(std::string_view name, std::string_view data = "{}") {
  return "event: " + std::string(name) + "\ndata: " + std::string(data) + "\n\n";
}

class ScriptedBody final : public BodySource {
 public:
  explicit ScriptedBody(std::vector<Step> script) : script_(script.begin(), script.end()) {}

  Awaitable<Result<upstream::BodyRead>> Read(milliseconds timeout) override {
    waits_.push_back(timeout);
    if (on_read) {
      on_read();
    }
    const std::string_view end;  // named, not braced: GCC 12 (docs/architecture.md)
    if (script_.empty()) {
      ADD_FAILURE() << "read past the end of the script";
      co_return upstream::BodyRead(end);
    }
    Step step = std::move(script_.front());
    script_.pop_front();
    switch (step.kind) {
      case Step::Kind::kData:
        current_ = std::move(step.data);
        co_return upstream::BodyRead(current_);
      case Step::Kind::kIdle:
        co_return upstream::BodyRead::Idle();
      case Step::Kind::kEnd:
        co_return upstream::BodyRead(end);
      case Step::Kind::kBroken:
        break;
    }
    co_return Error(ErrorKind::kUpstreamUnreachable, "The Claude API connection failed: reset.");
  }

  [[nodiscard]] const std::vector<milliseconds>& waits() const { return waits_; }
  [[nodiscard]] std::size_t unread() const { return script_.size(); }
  std::function<void()> on_read;

 private:
  std::deque<Step> script_;
  std::string current_;
  std::vector<milliseconds> waits_;
};

// Writes `[name]` for each event, `[end]` at the end and `[failed]` on a failure.
class RecordingConsumer final : public Consumer {
 public:
  Heartbeats beats = Heartbeats::kBetweenFrames;
  Decoding needs = Decoding::kRequired;
  bool holds = false;
  bool relays = false;
  std::size_t done_after_events = 0;  // 0: never done

  [[nodiscard]] Heartbeats heartbeats() const override { return beats; }
  [[nodiscard]] Decoding decoding() const override { return needs; }
  [[nodiscard]] bool holds_answer() const override { return holds; }
  [[nodiscard]] bool relays_bytes() const override { return relays; }
  [[nodiscard]] bool done() const override {
    return done_after_events > 0 && events.size() >= done_after_events;
  }
  void OnEvent(const sse::Event& event, std::string& out) override {
    events.push_back(event.event);
    if (!relays && !holds) {
      out += "[" + event.event + "]";
    }
  }
  void OnEnd(std::string& out) override {
    ended = true;
    if (!holds && !relays) {
      out += "[end]";
    }
  }
  void OnFailure(Failure kind, const Error& error, bool cut, std::string& out) override {
    failure = kind;
    failure_error = error;
    mid_event = cut;
    if (!holds) {
      out += "[failed]";
    }
  }

  std::vector<std::string> events;
  bool ended = false;
  std::optional<Failure> failure;
  Error failure_error;
  bool mid_event = false;
};

struct Harness {
  http::request<http::string_body> request;
  RecordingResponseSink sink;
  server::RequestContext ctx{request, sink, "127.0.0.1:1"};
  PumpLimits limits;
  StreamHead head{200, "text/event-stream", {{"x-test", "1"}}};

  Harness() {
    limits.idle_budget = 250ms;
    limits.heartbeat_interval = 100ms;
  }

  PumpEnd Run(ScriptedBody& body, Consumer& consumer, bool streams = true) {
    net::io_context io;
    auto result = net::co_spawn(io, Pump(body, limits, consumer, ctx, streams ? &head : nullptr),
                                net::use_future);
    io.run();
    return result.get();
  }
};

TEST(Pump, HeartbeatsDuringASilenceThenGivesUpWhenTheIdleBudgetIsSpent) {
  Harness h;
  ScriptedBody body({Data(Event("message_start")), Idle(), Idle(), Idle()});
  RecordingConsumer consumer;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kFailed);
  // Each read waits a heartbeat interval at most, the last only what is left of the budget.
  EXPECT_EQ(body.waits(), (std::vector<milliseconds>{100ms, 100ms, 100ms, 50ms}));
  ASSERT_TRUE(consumer.failure);
  EXPECT_EQ(*consumer.failure, Failure::kIdle);
  EXPECT_EQ(consumer.failure_error.kind, ErrorKind::kUpstreamTimeout);
  EXPECT_EQ(h.sink.body(), "[message_start]: keep-alive\n\n: keep-alive\n\n[failed]");
  EXPECT_EQ(h.sink.status(), 200U);
  EXPECT_TRUE(h.sink.finished());
}

TEST(Pump, BytesRefillTheIdleBudget) {
  Harness h;
  ScriptedBody body(
      {Data(Event("message_start")), Idle(), Idle(), Data(Event("ping")), Idle(), Idle(), End()});
  RecordingConsumer consumer;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kUpstreamEnded);
  EXPECT_FALSE(consumer.failure);
  EXPECT_TRUE(consumer.ended);
  EXPECT_EQ(h.sink.body(),
            "[message_start]: keep-alive\n\n: keep-alive\n\n[ping]: keep-alive\n\n: "
            "keep-alive\n\n[end]");
}

TEST(Pump, AnAnswerForANonStreamingClientGetsNoHeartbeatAndWaitsTheWholeBudget) {
  Harness h;
  ScriptedBody body({Data(Event("message_start")), Idle()});
  RecordingConsumer consumer;
  consumer.holds = true;
  EXPECT_EQ(h.Run(body, consumer, false), PumpEnd::kFailed);
  EXPECT_EQ(body.waits(), (std::vector<milliseconds>{250ms, 250ms}));
  EXPECT_FALSE(h.sink.head_written());
  EXPECT_TRUE(h.sink.chunks().empty());
}

TEST(Pump, TimeToFirstTokenIsTheFirstContentDeltaAClientSeesLive) {
  {
    Harness h;
    ScriptedBody body({Data(Event("message_start") + Event("content_block_start")), End()});
    RecordingConsumer consumer;
    h.Run(body, consumer);
    EXPECT_FALSE(h.ctx.usage.ttft_seconds) << "no content yet";
  }
  {
    Harness h;
    ScriptedBody body({Data(Event("message_start")), Data(Event("content_block_delta")), End()});
    RecordingConsumer consumer;
    h.Run(body, consumer);
    EXPECT_TRUE(h.ctx.usage.ttft_seconds);
  }
  {
    // A client waiting for the whole answer sees no token early: no TTFT (docs/metrics.md).
    Harness h;
    ScriptedBody body({Data(Event("message_start")), Data(Event("content_block_delta")), End()});
    RecordingConsumer consumer;
    consumer.holds = true;
    h.Run(body, consumer, false);
    EXPECT_FALSE(h.ctx.usage.ttft_seconds);
  }
}

TEST(Pump, AnAnswerHeldWholeStopsAtMaxResponseBytes) {
  Harness h;
  h.limits.max_response_bytes = 100;
  const std::string event = Event("content_block_delta", std::string(40, 'x'));
  ASSERT_EQ(event.size(), 75U);  // one fits under the bound, two do not
  ScriptedBody body({Data(event), Data(event), Data(event)});
  RecordingConsumer consumer;
  consumer.holds = true;
  EXPECT_EQ(h.Run(body, consumer, false), PumpEnd::kFailed);
  ASSERT_TRUE(consumer.failure);
  EXPECT_EQ(*consumer.failure, Failure::kTooLarge);
  EXPECT_NE(consumer.failure_error.message.find("max_response_bytes"), std::string::npos);
  EXPECT_EQ(consumer.events.size(), 1U) << "the piece over the bound was not decoded";
  EXPECT_EQ(body.unread(), 1U) << "reading stopped at the bound";
}

TEST(Pump, AStreamIsNotBoundedByMaxResponseBytes) {
  Harness h;
  h.limits.max_response_bytes = 100;
  const std::string event = Event("content_block_delta", std::string(40, 'x'));
  ScriptedBody body({Data(event), Data(event), Data(event), End()});
  RecordingConsumer consumer;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kUpstreamEnded);
  EXPECT_EQ(consumer.events.size(), 3U);
}

TEST(Pump, ABrokenStreamSaysWhetherItCutAnEvent) {
  {
    Harness h;
    ScriptedBody body({Data("event: message_start\ndata: {\"type\""), Broken()});
    RecordingConsumer consumer;
    EXPECT_EQ(h.Run(body, consumer), PumpEnd::kFailed);
    ASSERT_TRUE(consumer.failure);
    EXPECT_EQ(*consumer.failure, Failure::kBroken);
    EXPECT_EQ(consumer.failure_error.kind, ErrorKind::kUpstreamUnreachable);
    EXPECT_TRUE(consumer.mid_event);
    EXPECT_EQ(h.sink.body(), "[failed]");
  }
  {
    Harness h;
    ScriptedBody body({Data(Event("message_start")), Broken()});
    RecordingConsumer consumer;
    EXPECT_EQ(h.Run(body, consumer), PumpEnd::kFailed);
    EXPECT_FALSE(consumer.mid_event);
  }
}

TEST(Pump, AGoneClientStopsTheReadingAndTheResponseIsNotFinished) {
  Harness h;
  h.sink.SimulateClientGone(2);  // the head and one chunk reach the client
  ScriptedBody body({Data(Event("a")), Data(Event("b")), Data(Event("c")), End()});
  RecordingConsumer consumer;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kClientGone);
  EXPECT_EQ(h.sink.body(), "[a]");
  EXPECT_EQ(body.unread(), 2U) << "nothing more is read for a client that is gone";
  EXPECT_FALSE(h.sink.finished());
}

TEST(Pump, AClientGoneDuringASilenceIsNoticedAtTheHeartbeat) {
  Harness h;
  h.sink.SimulateClientGone(2);  // the head and one chunk reach the client
  ScriptedBody body({Data(Event("a")), Idle(), Data(Event("b")), End()});
  RecordingConsumer consumer;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kClientGone);
  EXPECT_EQ(body.unread(), 2U);
}

// The seam for retries (issue #16): until the consumer has something for the client, nothing —
// not even the head — has been written, so the exchange could still send again.
TEST(Pump, NothingReachesTheClientBeforeTheConsumersFirstOutput) {
  Harness h;
  ScriptedBody body({Data(": a comment\n\n"), Data(Event("message_start")), End()});
  std::vector<bool> head_written_at_read;
  body.on_read = [&] { head_written_at_read.push_back(h.sink.head_written()); };
  RecordingConsumer consumer;
  h.Run(body, consumer);
  EXPECT_EQ(head_written_at_read, (std::vector<bool>{false, false, true}));
  ASSERT_TRUE(h.sink.head());
  EXPECT_EQ(h.sink.head()->content_type, "text/event-stream");
  EXPECT_EQ(h.sink.head()->headers, h.head.headers);
}

TEST(Pump, AStreamWithNoOutputStillGetsItsHeadAndEnd) {
  Harness h;
  ScriptedBody body({End()});
  RecordingConsumer consumer;
  consumer.relays = true;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kUpstreamEnded);
  EXPECT_EQ(h.sink.status(), 200U);
  EXPECT_TRUE(h.sink.chunks().empty());
  EXPECT_TRUE(h.sink.finished());
}

// The passthrough: bytes exactly as read; a heartbeat only where the relayed bytes end between
// two events, since a comment line inside an event would corrupt it.
TEST(Pump, APassthroughRelaysTheBytesAndHeartbeatsOnlyBetweenEvents) {
  Harness h;
  const std::string first = Event("message_start") + "event: ping\nda";
  const std::string second = "ta: {}\n\n";
  ScriptedBody body({Data(first), Idle(), Data(second), Idle(), End()});
  RecordingConsumer consumer;
  consumer.relays = true;
  consumer.beats = Heartbeats::kBetweenUpstreamEvents;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kUpstreamEnded);
  EXPECT_EQ(h.sink.body(), first + second + ": keep-alive\n\n");
  EXPECT_EQ(consumer.events, (std::vector<std::string>{"message_start", "ping"}));
}

TEST(Pump, AnEventTooLargeToDecodeFailsATranslationButNotAPassthrough) {
  const std::string huge = Event("content_block_delta", std::string(64, 'x'));
  {
    Harness h;
    h.limits.max_event_bytes = 32;
    ScriptedBody body({Data(huge), Data(Event("message_stop"))});
    RecordingConsumer consumer;
    EXPECT_EQ(h.Run(body, consumer), PumpEnd::kFailed);
    ASSERT_TRUE(consumer.failure);
    EXPECT_EQ(*consumer.failure, Failure::kUndecodable);
  }
  {
    Harness h;
    h.limits.max_event_bytes = 32;
    ScriptedBody body({Data(huge), Idle(), Data(Event("message_stop")), End()});
    RecordingConsumer consumer;
    consumer.relays = true;
    consumer.needs = Decoding::kObserveOnly;
    consumer.beats = Heartbeats::kBetweenUpstreamEvents;
    EXPECT_EQ(h.Run(body, consumer), PumpEnd::kUpstreamEnded);
    EXPECT_FALSE(consumer.failure);
    // Relayed as sent; no heartbeat, since event boundaries can no longer be followed.
    EXPECT_EQ(h.sink.body(), huge + Event("message_stop"));
    EXPECT_TRUE(consumer.events.empty());
  }
}

TEST(Pump, WhatFollowsTheConsumersLastEventIsDrainedForThePool) {
  Harness h;
  ScriptedBody body({Data(Event("message_stop")), Data("\n"), End(), Data("never read")});
  RecordingConsumer consumer;
  consumer.done_after_events = 1;
  EXPECT_EQ(h.Run(body, consumer), PumpEnd::kConsumerDone);
  EXPECT_EQ(body.unread(), 1U);
  EXPECT_FALSE(consumer.ended);
}

}  // namespace
}  // namespace claudegate::exchange
