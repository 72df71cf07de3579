#include "claudegate/translate/stream/stream_translator.hpp"

#include "claudegate/sse/encoder.hpp"
#include "claudegate/translate/response/chat_response.hpp"

namespace claudegate::translate {
namespace {

using anthropic::BlockType;
using anthropic::DeltaKind;

constexpr std::string_view kTruncatedMessage = "upstream stream ended unexpectedly";

}  // namespace

StreamTranslator::StreamTranslator(StreamOptions options) : options_(std::move(options)) {}

void StreamTranslator::OnEvent(const sse::Event& event, std::string& out) {
  if (done_) {
    return;
  }
  out_ = &out;
  reader_.Read(event, *this);
  out_ = nullptr;
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

void StreamTranslator::OnMessageStart(const anthropic::MessageStart& event) {
  if (event.id) {
    message_id_ = *event.id;
  }
  if (event.usage != nullptr) {
    UpdateUsage(usage_, *event.usage);
  }
  EnsureStarted(*out_);
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

StreamTranslator::Block* StreamTranslator::BlockAt(std::optional<std::size_t> index) {
  if (!index) {
    return nullptr;  // The reader bounds indexes (anthropic::kMaxBlockIndex).
  }
  if (*index >= blocks_.size()) {
    blocks_.resize(*index + 1);
  }
  return &blocks_[*index];
}

void StreamTranslator::OnBlockStart(const anthropic::BlockStart& event) {
  std::string& out = *out_;
  EnsureStarted(out);
  Block* block = BlockAt(event.index);
  if (block == nullptr || event.block == nullptr) {
    return;
  }
  *block = Block{};
  if (event.type == BlockType::kText) {
    block->kind = BlockKind::kText;
    if (event.text) {
      EmitText("content", *event.text, out);
    }
  } else if (event.type == BlockType::kThinking) {
    block->kind = BlockKind::kThinking;
    if (event.thinking) {
      EmitText("reasoning_content", *event.thinking, out);
    }
  } else if (event.type == BlockType::kToolUse) {
    block->kind = BlockKind::kToolUse;
    block->tool_index = next_tool_index_++;
    BeginChunk(out);
    out.append("{\"tool_calls\":[{\"index\":");
    out.append(std::to_string(block->tool_index));
    out.append(",\"id\":");
    AppendJsonString(out, event.id.value_or(""));
    out.append(",\"type\":\"function\",\"function\":{\"name\":");
    AppendJsonString(out, event.name.value_or(""));
    out.append(",\"arguments\":\"\"}}]}");
    EndChunk(out, {});
    // Anthropic sends `input: {}` here and the real input as deltas; a non-empty start input
    // (not seen in practice) is sent as the whole argument string.
    const nlohmann::json* input = event.input;
    if (input != nullptr && input->is_object() && !input->empty()) {
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

void StreamTranslator::OnDelta(const anthropic::Delta& event) {
  // signature_delta, citations_delta, deltas of server-tool blocks, unknown: nothing visible.
  if (Block* block = BlockAt(event.index)) {
    ApplyDelta(*block, event.kind, event.value, *out_);
  }
}

void StreamTranslator::ApplyDelta(Block& block, DeltaKind kind, std::string_view value,
                                  std::string& out) {
  if (kind == DeltaKind::kText && block.kind == BlockKind::kText) {
    EmitText("content", value, out);
  } else if (kind == DeltaKind::kThinking && block.kind == BlockKind::kThinking) {
    EmitText("reasoning_content", value, out);
  } else if (kind == DeltaKind::kInputJson && block.kind == BlockKind::kToolUse) {
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

void StreamTranslator::OnBlockStop(const anthropic::BlockStop& event) {
  std::string& out = *out_;
  Block* block = BlockAt(event.index);
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

void StreamTranslator::OnMessageDelta(const anthropic::MessageDelta& event) {
  if (event.stop_reason) {
    stop_reason_ = *event.stop_reason;
  }
  if (event.stop_explanation) {
    refusal_ = *event.stop_explanation;
  }
  if (event.usage != nullptr) {
    UpdateUsage(usage_, *event.usage);
  }
}

void StreamTranslator::OnMessageStop() { Finish(*out_); }

void StreamTranslator::OnError(const anthropic::ErrorEvent& event) {
  EmitError(MapStreamError(event.type.value_or("api_error"), event.message.value_or("")), *out_);
}

void StreamTranslator::OnPing() {
  if (options_.forward_pings) {
    sse::AppendComment(*out_, "ping");
  }
}

void StreamTranslator::OnMalformed(std::string_view /*name*/) {
  Abort("api_error", kMalformedEventMessage, *out_);
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
  if (!reader_.TakeLoneHighSurrogate()) {
    return;
  }
  // A lone high surrogate at the end of a block: replace it with U+FFFD (docs/anthropic-notes.md).
  if (block.kind == BlockKind::kText) {
    EmitText("content", "\xEF\xBF\xBD", out);
  } else if (block.kind == BlockKind::kThinking) {
    EmitText("reasoning_content", "\xEF\xBF\xBD", out);
  }
}

}  // namespace claudegate::translate
