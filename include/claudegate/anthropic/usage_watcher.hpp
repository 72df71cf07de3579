/// @file usage_watcher.hpp
/// Reads the token usage and a mid-stream error out of a `/v1/messages` stream that is relayed to
/// the client byte for byte, for the request log and metrics.
#pragma once

#include <string>

#include "claudegate/anthropic/event_reader.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/response_common.hpp"

namespace claudegate::anthropic {

/// Anthropic reports usage in `message_start` (input and cache counts) and, cumulatively, in
/// `message_delta` (https://docs.anthropic.com/en/docs/build-with-claude/streaming); an `error`
/// event can end a stream that began with 200. Feed it every decoded event of the relayed body;
/// it never changes what the client gets.
///
/// @par Thread Safety
/// Not thread-safe; one watcher per stream.
class UsageWatcher : private EventVisitor {
 public:
  /// Reads one decoded upstream event.
  void OnEvent(const sse::Event& event);

  /// True once an event carried a `usage` object.
  [[nodiscard]] bool saw_usage() const { return saw_usage_; }
  /// The usage so far (later counts overwrite earlier ones, as the SDKs do).
  [[nodiscard]] const translate::Usage& usage() const { return usage_; }
  /// The `error.type` of the last `error` event when it is a plain label (short snake_case, as
  /// Anthropic's documented types are), `http_200` for an error event without one; empty when no
  /// error event came.
  [[nodiscard]] const std::string& error_type() const { return error_type_; }

 private:
  void OnMessageStart(const MessageStart& event) override;
  void OnMessageDelta(const MessageDelta& event) override;
  void OnError(const ErrorEvent& event) override;
  void Count(const nlohmann::json* usage);

  EventReader reader_;
  translate::Usage usage_;
  bool saw_usage_ = false;
  std::string error_type_;
};

}  // namespace claudegate::anthropic
