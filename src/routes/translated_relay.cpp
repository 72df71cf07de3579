#include "claudegate/routes/translated_relay.hpp"

#include "claudegate/exchange/details.hpp"
#include "claudegate/translate/response/message_accumulator.hpp"

namespace claudegate::routes {
namespace {

// Assembles the message; nothing reaches the client until the answer is complete, so it takes
// no heartbeats and the size bound applies.
class AccumulatingConsumer final : public exchange::Consumer {
 public:
  [[nodiscard]] exchange::Heartbeats heartbeats() const override {
    return exchange::Heartbeats::kNone;
  }
  [[nodiscard]] bool holds_answer() const override { return true; }
  [[nodiscard]] bool done() const override { return accumulator_.done(); }
  void OnEvent(const sse::Event& event, std::string& /*out*/) override {
    label_.OnEvent(event);
    accumulator_.OnEvent(event);
  }
  void OnEnd(std::string& /*out*/) override {}
  void OnFailure(exchange::Failure /*failure*/, const Error& error, bool /*mid_event*/,
                 std::string& /*out*/) override {
    label_.OnFailure(error);
    failure_ = error;
  }

  translate::MessageAccumulator& accumulator() { return accumulator_; }
  [[nodiscard]] const std::optional<Error>& failure() const { return failure_; }
  [[nodiscard]] const exchange::StreamErrorLabel& label() const { return label_; }

 private:
  translate::MessageAccumulator accumulator_;
  exchange::StreamErrorLabel label_;
  std::optional<Error> failure_;
};

}  // namespace

Awaitable<AccumulatedMessage> AccumulateUpstreamMessage(server::RequestContext& ctx,
                                                        upstream::AuthorizedResponse& answer,
                                                        const config::Upstream& config) {
  AccumulatingConsumer consumer;
  exchange::UpstreamBody body(answer.response, std::move(answer.read_ahead));
  co_await exchange::Pump(body, exchange::PumpLimits::From(config), consumer, ctx, nullptr);
  AccumulatedMessage result;
  auto& accumulator = consumer.accumulator();
  if (accumulator.error()) {
    const auto& error = *accumulator.error();
    consumer.label().Record(ctx, true);
    result.replied = co_await server::JsonReply(ctx, error.status, error.openai_body);
    co_return result;
  }
  if (consumer.failure()) {
    consumer.label().Record(ctx, true);
    result.replied = co_await server::LocalReply(ctx, *consumer.failure(),
                                                 std::string(details::kUpstreamFailed));
    co_return result;
  }
  auto message = accumulator.TakeMessage();
  if (!message) {
    ctx.usage.upstream_error = exchange::TransportErrorLabel(message.error());
    result.replied = co_await server::LocalReply(ctx, message.error(),
                                                 std::string(details::kUpstreamIncomplete));
    co_return result;
  }
  result.message = std::move(*message);
  co_return result;
}

}  // namespace claudegate::routes
