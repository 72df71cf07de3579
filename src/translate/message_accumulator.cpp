#include "claudegate/translate/message_accumulator.hpp"

#include "claudegate/translate/surrogate_repair.hpp"

#include "claudegate/translate/block_delta_scan.hpp"
#include "claudegate/translate/response_common.hpp"

namespace claudegate::translate {
namespace {

constexpr std::size_t kMaxBlockIndex = 4096;

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
  // Most events are text or argument deltas: read those without building a DOM.
  BlockDelta fast;
  if (ScanBlockDelta(event.data, scratch_, fast)) {
    ApplyDelta(fast.index, fast.kind, fast.value);
    return;
  }
  nlohmann::json data = nlohmann::json::parse(event.data, nullptr, false);
  if (data.is_discarded()) {  // a surrogate pair split across deltas, as the stream path repairs
    data = nlohmann::json::parse(RepairSurrogates(event.data, pending_high_surrogate_), nullptr,
                                 false);
  }
  if (!data.is_object()) {
    if (IsAnthropicStreamEvent(event.event)) {
      error_ = MapStreamError("api_error", kMalformedEventMessage);
      error_->status = 502;  // a broken response from upstream: bad gateway, as a truncated one
      done_ = true;
    }
    return;  // Unparseable data of an event we do not know: ignored.
  }
  const std::string* type = StringField(data, "type");
  if (type == nullptr) {
    return;
  }
  if (*type == "message_start") {
    if (auto it = data.find("message"); it != data.end() && it->is_object()) {
      message_ = std::move(*it);
    }
    if (!message_.contains("content") || !message_["content"].is_array()) {
      message_["content"] = nlohmann::json::array();
    }
    return;
  }
  if (*type == "error") {
    std::string_view err_type = "api_error";
    std::string_view err_message;
    if (const auto e = data.find("error"); e != data.end() && e->is_object()) {
      if (const std::string* t = StringField(*e, "type")) {
        err_type = *t;
      }
      if (const std::string* m = StringField(*e, "message")) {
        err_message = *m;
      }
    }
    error_ = MapStreamError(err_type, err_message);
    done_ = true;
    return;
  }
  if (*type == "message_stop") {
    done_ = true;
    return;
  }
  if (!message_.is_object()) {
    message_ = Skeleton();
  }
  if (*type == "message_delta") {
    if (const auto delta = data.find("delta"); delta != data.end() && delta->is_object()) {
      for (const auto& [key, value] : delta->items()) {
        if (!value.is_null()) {
          message_[key] = value;
        }
      }
    }
    if (const auto usage = data.find("usage"); usage != data.end() && usage->is_object()) {
      auto& target = message_["usage"];
      if (!target.is_object()) {
        target = nlohmann::json::object();
      }
      for (const auto& [key, value] : usage->items()) {
        if (!value.is_null()) {  // Cumulative totals: overwrite when present, never add.
          target[key] = value;
        }
      }
    }
    return;
  }
  const auto index_it = data.find("index");
  if (index_it == data.end() || !index_it->is_number_unsigned()) {
    return;
  }
  const auto index = index_it->get<std::size_t>();
  if (index >= kMaxBlockIndex) {
    return;
  }
  auto& content = message_["content"];
  if (*type == "content_block_start") {
    const auto block = data.find("content_block");
    if (block == data.end() || !block->is_object()) {
      return;
    }
    while (content.size() <= index) {
      content.push_back({{"type", "placeholder"}});
    }
    content[index] = *block;
    if (tool_json_.size() <= index) {
      tool_json_.resize(index + 1);
    }
    tool_json_[index].clear();
    return;
  }
  if (index >= content.size()) {
    return;
  }
  if (*type == "content_block_delta") {
    const auto delta = data.find("delta");
    if (delta == data.end() || !delta->is_object()) {
      return;
    }
    const std::string* delta_type = StringField(*delta, "type");
    if (delta_type == nullptr) {
      return;
    }
    const std::string* value = nullptr;
    DeltaKind kind = DeltaKind::kText;
    if (*delta_type == "text_delta") {
      value = StringField(*delta, "text");
    } else if (*delta_type == "thinking_delta") {
      kind = DeltaKind::kThinking;
      value = StringField(*delta, "thinking");
    } else if (*delta_type == "signature_delta") {
      kind = DeltaKind::kSignature;
      value = StringField(*delta, "signature");
    } else if (*delta_type == "input_json_delta") {
      kind = DeltaKind::kPartialJson;
      value = StringField(*delta, "partial_json");
    }
    if (value != nullptr) {
      ApplyDelta(index, kind, *value);
    }
  } else if (*type == "content_block_stop") {
    StopBlock(index);
  }
}

void MessageAccumulator::ApplyDelta(std::size_t index, DeltaKind kind, std::string_view value) {
  if (!message_.is_object()) {
    message_ = Skeleton();
  }
  if (index >= kMaxBlockIndex) {
    return;
  }
  auto& content = message_["content"];
  if (index >= content.size()) {
    return;
  }
  auto& block = content[index];
  switch (kind) {
    case DeltaKind::kText:
      AppendTo(block, "text", value);
      break;
    case DeltaKind::kThinking:
      AppendTo(block, "thinking", value);
      break;
    case DeltaKind::kSignature:
      AppendTo(block, "signature", value);
      break;
    case DeltaKind::kPartialJson:
      if (tool_json_.size() <= index) {
        tool_json_.resize(index + 1);  // blocks that came with message_start had no start event
      }
      tool_json_[index] += value;
      break;
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
