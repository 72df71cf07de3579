#include "claudegate/translate/request/cache_breakpoints.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <vector>

namespace claudegate::translate {
namespace {

using json = nlohmann::json;
using config::CacheInjectionPoint;
using config::CacheTtl;

// Anthropic: "A maximum of 4 blocks with cache_control may be provided."
// https://platform.claude.com/docs/en/build-with-claude/prompt-caching
constexpr std::size_t kMaxBreakpoints = 4;

// Block types that accept `cache_control`. Thinking and redacted-thinking blocks do not (Anthropic
// answers 400), and a type this list does not know is skipped rather than risked.
constexpr std::array<std::string_view, 8> kMarkableTypes = {
    "text",     "image",       "document",        "search_result",
    "tool_use", "tool_result", "server_tool_use", "web_search_tool_result",
};

enum class Area { kTools, kSystem, kMessages };

// One block of the prompt in Anthropic's order (tools → system → messages), which is the order
// prefixes are matched in. A string `system` or `content` counts as one text block.
struct Block {
  Area area;
  std::size_t message = 0;  // Index into `messages` (kMessages only).
  std::size_t index = 0;    // Index into `tools`, `system` or the message's `content`.
  bool markable = false;
};

bool HasNonBlank(const json& text) {
  return text.is_string() &&
         text.get_ref<const std::string&>().find_first_not_of(" \t\r\n") != std::string::npos;
}

bool IsMarkable(const json& block) {
  if (!block.is_object()) {
    return false;
  }
  const auto type = block.find("type");
  if (type == block.end() || !type->is_string()) {
    return false;
  }
  const auto& name = type->get_ref<const std::string&>();
  if (std::find(kMarkableTypes.begin(), kMarkableTypes.end(), name) == kMarkableTypes.end()) {
    return false;
  }
  // "cache_control cannot be set for empty text blocks" (Anthropic 400).
  return name != "text" || HasNonBlank(block.value("text", json()));
}

const json* Find(const json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return nullptr;
  }
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

class Prompt {
 public:
  explicit Prompt(json& body) : body_(body) { Flatten(); }

  [[nodiscard]] const std::vector<Block>& blocks() const { return blocks_; }
  [[nodiscard]] std::size_t message_count() const { return message_begin_.size(); }

  [[nodiscard]] std::string_view Role(std::size_t message) const {
    const json* role = Find((*Find(body_, "messages"))[message], "role");
    return role != nullptr && role->is_string()
               ? std::string_view(role->get_ref<const std::string&>())
               : std::string_view();
  }

  // The last markable block at a position < `end` whose area is `area`.
  [[nodiscard]] std::optional<std::size_t> LastMarkable(Area area, std::size_t end) const {
    for (std::size_t i = std::min(end, blocks_.size()); i > 0; --i) {
      const Block& block = blocks_[i - 1];
      if (block.area == area && block.markable) {
        return i - 1;
      }
    }
    return std::nullopt;
  }
  [[nodiscard]] std::optional<std::size_t> LastMarkable(Area area) const {
    return LastMarkable(area, blocks_.size());
  }

  // The last markable block of message `m` itself.
  [[nodiscard]] std::optional<std::size_t> LastMarkableInMessage(std::size_t m) const {
    const auto found = LastMarkable(Area::kMessages, MessageEnd(m));
    if (found && blocks_[*found].message == m) {
      return found;
    }
    return std::nullopt;
  }

  // The last markable `tool_result` block of message `m`.
  [[nodiscard]] std::optional<std::size_t> LastToolResultInMessage(std::size_t m) const {
    const json* content = Find((*Find(body_, "messages"))[m], "content");
    if (content == nullptr || !content->is_array()) {
      return std::nullopt;
    }
    for (std::size_t i = MessageEnd(m); i > message_begin_[m]; --i) {
      const Block& block = blocks_[i - 1];
      if (block.markable && (*content)[block.index].value("type", "") == "tool_result") {
        return i - 1;
      }
    }
    return std::nullopt;
  }

  // Where the request before this one ended: the last markable block before the last assistant
  // message that comes before message `limit`. An agent's next request is the previous one plus
  // the assistant's answer plus the user's reply (tool results or text), so this is exactly the
  // block the previous request's tail breakpoint was on, however many blocks the turn added.
  [[nodiscard]] std::optional<std::size_t> TurnEndBefore(std::size_t limit) const {
    for (std::size_t a = std::min(limit, message_count()); a > 0; --a) {
      if (Role(a - 1) == "assistant") {
        return LastMarkable(Area::kMessages, message_begin_[a - 1]);
      }
    }
    return std::nullopt;
  }

  [[nodiscard]] std::size_t MessageEnd(std::size_t m) const {
    return m + 1 < message_begin_.size() ? message_begin_[m + 1] : blocks_.size();
  }

  // Adds `control` to the block, promoting a string system/content to one text block first.
  void Mark(const Block& block, const json& control) {
    switch (block.area) {
      case Area::kTools:
        body_["tools"][block.index]["cache_control"] = control;
        return;
      case Area::kSystem:
        MarkIn(body_["system"], block.index, control);
        return;
      case Area::kMessages:
        MarkIn(body_["messages"][block.message]["content"], block.index, control);
        return;
    }
  }

 private:
  static void MarkIn(json& content, std::size_t index, const json& control) {
    if (content.is_string()) {
      content = json::array({{{"type", "text"}, {"text", content.get<std::string>()}}});
    }
    content[index]["cache_control"] = control;
  }

  void Flatten() {
    if (const json* tools = Find(body_, "tools"); tools != nullptr && tools->is_array()) {
      for (std::size_t i = 0; i < tools->size(); ++i) {
        const json& tool = (*tools)[i];
        // Deferred tools (tool search) are not part of the cached prefix.
        const bool deferred = tool.is_object() && tool.value("defer_loading", false) == true;
        blocks_.push_back({Area::kTools, 0, i, tool.is_object() && !deferred});
      }
    }
    if (const json* system = Find(body_, "system")) {
      AddContent(*system, Area::kSystem, 0);
    }
    const json* messages = Find(body_, "messages");
    if (messages == nullptr || !messages->is_array()) {
      return;
    }
    for (std::size_t m = 0; m < messages->size(); ++m) {
      message_begin_.push_back(blocks_.size());
      if (const json* content = Find((*messages)[m], "content")) {
        AddContent(*content, Area::kMessages, m);
      }
    }
  }

  void AddContent(const json& content, Area area, std::size_t message) {
    if (content.is_string()) {
      blocks_.push_back({area, message, 0, HasNonBlank(content)});
    } else if (content.is_array()) {
      for (std::size_t i = 0; i < content.size(); ++i) {
        blocks_.push_back({area, message, i, IsMarkable(content[i])});
      }
    }
  }

  json& body_;
  std::vector<Block> blocks_;
  std::vector<std::size_t> message_begin_;  // First block index of each message.
};

json Control(CacheTtl ttl) {
  json control = {{"type", "ephemeral"}};
  if (ttl == CacheTtl::kOneHour) {
    control["ttl"] = "1h";
  }
  return control;
}

struct Placement {
  std::size_t block;
  CacheTtl ttl;
};

void AddPlacement(std::vector<Placement>& out, std::optional<std::size_t> block, CacheTtl ttl) {
  if (!block || out.size() >= kMaxBreakpoints) {
    return;
  }
  const bool seen =
      std::any_of(out.begin(), out.end(), [&](const Placement& p) { return p.block == *block; });
  if (!seen) {
    out.push_back({*block, ttl});
  }
}

// The automatic placement (docs/prompt-caching.md, "Where the breakpoints go"), most valuable
// first:
//  1. the last block of the conversation: writes the whole prompt for the next turn;
//  2. the end of the previous turn: where the previous request's (1) was, so it is read back
//     exactly, even when the turn added more than the 20 blocks Anthropic looks back;
//  3. the end of tools + system: the stable prefix survives edits of the conversation and is
//     shared by new conversations with the same tools and instructions;
//  4. the end of the tools when a system prompt follows them (a system prompt that varies per
//     request, e.g. with a date, still leaves the tools cached), else the end of the turn before
//     the previous one (a fallback when one turn's write was lost).
std::vector<Placement> AutoPlacement(const Prompt& prompt, CacheTtl ttl) {
  std::vector<Placement> out;
  const auto tail = prompt.LastMarkable(Area::kMessages);
  AddPlacement(out, tail, ttl);
  const std::size_t messages = prompt.message_count();
  const auto previous = messages > 0 ? prompt.TurnEndBefore(messages - 1) : std::nullopt;
  AddPlacement(out, previous, ttl);
  const auto system = prompt.LastMarkable(Area::kSystem);
  const auto tools = prompt.LastMarkable(Area::kTools);
  AddPlacement(out, system ? system : tools, ttl);
  if (system && tools) {
    AddPlacement(out, tools, ttl);
  } else if (previous) {
    AddPlacement(out, prompt.TurnEndBefore(prompt.blocks()[*previous].message), ttl);
  }
  return out;
}

// LiteLLM's `cache_control_injection_points` (location: message), resolved on the Anthropic
// request: entry 0 is the system prompt when there is one, then the messages. Points are applied
// in configuration order; a role point marks the latest messages of that role first, since those
// cover the longest prefix.
std::vector<Placement> InjectedPlacement(const Prompt& prompt,
                                         const std::vector<CacheInjectionPoint>& points,
                                         CacheTtl default_ttl) {
  std::vector<Placement> out;
  const auto system = prompt.LastMarkable(Area::kSystem);
  const bool has_system = std::any_of(prompt.blocks().begin(), prompt.blocks().end(),
                                      [](const Block& b) { return b.area == Area::kSystem; });
  const std::size_t messages = prompt.message_count();
  for (const auto& point : points) {
    const CacheTtl ttl = point.ttl.value_or(default_ttl);
    if (point.index) {
      const auto entries = static_cast<long long>(messages + (has_system ? 1U : 0U));
      long long index = *point.index;
      if (index < 0) {
        index += entries;
      }
      if (index < 0 || index >= entries) {
        continue;  // Out of range: LiteLLM skips it too.
      }
      if (has_system && index == 0) {
        AddPlacement(out, system, ttl);
      } else {
        AddPlacement(
            out,
            prompt.LastMarkableInMessage(static_cast<std::size_t>(index) - (has_system ? 1U : 0U)),
            ttl);
      }
      continue;
    }
    if (!point.role) {
      continue;
    }
    if (*point.role == "system") {
      AddPlacement(out, system, ttl);
      continue;
    }
    for (std::size_t m = messages; m > 0; --m) {
      if (*point.role == "tool") {
        // Tool results travel in user messages; mark the last result of each.
        AddPlacement(out, prompt.LastToolResultInMessage(m - 1), ttl);
      } else if (prompt.Role(m - 1) == *point.role) {
        AddPlacement(out, prompt.LastMarkableInMessage(m - 1), ttl);
      }
    }
  }
  return out;
}

}  // namespace

bool HasCacheMarkers(const json& body) {
  if (!body.is_object()) {
    return false;
  }
  if (Find(body, "cache_control") != nullptr) {
    return true;
  }
  const auto any_block = [](const json* blocks) {
    if (blocks == nullptr || !blocks->is_array()) {
      return false;
    }
    return std::any_of(blocks->begin(), blocks->end(), [](const json& block) {
      if (Find(block, "cache_control") != nullptr) {
        return true;
      }
      const json* nested = Find(block, "content");  // tool_result content blocks
      return nested != nullptr && nested->is_array() &&
             std::any_of(nested->begin(), nested->end(),
                         [](const json& inner) { return Find(inner, "cache_control") != nullptr; });
    });
  };
  if (any_block(Find(body, "tools")) || any_block(Find(body, "system"))) {
    return true;
  }
  const json* messages = Find(body, "messages");
  if (messages == nullptr || !messages->is_array()) {
    return false;
  }
  return std::any_of(messages->begin(), messages->end(),
                     [&](const json& message) { return any_block(Find(message, "content")); });
}

CacheMarkingResult PlaceCacheBreakpoints(json& body, const config::PromptCaching& settings,
                                         std::string_view model_name) {
  if (settings.mode == config::PromptCachingMode::kOff || !body.is_object()) {
    return {CacheMarking::kDisabled, 0};
  }
  if (HasCacheMarkers(body)) {
    return {CacheMarking::kClientMarkers, 0};
  }
  Prompt prompt(body);
  const auto points = settings.injection_points.find(model_name);
  std::vector<Placement> placements = points != settings.injection_points.end()
                                          ? InjectedPlacement(prompt, points->second, settings.ttl)
                                          : AutoPlacement(prompt, settings.ttl);
  if (placements.empty()) {
    return {CacheMarking::kNothingToMark, 0};
  }
  // "1-hour cache entries must appear before 5-minute ones" (Anthropic 400 otherwise): once a
  // 5-minute marker is seen in prompt order, later ones are 5-minute too.
  std::sort(placements.begin(), placements.end(),
            [](const Placement& a, const Placement& b) { return a.block < b.block; });
  bool seen_short = false;
  for (auto& placement : placements) {
    seen_short = seen_short || placement.ttl == CacheTtl::kFiveMinutes;
    if (seen_short) {
      placement.ttl = CacheTtl::kFiveMinutes;
    }
  }
  // Marking after collecting: promotion of a string never moves another block's position.
  const std::vector<Block> blocks = prompt.blocks();
  for (const auto& placement : placements) {
    prompt.Mark(blocks[placement.block], Control(placement.ttl));
  }
  return {CacheMarking::kPlaced, placements.size()};
}

}  // namespace claudegate::translate
