#include "claudegate/translate/request/cache_breakpoints.hpp"

#include <string>

#include <gtest/gtest.h>

#include "golden_util.hpp"

namespace claudegate::translate {
namespace {

using claudegate::testing::DataDir;
using claudegate::testing::ReadFile;
using claudegate::testing::UpdateGoldens;
using claudegate::testing::WriteFile;
using config::CacheTtl;
using config::PromptCaching;
using config::PromptCachingMode;
using json = nlohmann::json;

CacheTtl Ttl(const json& value) {
  return value == "1h" ? CacheTtl::kOneHour : CacheTtl::kFiveMinutes;
}

PromptCaching Settings(const json& spec) {
  PromptCaching settings;
  if (spec.value("mode", "auto") == "off") {
    settings.mode = PromptCachingMode::kOff;
  }
  settings.ttl = Ttl(spec.value("ttl", "5m"));
  const json injection_points = spec.value("injection_points", json::object());
  for (const auto& [model, points] : injection_points.items()) {
    for (const auto& p : points) {
      config::CacheInjectionPoint point;
      if (p.contains("role")) {
        point.role = p["role"].get<std::string>();
      }
      if (p.contains("index")) {
        point.index = p["index"].get<int>();
      }
      if (p.contains("ttl")) {
        point.ttl = Ttl(p["ttl"]);
      }
      settings.injection_points[model].push_back(point);
    }
  }
  return settings;
}

std::string OutcomeName(CacheMarking outcome) {
  switch (outcome) {
    case CacheMarking::kDisabled:
      return "disabled";
    case CacheMarking::kClientMarkers:
      return "client_markers";
    case CacheMarking::kPlaced:
      return "placed";
    case CacheMarking::kNothingToMark:
      return "nothing_to_mark";
  }
  return "?";
}

// The prompt as the model sees it: every cache_control removed and string system/contents as the
// equivalent one-text-block list, so a marked body compares equal to the request it came from.
json Canonical(json body) {
  if (!body.is_object()) {
    return body;
  }
  body.erase("cache_control");
  const auto canonical = [](json& blocks) {
    if (blocks.is_string()) {
      blocks = json::array({{{"type", "text"}, {"text", blocks.get<std::string>()}}});
    }
    if (blocks.is_array()) {
      for (auto& block : blocks) {
        if (block.is_object()) {
          block.erase("cache_control");
        }
      }
    }
  };
  if (body.contains("tools")) {
    canonical(body["tools"]);
  }
  if (body.contains("system")) {
    canonical(body["system"]);
  }
  if (body.contains("messages") && body["messages"].is_array()) {
    for (auto& message : body["messages"]) {
      if (message.is_object() && message.contains("content")) {
        canonical(message["content"]);
      }
    }
  }
  return body;
}

std::size_t CountMarkers(const json& body) {
  std::size_t count = body.contains("cache_control") ? 1 : 0;
  const auto in = [&count](const json& blocks) {
    if (blocks.is_array()) {
      for (const auto& block : blocks) {
        count += block.is_object() && block.contains("cache_control") ? 1 : 0;
      }
    }
  };
  in(body.value("tools", json()));
  in(body.value("system", json()));
  for (const auto& message : body["messages"]) {
    in(message["content"]);
  }
  return count;
}

// Table-driven over tests/data/translate/cache_breakpoints_cases.json: an Anthropic request, the
// caching settings and the model the client named → the marked body and the outcome. Every case
// also checks the invariants: only cache_control was added, at most 4 markers.
TEST(PlaceCacheBreakpoints, MatchesGoldenCases) {
  const auto path = DataDir() / "translate" / "cache_breakpoints_cases.json";
  json cases = json::parse(ReadFile(path));
  for (auto& test_case : cases) {
    SCOPED_TRACE(test_case["name"].get<std::string>());
    json body = test_case["request"];
    const auto result =
        PlaceCacheBreakpoints(body, Settings(test_case.value("settings", json::object())),
                              test_case["model"].get<std::string>());
    const json actual = {
        {"body", body}, {"outcome", OutcomeName(result.outcome)}, {"added", result.added}};
    EXPECT_EQ(Canonical(body), Canonical(test_case["request"]));
    EXPECT_LE(CountMarkers(body), 4U);
    if (result.outcome == CacheMarking::kPlaced) {
      EXPECT_EQ(CountMarkers(body), result.added);
    }
    if (UpdateGoldens()) {
      test_case["expected"] = actual;
    } else {
      EXPECT_EQ(actual, test_case["expected"]);
    }
  }
  if (UpdateGoldens()) {
    WriteFile(path, cases.dump(1) + "\n");
  }
}

// A 40-turn agent session whose turns add between 1 and 31 blocks: every request carries a
// marker on exactly the block the previous request's last marker was on (same position, same
// prefix), so each turn reads everything the previous one wrote, lookback or not.
TEST(PlaceCacheBreakpoints, EveryTurnMarksThePreviousTail) {
  const PromptCaching settings;
  json conversation = {
      {"model", "claude-sonnet-5-5"},
      {"max_tokens", 100},
      {"tools", json::array({{{"name", "read"}, {"input_schema", {{"type", "object"}}}}})},
      {"system", json::array({{{"type", "text"}, {"text", "You are a coding agent."}}})},
      {"messages", json::array({{{"role", "user"}, {"content", "Start the task."}}})}};
  std::optional<json> previous_tail;  // The previous request's body up to its last marker.
  for (int turn = 0; turn < 40; ++turn) {
    json body = conversation;
    const auto result = PlaceCacheBreakpoints(body, settings, "sonnet");
    ASSERT_EQ(result.outcome, CacheMarking::kPlaced);
    // Every marked message-prefix of this request, as (messages up to and incl. the block).
    std::vector<json> marked_prefixes;
    const json& messages = body["messages"];
    for (std::size_t m = 0; m < messages.size(); ++m) {
      const json& content = messages[m]["content"];
      for (std::size_t b = 0; content.is_array() && b < content.size(); ++b) {
        if (content[b].contains("cache_control")) {
          json prefix = json::array();
          for (std::size_t k = 0; k <= m; ++k) {
            prefix.push_back(messages[k]);
          }
          prefix.back()["content"] =
              json(content.begin(), content.begin() + static_cast<long>(b) + 1);
          marked_prefixes.push_back(Canonical({{"messages", prefix}}));
        }
      }
    }
    ASSERT_FALSE(marked_prefixes.empty());
    if (previous_tail) {
      EXPECT_NE(std::find(marked_prefixes.begin(), marked_prefixes.end(), *previous_tail),
                marked_prefixes.end())
          << "turn " << turn << " does not mark where the previous request ended";
    }
    previous_tail = marked_prefixes.back();
    // The assistant answers with text and (turn % 16) parallel tool calls; the client replies
    // with their results (or, every fifth turn, with a new instruction).
    const int calls = turn % 16;
    json answer = json::array({{{"type", "text"}, {"text", "Working on it."}}});
    json results = json::array();
    for (int c = 0; c < calls; ++c) {
      const std::string id = "toolu_" + std::to_string(turn) + "_" + std::to_string(c);
      answer.push_back(
          {{"type", "tool_use"}, {"id", id}, {"name", "read"}, {"input", {{"path", id}}}});
      results.push_back({{"type", "tool_result"}, {"tool_use_id", id}, {"content", "data"}});
    }
    if (calls == 0) {
      results.push_back({{"type", "text"}, {"text", "Next step " + std::to_string(turn)}});
    }
    conversation["messages"].push_back({{"role", "assistant"}, {"content", answer}});
    conversation["messages"].push_back({{"role", "user"}, {"content", results}});
  }
}

TEST(PlaceCacheBreakpoints, NeverThrowsOnMalformedBodies) {
  const PromptCaching settings;
  const std::vector<json> bodies = {
      nullptr,
      json::array(),
      {{"messages", 3}},
      {{"messages", {1, "x", nullptr}}},
      {{"messages", {{{"role", 3}, {"content", {1, {{"type", 4}}}}}}}},
      {{"system", 5}, {"tools", {1, nullptr}}, {"messages", json::array()}},
      {{"system", {{{"type", "text"}, {"text", 7}}}}, {"messages", {{{"content", nullptr}}}}},
  };
  for (const auto& original : bodies) {
    SCOPED_TRACE(original.dump());
    json body = original;
    EXPECT_NO_THROW({ (void)PlaceCacheBreakpoints(body, settings, "sonnet"); });
  }
}

TEST(HasCacheMarkers, IgnoresLookalikesInToolInputAndSchemas) {
  // A tool whose schema has a property called cache_control, and a tool_use input with one, are
  // not markers.
  const json body = {
      {"tools",
       {{{"name", "t"},
         {"input_schema",
          {{"type", "object"}, {"properties", {{"cache_control", {{"type", "string"}}}}}}}}}},
      {"messages",
       {{{"role", "assistant"},
         {"content",
          {{{"type", "tool_use"},
            {"id", "x"},
            {"name", "t"},
            {"input", {{"cache_control", "a"}}}}}}}}}};
  EXPECT_FALSE(HasCacheMarkers(body));
}

}  // namespace
}  // namespace claudegate::translate
