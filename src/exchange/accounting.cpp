#include "claudegate/exchange/accounting.hpp"

#include <chrono>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/refusal.hpp"
#include "claudegate/exchange/details.hpp"

namespace claudegate::exchange {

void RecordUsage(server::RequestContext& ctx, const translate::Usage& usage) {
  ctx.usage.reported = true;
  ctx.usage.input_tokens = usage.input_tokens;
  ctx.usage.output_tokens = usage.output_tokens;
  ctx.usage.cache_read_tokens = usage.cache_read_input_tokens;
  ctx.usage.cache_write_tokens = usage.cache_creation_input_tokens;
}

std::string AnthropicErrorTypeOf(unsigned status, std::string_view body) {
  const auto json = nlohmann::json::parse(body, nullptr, false);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& type = json["error"]["type"];
    if (type.is_string()) {
      // Anthropic's documented types are short snake_case words; anything else is not a label.
      const auto text = type.get<std::string>();
      if (text.size() <= 40 &&
          text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos) {
        return text;
      }
    }
  }
  return "http_" + std::to_string(status);
}

std::string TransportErrorLabel(const Error& error) {
  switch (error.kind) {
    case ErrorKind::kUpstreamTimeout:
      return "timeout";
    case ErrorKind::kUpstreamUnreachable:
      return "connection";
    default:
      return {};
  }
}

void StreamErrorLabel::OnEvent(const sse::Event& event) {
  if (event.event == "error" && !from_event_) {
    // The first error event names the cause; a failure seen before it is its consequence.
    label_ = AnthropicErrorTypeOf(200, event.data);
    from_event_ = true;
    // The kind, as far as the event alone tells it (docs/anthropic-notes.md#refusals).
    const auto fields = anthropic::ReadErrorFields(event.data);
    refusal_ =
        anthropic::Label(anthropic::ClassifyRefusal(
                             anthropic::UpstreamAnswer{0, nullptr, fields.type, fields.message},
                             std::chrono::system_clock::now())
                             .kind);
  }
}

void StreamErrorLabel::OnFailure(const Error& error) {
  if (label_.empty()) {
    label_ = TransportErrorLabel(error);
    if (label_.empty()) {
      label_ = "connection";
    }
  }
}

void StreamErrorLabel::Record(server::RequestContext& ctx, bool consumer_failed) const {
  if (!failed() && !consumer_failed) {
    return;
  }
  ctx.details = std::string(details::kStreamError);
  ctx.usage.upstream_error = failed() ? label_ : "connection";
  ctx.usage.refusal = std::string(refusal_);
}

OpenStream::OpenStream(metrics::GatewayMetrics* metrics) : metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->streams_open.Add({}, 1);
  }
}

OpenStream::~OpenStream() {
  if (metrics_ != nullptr) {
    metrics_->streams_open.Add({}, -1);
  }
}

}  // namespace claudegate::exchange
