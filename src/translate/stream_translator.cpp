#include "claudegate/translate/stream_translator.hpp"

#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/block_delta_scan.hpp"
#include "claudegate/translate/chat_response.hpp"
#include "claudegate/translate/surrogate_repair.hpp"

namespace claudegate::translate {
namespace {

constexpr std::string_view kTruncatedMessage = "upstream stream ended unexpectedly";
constexpr std::size_t kMaxBlockIndex = 4096;  // Bounds the block table against hostile indexes.

const std::string* StringField(const nlohmann::json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

}  // namespace

StreamTranslator::StreamTranslator(StreamOptions options) : options_(std::move(options)) {}

void StreamTranslator::OnEvent(const sse::Event& event, std::string& out) {
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
  nlohmann::json data = nlohmann::json::parse(event.data, nullptr, false);
  if (data.is_discarded()) {
    data = nlohmann::json::parse(RepairSurrogates(event.data, pending_high_surrogate_), nullptr,
                                 false);
  }
  // The `type` inside the data is authoritative; the SSE `event:` name repeats it.
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
    if (options_.forward_pings) {
      sse::AppendComment(out, "ping");
    }
  } else if (type == "message_start") {
    HandleMessageStart(data, out);
  } else if (type == "content_block_start") {
    HandleBlockStart(data, out);
  } else if (type == "content_block_stop") {
    HandleBlockStop(data, out);
  } else if (type == "message_delta") {
    HandleMessageDelta(data);
  } else if (type == "message_stop") {
    Finish(out);
  } else if (type == "error") {
    HandleError(data, out);
  }
}

void StreamTranslator::OnUpstreamEnd(std::string& out) {
  if (done_) {
    return;
  }
  if (!stop_reason_.empty()) {
    Finish(out);
    return;
  }
  EmitError(MapStreamError("api_error", kTruncatedMessage), out);
}

void StreamTranslator::Abort(std::string_view type, std::string_view message, std::string& out) {
  if (done_) {
    return;
  }
  UpstreamError error = MapStreamError("api_error", message);
  if (!type.empty()) {
    error.type = std::string(type);
    nlohmann::json body = nlohmann::json::parse(error.openai_body);
    body["error"]["type"] = error.type;
    error.openai_body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  EmitError(error, out);
}

void StreamTranslator::HandleMessageStart(const nlohmann::json& data, std::string& out) {
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

void StreamTranslator::EnsureStarted(std::string& out) {
  if (started_) {
    return;
  }
  started_ = true;
  prefix_.clear();
  prefix_.append("{\"id\":");
  AppendJsonString(prefix_, ChatCompletionId(message_id_));
  prefix_.append(",\"object\":\"chat.completion.chunk\",\"created\":");
  prefix_.append(std::to_string(options_.created));
  prefix_.append(",\"model\":");
  AppendJsonString(prefix_, options_.model);
  prefix_.append(",\"choices\":[{\"index\":0,\"delta\":");
  BeginChunk(out);
  out.append("{\"role\":\"assistant\",\"content\":\"\"}");
  EndChunk(out, {});
}

StreamTranslator::Block* StreamTranslator::BlockAt(const nlohmann::json& data) {
  const auto index = data.find("index");
  if (index == data.end() || !index->is_number_unsigned()) {
    return nullptr;
  }
  return BlockAt(index->get<std::size_t>());
}

StreamTranslator::Block* StreamTranslator::BlockAt(std::size_t i) {
  if (i >= kMaxBlockIndex) {
    return nullptr;
  }
  if (i >= blocks_.size()) {
    blocks_.resize(i + 1);
  }
  return &blocks_[i];
}

void StreamTranslator::HandleBlockStart(const nlohmann::json& data, std::string& out) {
  EnsureStarted(out);
  Block* block = BlockAt(data);
  const auto content = data.find("content_block");
  if (block == nullptr || content == data.end() || !content->is_object()) {
    return;
  }
  *block = Block{};
  const std::string* type = StringField(*content, "type");
  if (type == nullptr) {
    return;
  }
  if (*type == "text") {
    block->kind = BlockKind::kText;
    if (const std::string* text = StringField(*content, "text"); text != nullptr) {
      EmitText("content", *text, out);
    }
  } else if (*type == "thinking") {
    block->kind = BlockKind::kThinking;
    if (const std::string* text = StringField(*content, "thinking"); text != nullptr) {
      EmitText("reasoning_content", *text, out);
    }
  } else if (*type == "tool_use") {
    block->kind = BlockKind::kToolUse;
    block->tool_index = next_tool_index_++;
    const std::string* id = StringField(*content, "id");
    const std::string* name = StringField(*content, "name");
    BeginChunk(out);
    out.append("{\"tool_calls\":[{\"index\":");
    out.append(std::to_string(block->tool_index));
    out.append(",\"id\":");
    AppendJsonString(out, id != nullptr ? *id : "");
    out.append(",\"type\":\"function\",\"function\":{\"name\":");
    AppendJsonString(out, name != nullptr ? *name : "");
    out.append(",\"arguments\":\"\"}}]}");
    EndChunk(out, {});
    // Anthropic sends `input: {}` here and the real input as deltas; a non-empty start input
    // (not seen in practice) is sent as the whole argument string.
    const auto input = content->find("input");
    if (input != content->end() && input->is_object() && !input->empty()) {
      const std::string args =
          input->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      BeginChunk(out);
      out.append("{\"tool_calls\":[{\"index\":");
      out.append(std::to_string(block->tool_index));
      out.append(",\"function\":{\"arguments\":");
      AppendJsonString(out, args);
      out.append("}}]}");
      EndChunk(out, {});
      block->args_seen = true;
    }
  }
  // redacted_thinking, server_tool_use, *_tool_result, unknown: nothing visible.
}

void StreamTranslator::HandleBlockDelta(const nlohmann::json& data, std::string& out) {
  Block* block = BlockAt(data);
  const auto delta = data.find("delta");
  if (block == nullptr || delta == data.end() || !delta->is_object()) {
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
  } else if (*type == "input_json_delta") {
    kind = DeltaKind::kPartialJson;
    value = StringField(*delta, "partial_json");
  }
  // signature_delta, citations_delta, deltas of server-tool blocks, unknown: nothing visible.
  if (value != nullptr) {
    ApplyDelta(*block, kind, *value, out);
  }
}

void StreamTranslator::ApplyDelta(Block& block, DeltaKind kind, std::string_view value,
                                  std::string& out) {
  if (kind == DeltaKind::kText && block.kind == BlockKind::kText) {
    EmitText("content", value, out);
  } else if (kind == DeltaKind::kThinking && block.kind == BlockKind::kThinking) {
    EmitText("reasoning_content", value, out);
  } else if (kind == DeltaKind::kPartialJson && block.kind == BlockKind::kToolUse) {
    if (value.empty()) {
      return;
    }
    block.args_seen = true;
    BeginChunk(out);
    out.append("{\"tool_calls\":[{\"index\":");
    out.append(std::to_string(block.tool_index));
    out.append(",\"function\":{\"arguments\":");
    AppendJsonString(out, value);
    out.append("}}]}");
    EndChunk(out, {});
  }
}

void StreamTranslator::HandleBlockStop(const nlohmann::json& data, std::string& out) {
  Block* block = BlockAt(data);
  if (block == nullptr) {
    return;
  }
  FlushPendingSurrogate(*block, out);
  if (block->kind == BlockKind::kToolUse && !block->args_seen) {
    // Clients json.loads() the arguments; an empty string would fail there.
    BeginChunk(out);
    out.append("{\"tool_calls\":[{\"index\":");
    out.append(std::to_string(block->tool_index));
    out.append(",\"function\":{\"arguments\":\"{}\"}}]}");
    EndChunk(out, {});
    block->args_seen = true;
  }
}

void StreamTranslator::HandleMessageDelta(const nlohmann::json& data) {
  if (const auto delta = data.find("delta"); delta != data.end() && delta->is_object()) {
    if (const std::string* stop = StringField(*delta, "stop_reason")) {
      stop_reason_ = *stop;
    }
    if (const auto details = delta->find("stop_details");
        details != delta->end() && details->is_object()) {
      if (const std::string* explanation = StringField(*details, "explanation")) {
        refusal_ = *explanation;
      }
    }
  }
  if (const auto usage = data.find("usage"); usage != data.end()) {
    UpdateUsage(usage_, *usage);
  }
}

void StreamTranslator::HandleError(const nlohmann::json& data, std::string& out) {
  EmitError(MapStreamErrorEvent(data), out);
}

void StreamTranslator::Finish(std::string& out) {
  EnsureStarted(out);
  if (stop_reason_.empty()) {
    // message_stop without a stop reason: the message is incomplete, do not claim success.
    EmitError(MapStreamError("api_error", kTruncatedMessage), out);
    return;
  }
  for (const Block& block : blocks_) {
    FlushPendingSurrogate(block, out);
  }
  BeginChunk(out);
  if (stop_reason_ == "refusal") {
    out.append("{\"refusal\":");
    AppendJsonString(out, refusal_.empty() ? kGenericRefusal : std::string_view(refusal_));
    out.push_back('}');
  } else {
    out.append("{}");
  }
  EndChunk(out, FinishReason(stop_reason_, next_tool_index_ > 0));
  if (options_.include_usage) {
    out.append("data: ");
    out.append(prefix_, 0, prefix_.size() - std::string_view("[{\"index\":0,\"delta\":").size());
    out.append("[],\"usage\":");
    AppendOpenAiUsage(out, usage_);
    out.append("}\n\n");
  }
  out.append(sse::kDone);
  done_ = true;
}

void StreamTranslator::EmitError(const UpstreamError& error, std::string& out) {
  error_ = error;
  sse::AppendData(out, error.openai_body);
  out.append(sse::kDone);
  done_ = true;
}

void StreamTranslator::BeginChunk(std::string& out) const {
  out.append("data: ");
  out.append(prefix_);
}

void StreamTranslator::EndChunk(std::string& out, std::string_view finish_reason) const {
  out.append(",\"logprobs\":null,\"finish_reason\":");
  if (finish_reason.empty()) {
    out.append("null");
  } else {
    out.push_back('"');
    out.append(finish_reason);
    out.push_back('"');
  }
  out.append(options_.include_usage ? "}],\"usage\":null}\n\n" : "}]}\n\n");
}

void StreamTranslator::EmitText(std::string_view key, std::string_view text, std::string& out) {
  if (text.empty()) {
    return;
  }
  BeginChunk(out);
  out.append("{\"");
  out.append(key);
  out.append("\":");
  AppendJsonString(out, text);
  out.push_back('}');
  EndChunk(out, {});
}

void StreamTranslator::FlushPendingSurrogate(const Block& block, std::string& out) {
  if (pending_high_surrogate_.empty()) {
    return;
  }
  pending_high_surrogate_.clear();
  // A lone high surrogate at the end of a block: replace it with U+FFFD (edge case 12).
  if (block.kind == BlockKind::kText) {
    EmitText("content", "\xEF\xBF\xBD", out);
  } else if (block.kind == BlockKind::kThinking) {
    EmitText("reasoning_content", "\xEF\xBF\xBD", out);
  }
}

}  // namespace claudegate::translate
