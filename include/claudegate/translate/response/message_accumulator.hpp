/// @file message_accumulator.hpp
/// Rebuilds a complete Anthropic `Message` from its SSE events, for non-streaming clients served
/// from a streamed upstream call (docs/anthropic-notes.md#max-tokens,
/// docs/anthropic-notes.md#non-streaming-clients). Feed the result to `ToOpenAi()`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/event_reader.hpp"
#include "claudegate/error.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/upstream_error.hpp"

namespace claudegate::translate {

/// Accumulates text, thinking (with signatures), redacted thinking and tool_use input fragments
/// per content block, and the cumulative usage and stop reason, the way the SDK's
/// `MessageStream` does. Tool input is parsed at `content_block_stop`; when the joined fragments
/// are not valid JSON (e.g. cut off by `max_tokens`,
/// docs/anthropic-notes.md#partial-tool-arguments) the block keeps `input:{}` and carries the raw
/// text as a string `partial_json`, which `ToOpenAi()` returns verbatim.
///
/// @par Thread Safety
/// Not thread-safe; one accumulator per upstream response.
///
/// The upstream grammar (fast path, surrogate repair, malformed events) is
/// `anthropic::EventReader`'s; this class only folds its typed events into the message.
class MessageAccumulator : private anthropic::EventVisitor {
 public:
  /// Consumes one upstream event. Unknown events and block types are ignored.
  void OnEvent(const sse::Event& event);

  /// True after `message_stop` or an `error` event.
  [[nodiscard]] bool done() const { return done_; }

  /// The upstream error when the stream carried an `error` event.
  [[nodiscard]] const std::optional<UpstreamError>& error() const { return error_; }

  /// The finished message. Call after the body ended.
  ///
  /// @par Errors
  /// The mapped upstream error (its status and message) after an `error` event; and
  /// `ErrorKind::kUpstreamUnreachable` (502) when the stream ended without a stop reason.
  [[nodiscard]] Result<nlohmann::json> TakeMessage();

 private:
  // anthropic::EventVisitor.
  void OnMessageStart(const anthropic::MessageStart& event) override;
  void OnBlockStart(const anthropic::BlockStart& event) override;
  void OnDelta(const anthropic::Delta& event) override;
  void OnBlockStop(const anthropic::BlockStop& event) override;
  void OnMessageDelta(const anthropic::MessageDelta& event) override;
  void OnMessageStop() override;
  void OnError(const anthropic::ErrorEvent& event) override;
  void OnMalformed(std::string_view name) override;

  void EnsureMessage();
  void StopBlock(std::size_t index);

  anthropic::EventReader reader_;
  nlohmann::json message_;
  std::vector<std::string> tool_json_;  // Per block index: joined input_json_delta fragments.
  std::optional<UpstreamError> error_;
  bool done_ = false;
};

}  // namespace claudegate::translate
