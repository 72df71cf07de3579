#include "claudegate/translate/response/web_search_output.hpp"

#include <string>

namespace claudegate::translate {
namespace {

using nlohmann::json;

std::string StringOr(const json& obj, std::string_view key) {
  const auto it = obj.is_object() ? obj.find(key) : obj.end();
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

bool IsWebSearchUse(const json& block) {
  return StringOr(block, "type") == "server_tool_use" && StringOr(block, "name") == "web_search";
}

json WebSearchCallItem(const json& server_tool_use, const json& result) {
  json action = {{"type", "search"}};
  const auto input = server_tool_use.find("input");
  if (input != server_tool_use.end() && input->is_object()) {
    action["query"] = StringOr(*input, "query");
  }
  std::string status = result.is_null() ? "in_progress" : "completed";
  if (result.is_object()) {
    const auto content = result.find("content");
    if (content != result.end() && content->is_array()) {
      json sources = json::array();
      for (const auto& entry : *content) {
        if (StringOr(entry, "type") == "web_search_result") {
          sources.push_back({{"type", "url"}, {"url", StringOr(entry, "url")}});
        }
      }
      action["sources"] = std::move(sources);
    } else {
      status = "failed";  // `web_search_tool_result_error` (content is an object).
    }
  }
  json item = {{"id", "ws_" + StringOr(server_tool_use, "id")},
               {"type", "web_search_call"},
               {"status", status},
               {"action", std::move(action)}};
  if (result.is_object()) {
    item[kWebSearchBlocksField] = json::array({server_tool_use, result});
  }
  return item;
}

std::size_t CodePointCount(std::string_view text) {
  std::size_t count = 0;
  for (char c : text) {
    count += (static_cast<unsigned char>(c) & 0xC0U) != 0x80U ? 1 : 0;
  }
  return count;
}

json UrlCitations(const json& citations, std::size_t start, std::size_t end) {
  json out = json::array();
  if (!citations.is_array()) {
    return out;
  }
  for (const auto& citation : citations) {
    if (StringOr(citation, "type") != "web_search_result_location") {
      continue;
    }
    const std::string url = StringOr(citation, "url");
    bool seen = false;
    for (const auto& existing : out) {
      seen = seen || existing["url"] == url;
    }
    if (!seen) {
      out.push_back({{"type", "url_citation"},
                     {"start_index", start},
                     {"end_index", end},
                     {"url", url},
                     {"title", StringOr(citation, "title")}});
    }
  }
  return out;
}

json ChatUrlCitations(const json& citations, std::size_t start, std::size_t end) {
  json out = json::array();
  for (auto& annotation : UrlCitations(citations, start, end)) {
    annotation.erase("type");
    out.push_back({{"type", "url_citation"}, {"url_citation", std::move(annotation)}});
  }
  return out;
}

}  // namespace claudegate::translate
