#include "claudegate/translate/stream/responses_replay.hpp"

#include <string_view>

#include "claudegate/sse/encoder.hpp"

namespace claudegate::translate {
namespace {

using nlohmann::json;

class Replay {
 public:
  explicit Replay(std::int64_t starting_after) : starting_after_(starting_after) {}

  void Emit(std::string_view type, json payload) {
    const std::int64_t sequence = sequence_++;
    if (sequence <= starting_after_) {
      return;
    }
    payload["type"] = type;
    payload["sequence_number"] = sequence;
    sse::AppendEvent(out_, type, payload.dump(-1, ' ', false, json::error_handler_t::replace));
  }

  // One output item: its `added` form (empty content, in progress), its content, its `done`.
  void Item(const json& item, std::size_t index) {
    const std::string type = item.value("type", "");
    const json id = item.value("id", "");
    const json where = {{"item_id", id}, {"output_index", index}};
    Emit("response.output_item.added", {{"output_index", index}, {"item", Started(item, type)}});
    if (type == "message") {
      MessageParts(item, where);
    } else if (type == "reasoning") {
      SummaryParts(item, where);
    } else if (type == "function_call") {
      const std::string arguments = item.value("arguments", "");
      if (arguments != "{}") {  // a call without input streamed none (its "{}" is the done's)
        Emit("response.function_call_arguments.delta", With(where, "delta", arguments));
      }
      json done = With(where, "name", item.value("name", ""));
      done["arguments"] = arguments;
      Emit("response.function_call_arguments.done", std::move(done));
    } else if (type == "custom_tool_call") {
      const std::string input = item.value("input", "");
      Emit("response.custom_tool_call_input.delta", With(where, "delta", input));
      Emit("response.custom_tool_call_input.done", With(where, "input", input));
    } else if (type == "web_search_call") {
      Emit("response.web_search_call.in_progress", where);
      Emit("response.web_search_call.searching", where);
      Emit("response.web_search_call.completed", where);
    }
    Emit("response.output_item.done", {{"output_index", index}, {"item", item}});
  }

  std::string Take() { return std::move(out_); }

 private:
  static json With(json base, std::string_view key, json value) {
    base[std::string(key)] = std::move(value);
    return base;
  }

  // The item as `output_item.added` announces it: in progress, nothing generated yet.
  static json Started(json item, const std::string& type) {
    if (item.contains("status")) {
      item["status"] = "in_progress";
    }
    if (type == "message") {
      item["content"] = json::array();
    } else if (type == "reasoning") {
      item["summary"] = json::array();
      item.erase("encrypted_content");  // known only when the block ends
    } else if (type == "function_call") {
      item["arguments"] = "";
    } else if (type == "custom_tool_call") {
      item["input"] = "";
    } else if (type == "web_search_call") {
      // What the search was is known once the query has streamed in.
      return {{"type", type},
              {"id", item.value("id", "")},
              {"status", "in_progress"},
              {"action", {{"type", "search"}, {"query", ""}}}};
    }
    return item;
  }

  void MessageParts(const json& item, const json& where) {
    const auto content = item.find("content");
    if (content == item.end() || !content->is_array()) {
      return;
    }
    for (std::size_t i = 0; i < content->size(); ++i) {
      const json& part = (*content)[i];
      const json at = With(where, "content_index", i);
      if (part.value("type", "") != "output_text") {
        Emit("response.content_part.added", With(at, "part", part));
        Emit("response.content_part.done", With(at, "part", part));
        continue;
      }
      const std::string text = part.value("text", "");
      json empty = part;
      empty["text"] = "";
      empty["annotations"] = json::array();
      Emit("response.content_part.added", With(at, "part", std::move(empty)));
      if (!text.empty()) {
        json delta = With(at, "delta", text);
        delta["logprobs"] = json::array();
        Emit("response.output_text.delta", std::move(delta));
      }
      if (const auto annotations = part.find("annotations");
          annotations != part.end() && annotations->is_array()) {
        for (std::size_t k = 0; k < annotations->size(); ++k) {
          json added = With(at, "annotation_index", k);
          added["annotation"] = (*annotations)[k];
          Emit("response.output_text.annotation.added", std::move(added));
        }
      }
      json done = With(at, "text", text);
      done["logprobs"] = json::array();
      Emit("response.output_text.done", std::move(done));
      Emit("response.content_part.done", With(at, "part", part));
    }
  }

  void SummaryParts(const json& item, const json& where) {
    const auto summary = item.find("summary");
    if (summary == item.end() || !summary->is_array()) {
      return;
    }
    for (std::size_t i = 0; i < summary->size(); ++i) {
      const json& part = (*summary)[i];
      const std::string text = part.value("text", "");
      const json at = With(where, "summary_index", i);
      Emit("response.reasoning_summary_part.added",
           With(at, "part", {{"type", "summary_text"}, {"text", ""}}));
      if (!text.empty()) {
        Emit("response.reasoning_summary_text.delta", With(at, "delta", text));
      }
      Emit("response.reasoning_summary_text.done", With(at, "text", text));
      Emit("response.reasoning_summary_part.done", With(at, "part", part));
    }
  }

  std::int64_t starting_after_;
  std::int64_t sequence_ = 0;
  std::string out_;
};

}  // namespace

std::string ReplayResponseEvents(const nlohmann::json& response, std::int64_t starting_after) {
  Replay replay(starting_after);
  json snapshot = response;
  snapshot["status"] = "in_progress";
  snapshot["output"] = json::array();
  snapshot["usage"] = nullptr;
  snapshot["incomplete_details"] = nullptr;
  snapshot["error"] = nullptr;
  replay.Emit("response.created", {{"response", snapshot}});
  replay.Emit("response.in_progress", {{"response", std::move(snapshot)}});
  if (const auto output = response.find("output"); output != response.end() && output->is_array()) {
    for (std::size_t i = 0; i < output->size(); ++i) {
      replay.Item((*output)[i], i);
    }
  }
  const std::string status = response.value("status", "completed");
  const char* terminal = status == "incomplete" ? "response.incomplete"
                         : status == "failed"   ? "response.failed"
                                                : "response.completed";
  replay.Emit(terminal, {{"response", response}});
  return replay.Take();
}

}  // namespace claudegate::translate
