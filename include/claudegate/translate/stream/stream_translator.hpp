/// @file stream_translator.hpp
/// Streaming response translation: Anthropic Messages SSE events → OpenAI `chat.completion.chunk`
/// SSE frames (docs/anthropic-notes.md#stream-mapping).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/event_reader.hpp"
#include "claudegate/sse/decoder.hpp"
#include "claudegate/translate/response/response_common.hpp"
#include "claudegate/translate/response/upstream_error.hpp"

namespace claudegate::translate {

/// Per-stream settings.
struct StreamOptions {
  std::string model;           ///< Echoed as every chunk's `model`.
  std::int64_t created = 0;    ///< Unix seconds, the same on every chunk.
  bool include_usage = false;  ///< `stream_options.include_usage`: `usage:null` on each chunk and a
                               ///< final `choices:[]` usage chunk before `[DONE]`.
  bool forward_pings = true;   ///< Forward upstream `ping` as the SSE comment `: ping`
                               ///< (docs/anthropic-notes.md#pings).
};

/// The state machine of docs/anthropic-notes.md#stream-mapping. Feed it the decoded upstream events
/// in order; it appends the downstream bytes (`data: {...}\n\n` frames, ending with `data:
/// [DONE]\n\n`) to a buffer the caller owns and reuses, so the hot path does not allocate per event
/// beyond JSON parsing.
///
/// Emits: a role chunk at `message_start`; `content` for text deltas; `reasoning_content` for
/// thinking deltas; tool calls with dense indexes 0,1,… (`id`, `type`, `name`, `arguments:""`
/// first, then argument fragments forwarded unparsed, `"{}"` at block stop when none came); the
/// finish chunk (`delta:{}` and `finish_reason`) at `message_stop`; the usage chunk; `[DONE]`.
/// An upstream `error` event, or `OnUpstreamEnd` before any stop reason, emits one OpenAI error
/// frame `data: {"error":{...}}` followed by `[DONE]` (docs/anthropic-notes.md#stream-errors) and
/// no finish chunk. Unknown events, block types and delta types are ignored
/// (docs/anthropic-notes.md#unknown-event-types). Events after the end are ignored.
///
/// @par Thread Safety
/// Not thread-safe; one translator per stream.
///
/// The upstream grammar (fast path, surrogate repair, malformed events) is
/// `anthropic::EventReader`'s; this class only maps its typed events to chunks.
class StreamTranslator : private anthropic::EventVisitor {
 public:
  explicit StreamTranslator(StreamOptions options);

  /// Translates one upstream event, appending any output to `out`.
  void OnEvent(const sse::Event& event, std::string& out);

  /// Call when the upstream body ended (EOF or reset). If a stop reason already arrived it
  /// finishes normally (docs/anthropic-notes.md#stream-ends-early); otherwise it emits the
  /// "upstream stream ended unexpectedly" error frame. No-op when already done.
  void OnUpstreamEnd(std::string& out);

  /// Ends the stream with an error frame of `type` (OpenAI `error.type`, e.g. `server_error`) and
  /// `message`, e.g. on an upstream idle timeout. No-op when already done.
  void Abort(std::string_view type, std::string_view message, std::string& out);

  /// True once `[DONE]` was written.
  [[nodiscard]] bool done() const { return done_; }
  /// True once any chunk other than pings was written. While false, an `error()` may still be
  /// turned into a plain HTTP error response (discard `out` then; the "peek window" of
  /// docs/anthropic-notes.md#stream-errors).
  [[nodiscard]] bool started() const { return started_; }
  /// The mapped upstream error when the stream ended with one.
  [[nodiscard]] const std::optional<UpstreamError>& error() const { return error_; }
  /// Accumulated usage (input and cache counts from `message_start`, overwritten by the
  /// cumulative `message_delta` counts).
  [[nodiscard]] const Usage& usage() const { return usage_; }
  /// The upstream `stop_reason`, empty until `message_delta` carries one.
  [[nodiscard]] const std::string& stop_reason() const { return stop_reason_; }
  /// The upstream message id from `message_start`.
  [[nodiscard]] const std::string& message_id() const { return message_id_; }

 private:
  enum class BlockKind { kOther, kText, kThinking, kToolUse };
  struct Block {
    BlockKind kind = BlockKind::kOther;
    int tool_index = -1;
    bool args_seen = false;
  };

  // anthropic::EventVisitor: called from OnEvent, which sets out_ for the call.
  void OnMessageStart(const anthropic::MessageStart& event) override;
  void OnBlockStart(const anthropic::BlockStart& event) override;
  void OnDelta(const anthropic::Delta& event) override;
  void OnBlockStop(const anthropic::BlockStop& event) override;
  void OnMessageDelta(const anthropic::MessageDelta& event) override;
  void OnMessageStop() override;
  void OnError(const anthropic::ErrorEvent& event) override;
  void OnPing() override;
  void OnMalformed(std::string_view name) override;

  void ApplyDelta(Block& block, anthropic::DeltaKind kind, std::string_view value,
                  std::string& out);
  void Finish(std::string& out);
  void EmitError(const UpstreamError& error, std::string& out);
  void EnsureStarted(std::string& out);
  Block* BlockAt(std::optional<std::size_t> index);
  void BeginChunk(std::string& out) const;
  void EndChunk(std::string& out, std::string_view finish_reason) const;
  void EmitText(std::string_view key, std::string_view text, std::string& out);
  void FlushPendingSurrogate(const Block& block, std::string& out);

  StreamOptions options_;
  anthropic::EventReader reader_;
  std::string* out_ = nullptr;  // The caller's buffer during OnEvent.
  std::string prefix_;  // `{"id":…,"choices":[{"index":0,"delta":` for the current stream.
  std::string message_id_;
  std::string stop_reason_;
  std::string refusal_;
  std::vector<Block> blocks_;
  Usage usage_;
  std::optional<UpstreamError> error_;
  int next_tool_index_ = 0;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace claudegate::translate
