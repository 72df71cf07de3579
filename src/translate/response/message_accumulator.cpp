#include "claudegate/translate/response/message_accumulator.hpp"

#include "claudegate/translate/response/response_common.hpp"

namespace claudegate::translate {
namespace {

using anthropic::DeltaKind;

const std::string* StringField(const nlohmann::json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

void AppendTo(nlohmann::json& block, const char* key, std::string_view piece) {
  auto& field = block[key];
  if (!field.is_string()) {
    field = "";
  }
  field.get_ref<std::string&>() += piece;
}

nlohmann::json Skeleton() {
  return {{"type", "message"}, {"role", "assistant"}, {"content", nlohmann::json::array()}};
}

// Maps an UpstreamError's HTTP status back to an ErrorKind for Result<> consumers.
ErrorKind KindForStatus(unsigned status) {
  switch (status) {
    case 400:
      return ErrorKind::kInvalidRequest;
    case 403:
      return ErrorKind::kPermission;
    case 404:
      return ErrorKind::kNotFound;
    case 413:
      return ErrorKind::kPayloadTooLarge;
    case 429:
      return ErrorKind::kRateLimited;
    case 503:
      return ErrorKind::kServiceUnavailable;
    case 504:
      return ErrorKind::kUpstreamTimeout;
    case 500:
      return ErrorKind::kInternal;
    default:
      return ErrorKind::kUpstreamUnreachable;
  }
}

}  // namespace

void MessageAccumulator::OnEvent(const sse::Event& event) {
  if (done_) {
    return;
  }
  reader_.Read(event, *this);
}

void MessageAccumulator::OnMalformed(std::string_view /*name*/) {
  error_ = MapStreamError("api_error", kMalformedEventMessage);
  error_->status = 502;  // a broken response from upstream: bad gateway, as a truncated one
  done_ = true;
}

void MessageAccumulator::OnMessageStart(const anthropic::MessageStart& event) {
  if (event.message != nullptr) {
    message_ = std::move(*event.message);
  }
  if (!message_.contains("content") || !message_["content"].is_array()) {
    message_["content"] = nlohmann::json::array();
  }
}

void MessageAccumulator::OnError(const anthropic::ErrorEvent& event) {
  error_ = MapStreamError(event.type.value_or("api_error"), event.message.value_or(""));
  done_ = true;
}

void MessageAccumulator::OnMessageStop() { done_ = true; }

void MessageAccumulator::EnsureMessage() {
  if (!message_.is_object()) {
    message_ = Skeleton();
  }
}

void MessageAccumulator::OnMessageDelta(const anthropic::MessageDelta& event) {
  EnsureMessage();
  if (event.delta != nullptr) {
    for (const auto& [key, value] : event.delta->items()) {
      // Anthropic's delta carries stop_reason and stop_sequence
      // (docs/anthropic-notes.md#stream-grammar). The members the accumulator builds itself are
      // never replaced: a broken or hostile upstream turning `content` into a number used to throw
      // out of the next block start.
      if (value.is_null() || key == "content" || key == "usage" || key == "type") {
        continue;
      }
      message_[key] = value;
    }
  }
  if (event.usage != nullptr && event.usage->is_object()) {
    auto& target = message_["usage"];
    if (!target.is_object()) {
      target = nlohmann::json::object();
    }
    for (const auto& [key, value] : event.usage->items()) {
      if (!value.is_null()) {  // Cumulative totals: overwrite when present, never add.
        target[key] = value;
      }
    }
  }
}

void MessageAccumulator::OnBlockStart(const anthropic::BlockStart& event) {
  EnsureMessage();
  if (!event.index) {
    return;
  }
  const std::size_t index = *event.index;
  auto& content = message_["content"];
  if (event.block == nullptr) {
    return;
  }
  while (content.size() <= index) {
    content.push_back({{"type", "placeholder"}});
  }
  content[index] = std::move(*event.block);
  if (tool_json_.size() <= index) {
    tool_json_.resize(index + 1);
  }
  tool_json_[index].clear();
}

void MessageAccumulator::OnDelta(const anthropic::Delta& event) {
  EnsureMessage();
  if (!event.index) {
    return;
  }
  const std::size_t index = *event.index;
  auto& content = message_["content"];
  if (index >= content.size()) {
    return;
  }
  auto& block = content[index];
  switch (event.kind) {
    case DeltaKind::kText:
      AppendTo(block, "text", event.value);
      break;
    case DeltaKind::kThinking:
      AppendTo(block, "thinking", event.value);
      break;
    case DeltaKind::kSignature:
      AppendTo(block, "signature", event.value);
      break;
    case DeltaKind::kInputJson:
      if (tool_json_.size() <= index) {
        tool_json_.resize(index + 1);  // blocks that came with message_start had no start event
      }
      tool_json_[index] += event.value;
      break;
    case DeltaKind::kCitations:
      // One citation per delta, appended to the text block's `citations`
      // (docs/anthropic-notes.md#web-search).
      if (event.delta != nullptr && event.delta->contains("citation") && block.is_object()) {
        auto& list = block["citations"];
        if (!list.is_array()) {
          list = nlohmann::json::array();
        }
        list.push_back((*event.delta)["citation"]);
      }
      break;
    case DeltaKind::kOther:
      break;
  }
}

void MessageAccumulator::OnBlockStop(const anthropic::BlockStop& event) {
  EnsureMessage();
  if (event.index && *event.index < message_["content"].size()) {
    StopBlock(*event.index);
  }
}

void MessageAccumulator::StopBlock(std::size_t index) {
  auto& block = message_["content"][index];
  const std::string* type = StringField(block, "type");
  if (type == nullptr || (*type != "tool_use" && *type != "server_tool_use") ||
      index >= tool_json_.size() || tool_json_[index].empty()) {
    return;
  }
  nlohmann::json input = nlohmann::json::parse(tool_json_[index], nullptr, false);
  if (input.is_discarded()) {
    block["partial_json"] = std::move(tool_json_[index]);
  } else {
    block["input"] = std::move(input);
  }
  tool_json_[index].clear();
}

Result<nlohmann::json> MessageAccumulator::TakeMessage() {
  if (error_) {
    return Error{KindForStatus(error_->status), error_->message, "", error_->code};
  }
  const auto stop = message_.is_object() ? message_.find("stop_reason") : message_.end();
  if (!message_.is_object() || stop == message_.end() || !stop->is_string()) {
    return Error{ErrorKind::kUpstreamUnreachable, "upstream stream ended unexpectedly", "", ""};
  }
  // Blocks whose stop never arrived still get their tool input.
  for (std::size_t i = 0; i < tool_json_.size(); ++i) {
    if (!tool_json_[i].empty()) {
      StopBlock(i);
    }
  }
  auto& content = message_["content"];
  nlohmann::json kept = nlohmann::json::array();
  for (auto& block : content) {
    if (block.value("type", "") != "placeholder") {
      kept.push_back(std::move(block));
    }
  }
  content = std::move(kept);
  return std::move(message_);
}

}  // namespace claudegate::translate
