// The tool blocks of ResponsesStreamTranslator (responses_stream.hpp): function calls under the
// client's names, custom tool calls streamed as strings, web searches, and text citations.
#include "claudegate/translate/response/web_search_output.hpp"
#include "claudegate/translate/stream/responses_stream.hpp"

namespace claudegate::translate {

using anthropic::BlockType;
using nlohmann::json;

json ResponsesStreamTranslator::StartToolBlock(Block& block, const anthropic::BlockStart& event) {
  block.call_id = event.id.value_or("");
  block.name = event.name.value_or("");
  if (event.type == BlockType::kServerToolUse) {
    if (!IsWebSearchUse(*event.block)) {
      return nullptr;
    }
    block.kind = BlockKind::kWebSearch;
    block.item_id = "ws_" + block.call_id;
    block.citations = *event.block;  // The use block, kept for the item and its round trip.
    return WebSearchCallItem(block.citations, nullptr);
  }
  const ClientTool* tool = names_.Find(block.name);
  if (tool != nullptr && tool->kind == ClientToolKind::kCustom) {
    block.kind = BlockKind::kCustomTool;
    block.item_id = "ctc_" + block.call_id;
    block.custom_input.emplace(std::string(kCustomInputKey));
  } else {
    block.kind = BlockKind::kToolUse;
    block.item_id = "fc_" + block.call_id;
  }
  return ToolCallItem(block.call_id, block.name, "", "in_progress", names_);
}

void ResponsesStreamTranslator::AddToolText(Block& block, std::string_view text, std::string& out) {
  const std::size_t index = block.output_index;
  if (block.kind == BlockKind::kToolUse) {
    Emit("response.function_call_arguments.delta",
         {{"item_id", block.item_id}, {"output_index", index}, {"delta", text}}, out);
  } else if (block.kind == BlockKind::kCustomTool && block.custom_input) {
    std::string decoded;
    block.custom_input->Feed(text, decoded);
    if (!decoded.empty()) {
      Emit("response.custom_tool_call_input.delta",
           {{"item_id", block.item_id}, {"output_index", index}, {"delta", std::move(decoded)}},
           out);
    }
  }  // Web search: the query JSON is only read at the block's end.
}

json ResponsesStreamTranslator::CloseToolBlock(Block& block, std::string& out) {
  const std::size_t index = block.output_index;
  if (block.kind == BlockKind::kWebSearch) {
    if (!block.input_done) {
      block.input_done = true;
      json input = json::parse(block.text, nullptr, false);
      if (input.is_object()) {
        block.citations["input"] = std::move(input);
      }
      if (block.result.is_null()) {
        block.open = true;  // The item ends with its web_search_tool_result block.
        return nullptr;
      }
    }
    if (!block.result.is_null()) {
      Emit("response.web_search_call.completed",
           {{"item_id", block.item_id}, {"output_index", index}}, out);
    }
    return WebSearchCallItem(block.citations, block.result);
  }
  // Clients JSON.parse() function arguments; an empty string would fail there.
  const std::string arguments = block.text.empty() ? "{}" : block.text;
  json item = ToolCallItem(block.call_id, block.name, arguments, "completed", names_);
  if (block.kind == BlockKind::kCustomTool) {
    Emit("response.custom_tool_call_input.done",
         {{"item_id", block.item_id}, {"output_index", index}, {"input", item["input"]}}, out);
  } else {
    Emit("response.function_call_arguments.done",
         {{"item_id", block.item_id},
          {"output_index", index},
          {"name", item["name"]},
          {"arguments", arguments}},
         out);
  }
  return item;
}

void ResponsesStreamTranslator::OnServerToolResult(const json& result, std::string& out) {
  const std::string use_id = result.value("tool_use_id", "");
  for (Block& block : blocks_) {
    if (block.kind == BlockKind::kWebSearch && block.open && block.call_id == use_id) {
      block.result = result;
      CloseBlock(block, out);
      return;
    }
  }
}

void ResponsesStreamTranslator::EmitAnnotations(const Block& block, json& part, std::string& out) {
  if (!block.citations.is_array()) {
    return;
  }
  json annotations = UrlCitations(block.citations, 0, CodePointCount(block.text));
  for (std::size_t i = 0; i < annotations.size(); ++i) {
    Emit("response.output_text.annotation.added",
         {{"item_id", block.item_id},
          {"output_index", block.output_index},
          {"content_index", 0},
          {"annotation_index", i},
          {"annotation", annotations[i]}},
         out);
  }
  part["annotations"] = std::move(annotations);
}

}  // namespace claudegate::translate
