/// @file event_reader.hpp
/// The grammar of Anthropic's streamed Messages response, read once for every consumer.
///
/// A streamed `/v1/messages` answer is a sequence of SSE events (`message_start`, then per content
/// block `content_block_start`, `content_block_delta`…, `content_block_stop`, then `message_delta`
/// and `message_stop`; `ping` and `error` anywhere), each carrying one JSON object whose `type`
/// repeats the event name (https://docs.anthropic.com/en/docs/build-with-claude/streaming).
/// `EventReader` turns each decoded `sse::Event` into one typed call on an `EventVisitor`; the
/// translators (OpenAI chat chunks, Responses events, the accumulated Message) and the usage
/// watcher of the relay implement only the visitor.
///
/// @par The reading rules (one place for all consumers)
/// - Fast path: a `content_block_delta` of the one common shape is read by `ScanBlockDelta`
///   without building a DOM; anything else is parsed in full with nlohmann::json.
/// - Surrogate repair: data that fails to parse is parsed again after `RepairSurrogates` (a delta
///   may end between the halves of a UTF-16 surrogate pair; docs/anthropic-notes.md). The held
///   high half is glued to the next event; at a block's end a consumer takes it with
///   `TakeLoneHighSurrogate()` and shows U+FFFD.
/// - Event type: the data's `type` string is authoritative; the SSE `event:` name is used when
///   the data has none.
/// - Malformed events: data that is not a JSON object (even after repair) under the name of a
///   Messages stream event other than `ping` goes to `OnMalformed`, because skipping it would
///   silently lose content; under `ping` it is still a ping; under any other name it is ignored,
///   as the SSE spec's tolerance asks
///   (https://html.spec.whatwg.org/multipage/server-sent-events.html).
/// - Block indexes: a missing, non-integer, negative or huge (≥ `kMaxBlockIndex`) `index`
///   arrives as `std::nullopt`, so no consumer sizes a table from a hostile number.
/// - Unknown event types, block types and delta types are reported as such (`OnUnknown`,
///   `BlockType::kOther`, `DeltaKind::kOther`): Anthropic adds new ones over time and consumers
///   ignore what they do not know (https://docs.anthropic.com/en/api/versioning).
///
/// @par Differences removed by unifying the three former copies
/// - `MessageAccumulator` dispatched on the data's `type` only and ignored an event whose data
///   had none; it now falls back to the event name like the two translators.
/// - The relay's usage watcher (`UsageWatcher`) parsed `error` events a second time for their
///   type; it now reads the same typed events (the data's `type` wins). It still skips events
///   by SSE name first, so the byte-for-byte relay pays no scan per delta.
/// Kept on purpose: what a consumer does with a lone high surrogate at a block's end is its own
/// output choice. The translators show U+FFFD; `MessageAccumulator` does not take it (its
/// non-streamed goldens drop the half), so a Responses stream and its non-streamed twin differ
/// by that one character.
///
/// @par Thread Safety
/// Not thread-safe; one reader per upstream stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "claudegate/anthropic/block_delta_scan.hpp"
#include "claudegate/sse/decoder.hpp"

namespace claudegate::anthropic {

/// Block indexes at or above this arrive as `std::nullopt`: it bounds every per-block table a
/// consumer keeps, far above the blocks of any real answer.
inline constexpr std::size_t kMaxBlockIndex = 4096;

/// `content_block.type` of a `content_block_start`
/// (https://docs.anthropic.com/en/api/messages#response-content).
enum class BlockType {
  kText,              ///< `text`
  kThinking,          ///< `thinking`
  kRedactedThinking,  ///< `redacted_thinking`
  kToolUse,           ///< `tool_use`
  kServerToolUse,     ///< `server_tool_use`
  kOther,             ///< `*_tool_result`, anything newer, or no `type` string at all
};

/// Each event's fields. String views and JSON pointers point into the reader's buffers (or the
/// `sse::Event`) and are valid only during the visitor call. A field that is absent or of the
/// wrong JSON type is `std::nullopt` / `nullptr`. The non-const `nlohmann::json*` members point
/// into the reader's per-event DOM: a visitor may move from them.

/// `message_start`.
struct MessageStart {
  std::optional<std::string_view> id;     ///< `message.id`
  std::optional<std::string_view> model;  ///< `message.model`
  nlohmann::json* message = nullptr;      ///< `message` when it is an object
  const nlohmann::json* usage = nullptr;  ///< `message.usage`, any JSON type
};

/// `content_block_start`.
struct BlockStart {
  std::optional<std::size_t> index;
  BlockType type = BlockType::kOther;
  nlohmann::json* block = nullptr;       ///< `content_block` when it is an object (else none below)
  std::optional<std::string_view> text;  ///< `text` (text blocks carry `""`)
  std::optional<std::string_view> thinking;  ///< `thinking`
  std::optional<std::string_view> data;      ///< `data` (redacted thinking)
  std::optional<std::string_view> id;        ///< `id` (tool use)
  std::optional<std::string_view> name;      ///< `name` (tool use)
  const nlohmann::json* input = nullptr;     ///< `input`, any JSON type (tool use)
};

/// `content_block_delta`.
struct Delta {
  std::optional<std::size_t> index;
  /// The delta's kind; one of the four string kinds only when its field was a string. A
  /// `text_delta` without a string `text` is `kOther`.
  DeltaKind kind = DeltaKind::kOther;
  /// The decoded (unescaped, UTF-8) string of the four string kinds; empty otherwise.
  std::string_view value;
  /// The `delta` object on the full-parse path (`kCitations`, `kOther` and declined fast
  /// shapes); nullptr on the fast path or when `delta` is not an object.
  const nlohmann::json* delta = nullptr;
};

/// `content_block_stop`.
struct BlockStop {
  std::optional<std::size_t> index;
};

/// `message_delta`.
struct MessageDelta {
  std::optional<std::string_view> stop_reason;    ///< `delta.stop_reason`
  std::optional<std::string_view> stop_sequence;  ///< `delta.stop_sequence`
  /// `delta.stop_details.explanation` (a refusal's reason).
  std::optional<std::string_view> stop_explanation;
  const nlohmann::json* delta = nullptr;  ///< `delta` when it is an object
  const nlohmann::json* usage = nullptr;  ///< `usage`, any JSON type (cumulative counts)
};

/// `error` inside the stream (https://docs.anthropic.com/en/api/messages-streaming#error-events).
/// It carries no HTTP status: consumers derive one from `type`.
struct ErrorEvent {
  std::optional<std::string_view> type;     ///< `error.type`
  std::optional<std::string_view> message;  ///< `error.message`
  std::string_view raw;                     ///< the event's data as received
};

/// An event of a type this reader does not know, with a JSON object as data.
struct UnknownEvent {
  std::string_view type;  ///< the data's `type`, else the SSE event name
  const nlohmann::json* data = nullptr;
};

/// Receives the typed events. Every method defaults to ignoring its event, so a consumer
/// overrides only what it uses.
///
/// An abstract interface rather than a template parameter (a concept): the reader then lives in
/// one .cpp, compiled once with its JSON code, and the per-event cost is one indirect call, noise
/// next to even the fast scan; the event structs live on the reader's stack, so nothing is
/// allocated per event.
class EventVisitor {
 public:
  virtual ~EventVisitor() = default;

  virtual void OnMessageStart(const MessageStart& /*event*/) {}
  virtual void OnBlockStart(const BlockStart& /*event*/) {}
  virtual void OnDelta(const Delta& /*event*/) {}
  virtual void OnBlockStop(const BlockStop& /*event*/) {}
  virtual void OnMessageDelta(const MessageDelta& /*event*/) {}
  virtual void OnMessageStop() {}
  virtual void OnError(const ErrorEvent& /*event*/) {}
  virtual void OnPing() {}
  virtual void OnUnknown(const UnknownEvent& /*event*/) {}
  /// The data of a Messages stream event (named in `name`) is not a JSON object: the answer
  /// would be incomplete, so the translators end the stream with an error.
  virtual void OnMalformed(std::string_view /*name*/) {}

 protected:
  EventVisitor() = default;
  EventVisitor(const EventVisitor&) = default;
  EventVisitor(EventVisitor&&) = default;
  EventVisitor& operator=(const EventVisitor&) = default;
  EventVisitor& operator=(EventVisitor&&) = default;
};

/// Reads one upstream stream's events in order. Holds the state that spans events: the surrogate
/// half carried to the next delta and the reused unescape buffer.
class EventReader {
 public:
  /// Reads one decoded event and makes at most one call on `visitor`.
  void Read(const sse::Event& event, EventVisitor& visitor);

  /// True, once, when a delta ended in a high surrogate whose low half has not arrived. Call at
  /// the end of a block (or of the message); the consumer then shows U+FFFD in its place.
  [[nodiscard]] bool TakeLoneHighSurrogate();

 private:
  std::string scratch_;       // Unescaped delta text on the fast path, reused.
  std::string pending_high_;  // A `\uD8xx` escape that ended the previous delta.
};

}  // namespace claudegate::anthropic
