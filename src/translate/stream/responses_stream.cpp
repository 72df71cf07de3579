#include "claudegate/translate/stream/responses_stream.hpp"

#include "claudegate/sse/encoder.hpp"

namespace claudegate::translate {
namespace {

using anthropic::BlockType;
using anthropic::DeltaKind;
using nlohmann::json;

constexpr std::string_view kTruncatedMessage = "upstream stream ended unexpectedly";
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace

ResponsesStreamTranslator::ResponsesStreamTranslator(ResponseMeta meta, bool forward_pings)
    : meta_(std::move(meta)),
      names_(ToolNameMap::FromResponsesTools(
          meta_.echo.is_object() ? meta_.echo.value("tools", json()) : json())),
      forward_pings_(forward_pings) {}

void ResponsesStreamTranslator::OnEvent(const sse::Event& event, std::string& out) {
  if (done_) {
    return;
  }
  out_ = &out;
  reader_.Read(event, *this);
  out_ = nullptr;
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

void ResponsesStreamTranslator::OnMessageStart(const anthropic::MessageStart& event) {
  if (event.id) {
    message_id_ = *event.id;
  }
  if (event.usage != nullptr) {
    UpdateUsage(usage_, *event.usage);
  }
  EnsureStarted(*out_);
}

void ResponsesStreamTranslator::EnsureStarted(std::string& out) {
  if (started_) {
    return;
  }
  started_ = true;
  id_base_ = ResponseIdBase(meta_, message_id_);
  snapshot_ = ResponseSkeleton(meta_, ResponseId(id_base_), "in_progress");
  Emit("response.created", {{"response", snapshot_}}, out);
  Emit("response.in_progress", {{"response", snapshot_}}, out);
}

ResponsesStreamTranslator::Block* ResponsesStreamTranslator::BlockAt(
    std::optional<std::size_t> index) {
  if (!index) {
    return nullptr;  // The reader bounds indexes (anthropic::kMaxBlockIndex).
  }
  if (*index >= blocks_.size()) {
    blocks_.resize(*index + 1);
  }
  return &blocks_[*index];
}

void ResponsesStreamTranslator::OnBlockStart(const anthropic::BlockStart& event) {
  std::string& out = *out_;
  EnsureStarted(out);
  Block* block = BlockAt(event.index);
  if (block == nullptr || event.block == nullptr) {
    return;
  }
  if (block->open) {
    CloseBlock(*block, out);  // A repeated index: finish the old item first.
  }
  *block = Block{};
  const std::size_t index = next_output_index_;
  json item;
  if (event.type == BlockType::kText) {
    block->kind = BlockKind::kText;
    block->item_id = OutputItemId("msg", id_base_, index);
    item = MessageItem(block->item_id, nullptr, "in_progress");
  } else if (event.type == BlockType::kThinking || event.type == BlockType::kRedactedThinking) {
    block->kind = event.type == BlockType::kThinking ? BlockKind::kThinking : BlockKind::kRedacted;
    block->item_id = OutputItemId("rs", id_base_, index);
    item = ReasoningItem(block->item_id, nullptr, "");
    if (event.data && block->kind == BlockKind::kRedacted) {
      block->text = *event.data;
    }
  } else if (event.type == BlockType::kToolUse || event.type == BlockType::kServerToolUse) {
    item = StartToolBlock(*block, event);
    if (item.is_null()) {
      return;  // A server tool other than web search: nothing visible.
    }
  } else {
    // Upstream JSON: `value()` would throw for a `type` that is not a string (found by
    // fuzz_event_reader).
    const auto type = event.block->find("type");
    if (type != event.block->end() && type->is_string() && *type == "web_search_tool_result") {
      OnServerToolResult(*event.block, out);
    }
    return;  // *_tool_result, unknown: no item of their own.
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
    if (event.text) {
      AddText(*block, *event.text, out);
    }
  } else if (block->kind == BlockKind::kThinking) {
    if (event.thinking) {
      AddText(*block, *event.thinking, out);
    }
  } else if (block->kind == BlockKind::kWebSearch) {
    Emit("response.web_search_call.in_progress",
         {{"item_id", block->item_id}, {"output_index", index}}, out);
    Emit("response.web_search_call.searching",
         {{"item_id", block->item_id}, {"output_index", index}}, out);
  } else if (block->kind == BlockKind::kToolUse || block->kind == BlockKind::kCustomTool) {
    // Anthropic sends `input: {}` here and the real input as deltas; a non-empty start input
    // (not seen in practice) is sent as the whole argument string.
    const json* input = event.input;
    if (input != nullptr && input->is_object() && !input->empty()) {
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
    case BlockKind::kCustomTool:
    case BlockKind::kWebSearch:
      AddToolText(block, text, out);
      break;
    default:
      break;
  }
}

void ResponsesStreamTranslator::OnDelta(const anthropic::Delta& event) {
  // Unknown deltas: nothing visible. Citations are kept for the text block's end.
  Block* block = BlockAt(event.index);
  if (block == nullptr) {
    return;
  }
  if (event.kind == DeltaKind::kCitations) {
    if (block->open && block->kind == BlockKind::kText && event.delta != nullptr &&
        event.delta->contains("citation")) {
      if (!block->citations.is_array()) {
        block->citations = json::array();
      }
      block->citations.push_back((*event.delta)["citation"]);
    }
    return;
  }
  ApplyDelta(*block, event.kind, event.value, *out_);
}

void ResponsesStreamTranslator::OnBlockStop(const anthropic::BlockStop& event) {
  if (Block* block = BlockAt(event.index)) {
    CloseBlock(*block, *out_);
  }
}

void ResponsesStreamTranslator::ApplyDelta(Block& block, DeltaKind kind, std::string_view value,
                                           std::string& out) {
  if (!block.open) {
    return;
  }
  if ((kind == DeltaKind::kText && block.kind == BlockKind::kText) ||
      (kind == DeltaKind::kThinking && block.kind == BlockKind::kThinking) ||
      (kind == DeltaKind::kInputJson &&
       (block.kind == BlockKind::kToolUse || block.kind == BlockKind::kCustomTool ||
        block.kind == BlockKind::kWebSearch))) {
    AddText(block, value, out);
  } else if (kind == DeltaKind::kSignature && block.kind == BlockKind::kThinking) {
    block.signature += value;
  }
}

void ResponsesStreamTranslator::CloseBlock(Block& block, std::string& out) {
  if (!block.open) {
    return;
  }
  if (reader_.TakeLoneHighSurrogate()) {
    // A lone high surrogate at the end of the block (docs/anthropic-notes.md).
    AddText(block, kReplacementChar, out);
  }
  block.open = false;
  const std::size_t index = block.output_index;
  json item;
  switch (block.kind) {
    case BlockKind::kText: {
      json part = OutputTextPart(block.text);
      EmitAnnotations(block, part, out);
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
            {"part", part}},
           out);
      item = MessageItem(block.item_id, &block.text, "completed");
      item["content"][0] = std::move(part);
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
      item =
          ReasoningItem(block.item_id, nullptr, std::string(kRedactedThinkingPrefix) + block.text);
      break;
    case BlockKind::kToolUse:
    case BlockKind::kCustomTool:
    case BlockKind::kWebSearch:
      item = CloseToolBlock(block, out);
      if (item.is_null()) {
        return;  // A web search waiting for its result block.
      }
      break;
    case BlockKind::kOther:
      return;
  }
  while (output_.size() <= index) {
    output_.push_back(nullptr);
  }
  output_[index] = item;
  Emit("response.output_item.done", {{"output_index", index}, {"item", std::move(item)}}, out);
}

void ResponsesStreamTranslator::OnMessageDelta(const anthropic::MessageDelta& event) {
  if (event.stop_reason) {
    stop_reason_ = *event.stop_reason;
  }
  if (event.usage != nullptr) {
    UpdateUsage(usage_, *event.usage);
  }
}

void ResponsesStreamTranslator::OnMessageStop() { Finish(*out_); }

void ResponsesStreamTranslator::OnError(const anthropic::ErrorEvent& event) {
  Fail(MapStreamError(event.type.value_or("api_error"), event.message.value_or("")), *out_);
}

void ResponsesStreamTranslator::OnPing() {
  if (forward_pings_) {
    sse::AppendComment(*out_, "ping");
  }
}

void ResponsesStreamTranslator::OnMalformed(std::string_view /*name*/) {
  Abort("api_error", kMalformedEventMessage, *out_);
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
  const std::string message =
      error.message.empty() ? std::string(kTruncatedMessage) : error.message;
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
