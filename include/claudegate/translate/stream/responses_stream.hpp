/// @file responses_stream.hpp
/// Streaming translation for the Responses API: Anthropic Messages SSE events → Responses stream
/// events (`event: <type>\ndata: <json>\n\n`), each with a `sequence_number` one higher than the
/// last, starting at 0.
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
#include "claudegate/translate/response/responses_output.hpp"
#include "claudegate/translate/response/upstream_error.hpp"
#include "claudegate/translate/stream/json_string_extractor.hpp"
#include "claudegate/translate/tool_name_map.hpp"

namespace claudegate::translate {

/// The Responses state machine. Feed it the decoded upstream events in order; it appends the
/// downstream frames to a buffer the caller owns.
///
/// Emits, in the documented order:
/// - at `message_start`: `response.created` and `response.in_progress` (status `in_progress`);
/// - per text block: `response.output_item.added` (a `message`), `response.content_part.added`,
///   `response.output_text.delta`…, and at the block's end `response.output_text.done`,
///   `response.content_part.done`, `response.output_item.done`;
/// - per thinking block: `response.output_item.added` (a `reasoning`), on the first text
///   `response.reasoning_summary_part.added` and `response.reasoning_summary_text.delta`…, at the
///   end `response.reasoning_summary_text.done` and `response.reasoning_summary_part.done` (when
///   there was text) and `response.output_item.done` carrying the signature as
///   `encrypted_content`; redacted thinking becomes a reasoning item without summary;
/// - per tool_use block: `response.output_item.added` (a `function_call` with `arguments:""`),
///   `response.function_call_arguments.delta`… (fragments forwarded unparsed),
///   `response.function_call_arguments.done` (`"{}"` when none came), `response.output_item.done`;
/// - per tool_use block of a custom tool: `response.output_item.added` (a `custom_tool_call`),
///   `response.custom_tool_call_input.delta`… (the string decoded out of Claude's partial JSON by
///   `JsonStringExtractor`), `response.custom_tool_call_input.done`, `response.output_item.done`;
///   namespaced tools are `function_call`s carrying the client's `name` and `namespace`;
/// - per web search (`server_tool_use` + `web_search_tool_result`, web_search_output.hpp):
///   `response.output_item.added` (a `web_search_call`), `response.web_search_call.in_progress`,
///   `.searching`, and when the result block arrives `.completed` and `response.output_item.done`;
/// - text citations: `response.output_text.annotation.added` per `url_citation`, at the text
///   block's end (Anthropic cites whole blocks), before `response.output_text.done`;
/// - at `message_stop`: `response.completed`, or `response.incomplete` for `max_tokens` /
///   `refusal` stops, with the full output and usage (the same object `ToResponse()` builds).
/// An upstream `error` event, `OnUpstreamEnd` before any stop reason, or `Abort` emit an `error`
/// event (`code`, `message`, `param:null`) followed by `response.failed` (status `failed`,
/// `error:{code,message}`, the items finished so far). Upstream `ping`s become the SSE comment
/// `: ping`. Unknown events, blocks and deltas are ignored; events after the end are ignored.
/// A delta that ends in half a UTF-16 surrogate pair is glued to the next one
/// (docs/anthropic-notes.md#lone-surrogates).
///
/// @par Thread Safety
/// Not thread-safe; one translator per stream.
///
/// The upstream grammar (fast path, surrogate repair, malformed events) is
/// `anthropic::EventReader`'s; this class only maps its typed events to Responses events.
class ResponsesStreamTranslator : private anthropic::EventVisitor {
 public:
  /// `meta` supplies the model, creation time and echoed request fields of every snapshot.
  /// `forward_pings` forwards upstream pings as SSE comments.
  explicit ResponsesStreamTranslator(ResponseMeta meta, bool forward_pings = true);

  /// Translates one upstream event, appending any output to `out`.
  void OnEvent(const sse::Event& event, std::string& out);

  /// Call when the upstream body ended. Finishes normally if a stop reason arrived, otherwise
  /// fails the response ("upstream stream ended unexpectedly"). No-op when already done.
  void OnUpstreamEnd(std::string& out);

  /// Fails the response with OpenAI error `type` (used as `code`) and `message`, e.g. on an
  /// upstream idle timeout. No-op when already done.
  void Abort(std::string_view type, std::string_view message, std::string& out);

  /// True once a terminal event (`response.completed`/`incomplete`/`failed`) was written.
  [[nodiscard]] bool done() const { return done_; }
  /// True once `response.created` was written.
  [[nodiscard]] bool started() const { return started_; }
  /// The mapped upstream error when the stream ended with one.
  [[nodiscard]] const std::optional<UpstreamError>& error() const { return error_; }
  /// Accumulated usage.
  [[nodiscard]] const Usage& usage() const { return usage_; }
  /// The last Response snapshot sent (the final one once `done()`).
  [[nodiscard]] const nlohmann::json& response() const { return snapshot_; }

 private:
  enum class BlockKind { kOther, kText, kThinking, kRedacted, kToolUse, kCustomTool, kWebSearch };
  struct Block {
    BlockKind kind = BlockKind::kOther;
    bool open = false;
    bool summary_open = false;
    bool input_done = false;  // Web search: its server_tool_use block stopped.
    std::size_t output_index = 0;
    std::string item_id;
    std::string call_id;
    std::string name;  // The Claude tool name (tool_name_map.hpp maps it to the client's).
    std::string text;  // Text, thinking, redacted data, or tool arguments.
    std::string signature;
    nlohmann::json citations;  // Text: Claude's citations so far. Web search: the use block.
    nlohmann::json result;     // Web search: its web_search_tool_result block once it came.
    std::optional<JsonStringExtractor> custom_input;  // Custom tool: the streamed string.
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
  // Tool blocks (responses_stream_tools.cpp): client, custom and web search tools.
  nlohmann::json StartToolBlock(Block& block, const anthropic::BlockStart& event);
  void AddToolText(Block& block, std::string_view text, std::string& out);
  nlohmann::json CloseToolBlock(Block& block, std::string& out);
  void OnServerToolResult(const nlohmann::json& result, std::string& out);
  void EmitAnnotations(const Block& block, nlohmann::json& part, std::string& out);
  void EnsureStarted(std::string& out);
  void AddText(Block& block, std::string_view text, std::string& out);
  void CloseBlock(Block& block, std::string& out);
  void Finish(std::string& out);
  void Fail(const UpstreamError& error, std::string& out);
  Block* BlockAt(std::optional<std::size_t> index);
  void Emit(std::string_view type, nlohmann::json payload, std::string& out);

  ResponseMeta meta_;
  ToolNameMap names_;  // From meta_.echo's `tools`.
  bool forward_pings_;
  std::string message_id_;
  std::string id_base_;  ///< ResponseIdBase, fixed when the Response starts.
  std::string stop_reason_;
  anthropic::EventReader reader_;
  std::string* out_ = nullptr;  // The caller's buffer during OnEvent.
  std::vector<Block> blocks_;
  nlohmann::json output_ = nlohmann::json::array();  // Items finished so far, by output index.
  nlohmann::json snapshot_;
  Usage usage_;
  std::optional<UpstreamError> error_;
  std::size_t next_output_index_ = 0;
  std::int64_t sequence_ = 0;
  bool started_ = false;
  bool done_ = false;
};

}  // namespace claudegate::translate
