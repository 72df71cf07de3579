/// @file tool_name_map.hpp
/// Client tool identities ⇄ the names Claude sees, for the Responses route.
///
/// A Responses client declares tools Claude has no notion of: `custom` tools (freeform string
/// input) and `namespace` groups (`{type:"namespace", name:"mcp__github__", tools:[…]}`, how Codex
/// declares every MCP server and its sub-agent tools). Claude gets one flat tool per client tool;
/// this map remembers which client tool each flat name stands for, so a `tool_use` comes back as
/// a `custom_tool_call` or a `function_call` with the original `name` and `namespace`
/// (docs/codex.md#tool-types), and a call the client sends back in `input` maps to the same flat
/// name again.
///
/// The map is a pure function of the request's `tools` list, so the request translation and the
/// output translators (which rebuild it from the echoed `tools`, `ResponseMeta::echo`) agree
/// without carrying state between them.
///
/// Flat names: a plain `function`/`custom` tool keeps its name; a namespaced tool is
/// `<namespace>__<name>` (just `<namespace><name>` when the namespace already ends in `_`, as
/// Codex's `mcp__server__` does), which is Codex's own flattened MCP form. A flat name longer than
/// 64 characters (OpenAI's function-name limit, inside Anthropic's `^[a-zA-Z0-9_-]{1,128}$`,
/// docs/anthropic-notes.md#tool-calls-in-history), with characters outside that set, or already
/// taken, is shortened to a prefix + `_` + 8 hex digits of a hash of namespace and name.
///
/// Pure and thread-safe (const after construction).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace claudegate::translate {

/// What kind of client tool a Claude tool stands for.
enum class ClientToolKind {
  kFunction,  ///< `function` tool: calls are `function_call` items with JSON `arguments`.
  kCustom,    ///< `custom` tool: calls are `custom_tool_call` items with a string `input`.
};

/// One client tool as the client named it.
struct ClientTool {
  ClientToolKind kind = ClientToolKind::kFunction;
  std::string ns;    ///< The `namespace` group's name; empty for a top-level tool.
  std::string name;  ///< The tool's own name inside its namespace.
};

/// The property that carries a custom tool's freeform input in the Claude tool's input schema.
inline constexpr std::string_view kCustomInputKey = "input";

/// Longest flat name generated for a namespaced tool.
inline constexpr std::size_t kMaxFlatToolName = 64;

class ToolNameMap {
 public:
  ToolNameMap() = default;

  /// From a Responses request's `tools` (any JSON; non-arrays and malformed entries are skipped:
  /// the request translation reports those). Top-level tools are entered first, so they keep
  /// their names when a namespaced flat name would collide with them.
  [[nodiscard]] static ToolNameMap FromResponsesTools(const nlohmann::json& tools);

  /// The Claude name for a client tool: the mapped one when the tools list declared it, else the
  /// default flat form (a call from history whose tool is no longer offered).
  [[nodiscard]] std::string ClaudeName(std::string_view ns, std::string_view name) const;

  /// The client tool a Claude name stands for; nullptr when unknown (the caller passes the name
  /// through unchanged as a function call).
  [[nodiscard]] const ClientTool* Find(std::string_view claude_name) const;

 private:
  struct Entry {
    std::string claude_name;
    ClientTool tool;
  };
  void Add(ClientToolKind kind, std::string ns, std::string name);
  [[nodiscard]] const Entry* FindClient(std::string_view ns, std::string_view name) const;

  std::vector<Entry> entries_;  // Linear: tool lists are tens of entries.
};

/// `<namespace>__<name>` within the name rules, without collision handling (see the file doc).
[[nodiscard]] std::string FlatToolName(std::string_view ns, std::string_view name);

}  // namespace claudegate::translate
