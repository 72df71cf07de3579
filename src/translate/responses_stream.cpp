#include "claudegate/translate/responses_stream.hpp"

#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/surrogate_repair.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

constexpr std::string_view kTruncatedMessage = "upstream stream ended unexpectedly";
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";
constexpr std::size_t kMaxBlockIndex = 4096;  // Bounds the block table against hostile indexes.

const std::string* StringField(const json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

ResponsesStreamTranslator::ResponsesStreamTranslator(ResponseMeta meta, bool forward_pings)
    : meta_(std::move(meta)), forward_pings_(forward_pings) {}

void ResponsesStreamTranslator::OnEvent(const sse::Event& event, std::string& out) {
  if (done_) {
    return;
  }
  // Most events are text or argument deltas: read those without building a DOM.
  BlockDelta fast;
  if (ScanBlockDelta(event.data, scratch_, fast)) {
    if (Block* block = BlockAt(fast.index)) {
      ApplyDelta(*block, fast.kind, fast.value, out);
    }
    return;
  }
  json data = json::parse(event.data, nullptr, false);
  if (data.is_discarded()) {
    data = json::parse(RepairSurrogates(event.data, pending_high_surrogate_), nullptr, false);
  }
  std::string_view type = event.event;
  if (data.is_object()) {
    if (const std::string* t = StringField(data, "type")) {
      type = *t;
    }
  } else if (type != "ping") {
    if (IsAnthropicStreamEvent(type)) {
      Abort("api_error", kMalformedEventMessage, out);
    }
    return;  // Unparseable data of an event we do not know: ignored.
  }
  if (type == "content_block_delta") {
    HandleBlockDelta(data, out);
  } else if (type == "ping") {
    if (forward_pings_) {
      sse::AppendComment(out, "ping");
    }
  } else if (type == "message_start") {
    HandleMessageStart(data, out);
  } else if (type == "content_block_start") {
    HandleBlockStart(data, out);
  } else if (type == "content_block_stop") {
    if (Block* block = BlockAt(data)) {
      CloseBlock(*block, out);
    }
  } else if (type == "message_delta") {
    HandleMessageDelta(data);
  } else if (type == "message_stop") {
    Finish(out);
  } else if (type == "error") {
    HandleError(data, out);
  }
}

void ResponsesStreamTranslator::OnUpstreamEnd(std::string& out) {
  if (done_) {
    return;
  }
  if (!stop_reason_.empty()) {
    Finish(out);
    return;
  }
  Fail(MapStreamError("api_error", kTruncatedMessage), out);
}

void ResponsesStreamTranslator::Abort(std::string_view type, std::string_view message,
                                      std::string& out) {
  if (done_) {
    return;
  }
  UpstreamError error = MapStreamError("api_error", message);
  if (!type.empty()) {
    error.type = std::string(type);
  }
  Fail(error, out);
}

void ResponsesStreamTranslator::Emit(std::string_view type, json payload, std::string& out) {
  payload["type"] = type;
  payload["sequence_number"] = sequence_++;
  sse::AppendEvent(out, type, payload.dump(-1, ' ', false, json::error_handler_t::replace));
}

void ResponsesStreamTranslator::HandleMessageStart(const json& data, std::string& out) {
  const auto message = data.find("message");
  if (message != data.end() && message->is_object()) {
    if (const std::string* id = StringField(*message, "id")) {
      message_id_ = *id;
    }
    if (const auto usage = message->find("usage"); usage != message->end()) {
      UpdateUsage(usage_, *usage);
    }
  }
  EnsureStarted(out);
}

void ResponsesStreamTranslator::EnsureStarted(std::string& out) {
  if (started_) {
    return;
  }
  started_ = true;
  snapshot_ = ResponseSkeleton(meta_, ResponseId(message_id_), "in_progress");
  Emit("response.created", {{"response", snapshot_}}, out);
  Emit("response.in_progress", {{"response", snapshot_}}, out);
}

ResponsesStreamTranslator::Block* ResponsesStreamTranslator::BlockAt(const json& data) {
  const auto index = data.find("index");
  if (index == data.end() || !index->is_number_unsigned()) {
    return nullptr;
  }
  return BlockAt(index->get<std::size_t>());
}

ResponsesStreamTranslator::Block* ResponsesStreamTranslator::BlockAt(std::size_t i) {
  if (i >= kMaxBlockIndex) {
    return nullptr;
  }
  if (i >= blocks_.size()) {
    blocks_.resize(i + 1);
  }
  return &blocks_[i];
}

void ResponsesStreamTranslator::HandleBlockStart(const json& data, std::string& out) {
  EnsureStarted(out);
  Block* block = BlockAt(data);
  const auto content = data.find("content_block");
  if (block == nullptr || content == data.end() || !content->is_object()) {
    return;
  }
  if (block->open) {
    CloseBlock(*block, out);  // A repeated index: finish the old item first.
  }
  *block = Block{};
  const std::string* type = StringField(*content, "type");
  if (type == nullptr) {
    return;
  }
  const std::size_t index = next_output_index_;
  json item;
  if (*type == "text") {
    block->kind = BlockKind::kText;
    block->item_id = OutputItemId("msg", message_id_, index);
    item = MessageItem(block->item_id, nullptr, "in_progress");
  } else if (*type == "thinking" || *type == "redacted_thinking") {
    block->kind = *type == "thinking" ? BlockKind::kThinking : BlockKind::kRedacted;
    block->item_id = OutputItemId("rs", message_id_, index);
    item = ReasoningItem(block->item_id, nullptr, "");
    if (const std::string* data_field = StringField(*content, "data");
        data_field != nullptr && block->kind == BlockKind::kRedacted) {
      block->text = *data_field;
    }
  } else if (*type == "tool_use") {
    block->kind = BlockKind::kToolUse;
    const std::string* id = StringField(*content, "id");
    const std::string* name = StringField(*content, "name");
    block->call_id = id != nullptr ? *id : "";
    block->name = name != nullptr ? *name : "";
    block->item_id = "fc_" + block->call_id;
    item = FunctionCallItem(block->call_id, block->name, "", "in_progress");
  } else {
    return;  // server_tool_use, *_tool_result, unknown: nothing visible.
  }
  block->open = true;
  block->output_index = index;
  ++next_output_index_;
  Emit("response.output_item.added", {{"output_index", index}, {"item", std::move(item)}}, out);
  if (block->kind == BlockKind::kText) {
    Emit("response.content_part.added",
         {{"item_id", block->item_id},
          {"output_index", index},
          {"content_index", 0},
          {"part", OutputTextPart("")}},
         out);
    if (const std::string* text = StringField(*content, "text")) {
      AddText(*block, *text, out);
    }
  } else if (block->kind == BlockKind::kThinking) {
    if (const std::string* text = StringField(*content, "thinking")) {
      AddText(*block, *text, out);
    }
  } else if (block->kind == BlockKind::kToolUse) {
    // Anthropic sends `input: {}` here and the real input as deltas; a non-empty start input
    // (not seen in practice) is sent as the whole argument string.
    const auto input = content->find("input");
    if (input != content->end() && input->is_object() && !input->empty()) {
      AddText(*block, input->dump(-1, ' ', false, json::error_handler_t::replace), out);
    }
  }
}

void ResponsesStreamTranslator::AddText(Block& block, std::string_view text, std::string& out) {
  if (text.empty()) {
    return;
  }
  block.text.append(text);
  const std::size_t index = block.output_index;
  switch (block.kind) {
    case BlockKind::kText:
      Emit("response.output_text.delta",
           {{"item_id", block.item_id},
            {"output_index", index},
            {"content_index", 0},
            {"delta", text},
            {"logprobs", json::array()}},
           out);
      break;
    case BlockKind::kThinking:
      if (!block.summary_open) {
        block.summary_open = true;
        Emit("response.reasoning_summary_part.added",
             {{"item_id", block.item_id},
              {"output_index", index},
              {"summary_index", 0},
              {"part", {{"type", "summary_text"}, {"text", ""}}}},
             out);
      }
      Emit("response.reasoning_summary_text.delta",
           {{"item_id", block.item_id},
            {"output_index", index},
            {"summary_index", 0},
            {"delta", text}},
           out);
      break;
    case BlockKind::kToolUse:
      Emit("response.function_call_arguments.delta",
           {{"item_id", block.item_id}, {"output_index", index}, {"delta", text}}, out);
      break;
    default:
      break;
  }
}

void ResponsesStreamTranslator::HandleBlockDelta(const json& data, std::string& out) {
  Block* block = BlockAt(data);
  const auto delta = data.find("delta");
  if (block == nullptr || !block->open || delta == data.end() || !delta->is_object()) {
    return;
  }
  const std::string* type = StringField(*delta, "type");
  if (type == nullptr) {
    return;
  }
  const std::string* value = nullptr;
  DeltaKind kind = DeltaKind::kText;
  if (*type == "text_delta") {
    value = StringField(*delta, "text");
  } else if (*type == "thinking_delta") {
    kind = DeltaKind::kThinking;
    value = StringField(*delta, "thinking");
  } else if (*type == "signature_delta") {
    kind = DeltaKind::kSignature;
    value = StringField(*delta, "signature");
  } else if (*type == "input_json_delta") {
    kind = DeltaKind::kPartialJson;
    value = StringField(*delta, "partial_json");
  }
  // citations_delta, deltas of server-tool blocks, unknown: nothing visible.
  if (value != nullptr) {
    ApplyDelta(*block, kind, *value, out);
  }
}

void ResponsesStreamTranslator::ApplyDelta(Block& block, DeltaKind kind, std::string_view value,
                                           std::string& out) {
  if (!block.open) {
    return;
  }
  if ((kind == DeltaKind::kText && block.kind == BlockKind::kText) ||
      (kind == DeltaKind::kThinking && block.kind == BlockKind::kThinking) ||
      (kind == DeltaKind::kPartialJson && block.kind == BlockKind::kToolUse)) {
    AddText(block, value, out);
  } else if (kind == DeltaKind::kSignature && block.kind == BlockKind::kThinking) {
    block.signature += value;
  }
}

void ResponsesStreamTranslator::CloseBlock(Block& block, std::string& out) {
  if (!block.open) {
    return;
  }
  if (!pending_high_surrogate_.empty()) {
    pending_high_surrogate_.clear();
    AddText(block, kReplacementChar, out);  // A lone high surrogate at the end (edge case 12).
  }
  block.open = false;
  const std::size_t index = block.output_index;
  json item;
  switch (block.kind) {
    case BlockKind::kText: {
      Emit("response.output_text.done",
           {{"item_id", block.item_id},
            {"output_index", index},
            {"content_index", 0},
            {"text", block.text},
            {"logprobs", json::array()}},
           out);
      Emit("response.content_part.done",
           {{"item_id", block.item_id},
            {"output_index", index},
            {"content_index", 0},
            {"part", OutputTextPart(block.text)}},
           out);
      item = MessageItem(block.item_id, &block.text, "completed");
      break;
    }
    case BlockKind::kThinking:
      if (block.summary_open) {
        Emit("response.reasoning_summary_text.done",
             {{"item_id", block.item_id},
              {"output_index", index},
              {"summary_index", 0},
              {"text", block.text}},
             out);
        Emit("response.reasoning_summary_part.done",
             {{"item_id", block.item_id},
              {"output_index", index},
              {"summary_index", 0},
              {"part", {{"type", "summary_text"}, {"text", block.text}}}},
             out);
      }
      item = ReasoningItem(block.item_id, &block.text, block.signature);
      break;
    case BlockKind::kRedacted:
      item = ReasoningItem(block.item_id, nullptr,
                           std::string(kRedactedThinkingPrefix) + block.text);
      break;
    case BlockKind::kToolUse: {
      // Clients JSON.parse() the arguments; an empty string would fail there.
      const std::string arguments = block.text.empty() ? "{}" : block.text;
      Emit("response.function_call_arguments.done",
           {{"item_id", block.item_id},
            {"output_index", index},
            {"name", block.name},
            {"arguments", arguments}},
           out);
      item = FunctionCallItem(block.call_id, block.name, arguments, "completed");
      break;
    }
    case BlockKind::kOther:
      return;
  }
  while (output_.size() <= index) {
    output_.push_back(nullptr);
  }
  output_[index] = item;
  Emit("response.output_item.done", {{"output_index", index}, {"item", std::move(item)}}, out);
}

void ResponsesStreamTranslator::HandleMessageDelta(const json& data) {
  if (const auto delta = data.find("delta"); delta != data.end() && delta->is_object()) {
    if (const std::string* stop = StringField(*delta, "stop_reason")) {
      stop_reason_ = *stop;
    }
  }
  if (const auto usage = data.find("usage"); usage != data.end()) {
    UpdateUsage(usage_, *usage);
  }
}

void ResponsesStreamTranslator::HandleError(const json& data, std::string& out) {
  Fail(MapStreamErrorEvent(data), out);
}

void ResponsesStreamTranslator::Finish(std::string& out) {
  EnsureStarted(out);
  if (stop_reason_.empty()) {
    // message_stop without a stop reason: the message is incomplete, do not claim success.
    Fail(MapStreamError("api_error", kTruncatedMessage), out);
    return;
  }
  for (Block& block : blocks_) {
    CloseBlock(block, out);
  }
  const ResponseStatus status = StatusForStopReason(stop_reason_);
  snapshot_["status"] = status.status;
  snapshot_["incomplete_details"] = status.incomplete_details;
  snapshot_["output"] = output_;
  snapshot_["usage"] = ResponseUsage(usage_);
  Emit(status.status == "completed" ? "response.completed" : "response.incomplete",
       {{"response", snapshot_}}, out);
  done_ = true;
}

void ResponsesStreamTranslator::Fail(const UpstreamError& error, std::string& out) {
  EnsureStarted(out);
  error_ = error;
  const std::string code = error.code.empty() ? error.type : error.code;
  const std::string message = error.message.empty() ? std::string(kTruncatedMessage) : error.message;
  Emit("error", {{"code", code}, {"message", message}, {"param", nullptr}}, out);
  json finished = json::array();
  for (const auto& item : output_) {
    if (!item.is_null()) {
      finished.push_back(item);
    }
  }
  snapshot_["status"] = "failed";
  snapshot_["error"] = {{"code", code}, {"message", message}};
  snapshot_["output"] = std::move(finished);
  snapshot_["usage"] = ResponseUsage(usage_);
  Emit("response.failed", {{"response", snapshot_}}, out);
  done_ = true;
}

}  // namespace claudegate::translate
