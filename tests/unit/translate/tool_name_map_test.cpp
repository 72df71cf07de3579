// ToolNameMap: client tool identities ⇄ flat Claude tool names (docs/codex.md#namespaces).
#include "claudegate/translate/tool_name_map.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace claudegate::translate {
namespace {

using nlohmann::json;

const json& CodexTools() {
  static const json kTools = json::parse(R"([
    {"type": "function", "name": "shell"},
    {"type": "custom", "name": "apply_patch"},
    {"type": "function", "name": "mcp__browser__snapshot"},
    {"type": "namespace", "name": "mcp__browser__", "tools": [
      {"type": "function", "name": "navigate"}, {"type": "function", "name": "snapshot"}]},
    {"type": "namespace", "name": "agents", "tools": [
      {"type": "function", "name": "spawn"}, {"type": "custom", "name": "script"}]},
    {"type": "namespace", "name": "mcp__a_server_with_a_really_remarkably_long_name__",
     "tools": [{"type": "function", "name": "tool_with_a_long_name_too"}]},
    {"type": "namespace", "name": "odd.name", "tools": [{"type": "function", "name": "x"}]},
    {"type": "web_search"}
  ])");
  return kTools;
}

struct NameCase {
  std::string ns;
  std::string name;
  std::string claude;  // Expected flat name; empty: only check the rules and the round trip.
  ClientToolKind kind;
};

TEST(ToolNameMap, FlattensWithinTheNameRulesAndMapsBackExactly) {
  const ToolNameMap map = ToolNameMap::FromResponsesTools(CodexTools());
  const std::vector<NameCase> cases = {
      {"", "shell", "shell", ClientToolKind::kFunction},
      {"", "apply_patch", "apply_patch", ClientToolKind::kCustom},
      {"mcp__browser__", "navigate", "mcp__browser__navigate", ClientToolKind::kFunction},
      // Taken by the top-level function of that name: shortened with a hash instead.
      {"mcp__browser__", "snapshot", "", ClientToolKind::kFunction},
      {"agents", "spawn", "agents__spawn", ClientToolKind::kFunction},
      {"agents", "script", "agents__script", ClientToolKind::kCustom},
      {"mcp__a_server_with_a_really_remarkably_long_name__", "tool_with_a_long_name_too", "",
       ClientToolKind::kFunction},
      {"odd.name", "x", "", ClientToolKind::kFunction},
  };
  std::vector<std::string> seen;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ns + "/" + c.name);
    const std::string claude = map.ClaudeName(c.ns, c.name);
    if (!c.claude.empty()) {
      EXPECT_EQ(claude, c.claude);
    }
    EXPECT_LE(claude.size(), kMaxFlatToolName);
    EXPECT_EQ(claude.find_first_not_of(
                  "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"),
              std::string::npos);
    EXPECT_EQ(std::count(seen.begin(), seen.end(), claude), 0) << "not unique";
    seen.push_back(claude);
    const ClientTool* tool = map.Find(claude);
    ASSERT_NE(tool, nullptr);
    EXPECT_EQ(tool->ns, c.ns);
    EXPECT_EQ(tool->name, c.name);
    EXPECT_EQ(tool->kind, c.kind);
  }
}

TEST(ToolNameMap, IsDeterministicAndPassesUnknownNamesThrough) {
  const ToolNameMap a = ToolNameMap::FromResponsesTools(CodexTools());
  const ToolNameMap b = ToolNameMap::FromResponsesTools(CodexTools());
  EXPECT_EQ(a.ClaudeName("mcp__browser__", "snapshot"), b.ClaudeName("mcp__browser__", "snapshot"));
  EXPECT_EQ(a.Find("web_search"), nullptr);
  EXPECT_EQ(a.Find("not_declared"), nullptr);
  // A call from history whose namespace is no longer offered still gets the default flat form.
  EXPECT_EQ(a.ClaudeName("mcp__gone__", "tool"), "mcp__gone__tool");
  EXPECT_EQ(FlatToolName("ns", "tool"), "ns__tool");
  EXPECT_EQ(ToolNameMap::FromResponsesTools(json("junk")).Find("shell"), nullptr);
}

}  // namespace
}  // namespace claudegate::translate
