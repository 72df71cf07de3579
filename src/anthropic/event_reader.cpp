#include "claudegate/anthropic/event_reader.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/anthropic/surrogate_repair.hpp"

namespace claudegate::anthropic {
namespace {

using nlohmann::json;

enum class EventType {
  kMessageStart,
  kBlockStart,
  kDelta,
  kBlockStop,
  kMessageDelta,
  kMessageStop,
  kError,
  kPing,
  kUnknown,
};

EventType TypeOf(std::string_view name) {
  if (name == "content_block_delta") {
    return EventType::kDelta;
  }
  if (name == "content_block_start") {
    return EventType::kBlockStart;
  }
  if (name == "content_block_stop") {
    return EventType::kBlockStop;
  }
  if (name == "message_start") {
    return EventType::kMessageStart;
  }
  if (name == "message_delta") {
    return EventType::kMessageDelta;
  }
  if (name == "message_stop") {
    return EventType::kMessageStop;
  }
  if (name == "error") {
    return EventType::kError;
  }
  if (name == "ping") {
    return EventType::kPing;
  }
  return EventType::kUnknown;
}

BlockType BlockTypeOf(std::string_view type) {
  if (type == "text") {
    return BlockType::kText;
  }
  if (type == "thinking") {
    return BlockType::kThinking;
  }
  if (type == "redacted_thinking") {
    return BlockType::kRedactedThinking;
  }
  if (type == "tool_use") {
    return BlockType::kToolUse;
  }
  if (type == "server_tool_use") {
    return BlockType::kServerToolUse;
  }
  return BlockType::kOther;
}

std::optional<std::string_view> StringField(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) {
    return std::nullopt;
  }
  return std::string_view(it->get_ref<const std::string&>());
}

json* ObjectField(json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? &*it : nullptr;
}

const json* AnyField(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() ? &*it : nullptr;
}

std::optional<std::size_t> BoundedIndex(std::size_t index) {
  return index < kMaxBlockIndex ? std::optional<std::size_t>(index) : std::nullopt;
}

// `index` as nlohmann stores a non-negative integer; a float, sign or string is no index.
std::optional<std::size_t> IndexOf(const json& data) {
  const auto it = data.find("index");
  if (it == data.end() || !it->is_number_unsigned()) {
    return std::nullopt;
  }
  return BoundedIndex(it->get<std::size_t>());
}

MessageStart ReadMessageStart(json& data) {
  MessageStart event;
  if (json* message = ObjectField(data, "message")) {
    event.message = message;
    event.id = StringField(*message, "id");
    event.model = StringField(*message, "model");
    event.usage = AnyField(*message, "usage");
  }
  return event;
}

BlockStart ReadBlockStart(json& data) {
  BlockStart event;
  event.index = IndexOf(data);
  json* block = ObjectField(data, "content_block");
  if (block == nullptr) {
    return event;
  }
  event.block = block;
  if (const auto type = StringField(*block, "type")) {
    event.type = BlockTypeOf(*type);
  }
  event.text = StringField(*block, "text");
  event.thinking = StringField(*block, "thinking");
  event.data = StringField(*block, "data");
  event.id = StringField(*block, "id");
  event.name = StringField(*block, "name");
  event.input = AnyField(*block, "input");
  return event;
}

// The string-valued delta types and their one field
// (https://docs.anthropic.com/en/docs/build-with-claude/streaming#content-block-delta-types).
struct StringDelta {
  std::string_view type;
  std::string_view field;
  DeltaKind kind;
};
constexpr StringDelta kStringDeltas[] = {
    {"text_delta", "text", DeltaKind::kText},
    {"thinking_delta", "thinking", DeltaKind::kThinking},
    {"input_json_delta", "partial_json", DeltaKind::kInputJson},
    {"signature_delta", "signature", DeltaKind::kSignature},
};

Delta ReadDelta(json& data) {
  Delta event;
  event.index = IndexOf(data);
  const json* delta = ObjectField(data, "delta");
  if (delta == nullptr) {
    return event;
  }
  event.delta = delta;
  const auto type = StringField(*delta, "type");
  if (!type) {
    return event;
  }
  if (*type == "citations_delta") {
    event.kind = DeltaKind::kCitations;
    return event;
  }
  for (const StringDelta& known : kStringDeltas) {
    if (*type == known.type) {
      if (const auto value = StringField(*delta, known.field)) {
        event.kind = known.kind;
        event.value = *value;
      }
      break;
    }
  }
  return event;
}

MessageDelta ReadMessageDelta(json& data) {
  MessageDelta event;
  if (const json* delta = ObjectField(data, "delta")) {
    event.delta = delta;
    event.stop_reason = StringField(*delta, "stop_reason");
    event.stop_sequence = StringField(*delta, "stop_sequence");
    if (const auto details = delta->find("stop_details");
        details != delta->end() && details->is_object()) {
      event.stop_explanation = StringField(*details, "explanation");
    }
  }
  event.usage = AnyField(data, "usage");
  return event;
}

ErrorEvent ReadError(json& data, std::string_view raw) {
  ErrorEvent event;
  event.raw = raw;
  if (const json* error = ObjectField(data, "error")) {
    event.type = StringField(*error, "type");
    event.message = StringField(*error, "message");
  }
  return event;
}

}  // namespace

void EventReader::Read(const sse::Event& event, EventVisitor& visitor) {
  // Most events are text or argument deltas: read those without building a DOM.
  BlockDelta scanned;
  if (ScanBlockDelta(event.data, scratch_, scanned)) {
    Delta delta;
    delta.index = BoundedIndex(scanned.index);
    delta.kind = scanned.kind;
    delta.value = scanned.value;
    visitor.OnDelta(delta);
    return;
  }
  json data = json::parse(event.data, nullptr, false);
  if (data.is_discarded()) {
    data = json::parse(RepairSurrogates(event.data, pending_high_), nullptr, false);
  }
  // The `type` inside the data is authoritative; the SSE `event:` name repeats it.
  std::string_view name = event.event;
  if (data.is_object()) {
    if (const auto type = StringField(data, "type")) {
      name = *type;
    }
  }
  const EventType type = TypeOf(name);
  if (!data.is_object()) {
    if (type == EventType::kPing) {
      visitor.OnPing();  // A ping carries nothing a consumer needs.
    } else if (type != EventType::kUnknown) {
      visitor.OnMalformed(name);
    }
    return;  // Unparseable data of an event we do not know: ignored.
  }
  switch (type) {
    case EventType::kDelta:
      visitor.OnDelta(ReadDelta(data));
      return;
    case EventType::kPing:
      visitor.OnPing();
      return;
    case EventType::kMessageStart:
      visitor.OnMessageStart(ReadMessageStart(data));
      return;
    case EventType::kBlockStart:
      visitor.OnBlockStart(ReadBlockStart(data));
      return;
    case EventType::kBlockStop:
      visitor.OnBlockStop(BlockStop{IndexOf(data)});
      return;
    case EventType::kMessageDelta:
      visitor.OnMessageDelta(ReadMessageDelta(data));
      return;
    case EventType::kMessageStop:
      visitor.OnMessageStop();
      return;
    case EventType::kError:
      visitor.OnError(ReadError(data, event.data));
      return;
    case EventType::kUnknown:
      visitor.OnUnknown(UnknownEvent{name, &data});
      return;
  }
}

bool EventReader::TakeLoneHighSurrogate() {
  if (pending_high_.empty()) {
    return false;
  }
  pending_high_.clear();
  return true;
}

}  // namespace claudegate::anthropic
