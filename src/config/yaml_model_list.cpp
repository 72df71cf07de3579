#include "yaml_model_list.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

namespace claudegate::config::detail {
namespace {

class ModelListReader {
 public:
  explicit ModelListReader(YamlContext& context) : context_(context) {}

  Result<void> Read(const YAML::Node& list) {
    if (list.IsNull()) {
      return {};
    }
    if (!list.IsSequence()) {
      return Fail("model_list must be a list of {model_name, litellm_params: {model}}");
    }
    std::vector<ModelAlias> configured;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string where = "model_list[" + std::to_string(i) + "]";
      if (!item.IsMap() || !item["model_name"]) {
        return Fail(where + " needs a model_name");
      }
      auto name = String(item["model_name"], where + ".model_name");
      if (!name) {
        return name.error();
      }
      std::string target = *name;
      if (const YAML::Node params = item["litellm_params"]; params && params["model"]) {
        auto model = String(params["model"], where + ".litellm_params.model");
        if (!model) {
          return model.error();
        }
        target = *model;
      }
      // Provider prefixes (`anthropic/`, `claude-code-sdk/`, `claude-agent-sdk/`) name LiteLLM
      // handlers; claudegate is the handler, so only the model part matters.
      if (const auto slash = target.rfind('/'); slash != std::string::npos) {
        target = target.substr(slash + 1);
      }
      auto resolved = ResolveTarget(target);
      if (!resolved) {
        Warn(where + ": model '" + target + "' is neither a claude- id nor one of " +
             "sonnet/opus/haiku/default; entry ignored");
        continue;
      }
      configured.push_back({*name, *resolved});
      if (const YAML::Node params = item["litellm_params"];
          params && params["cache_control_injection_points"]) {
        auto points = ReadInjectionPoints(params["cache_control_injection_points"],
                                          where + ".litellm_params.cache_control_injection_points");
        if (!points) {
          return points.error();
        }
        if (!points->empty()) {
          context_.config().prompt_caching.injection_points[*name] = std::move(*points);
        }
      }
    }
    // Configured names first (they are what /v1/models lists first); the built-in aliases stay
    // resolvable unless the file redefines them.
    for (const auto& builtin : BuiltinAliases()) {
      const bool overridden = std::any_of(configured.begin(), configured.end(),
                                          [&](const auto& a) { return a.name == builtin.name; });
      if (!overridden) {
        configured.push_back(builtin);
      }
    }
    context_.config().models = ModelCatalog(std::move(configured));
    return {};
  }

  // LiteLLM's `cache_control_injection_points` (docs/prompt-caching.md): a list of
  // {location: message, role | index, control?}. Other locations (LiteLLM's Bedrock-only
  // `tool_config`) are ignored with a warning.
  Result<std::vector<CacheInjectionPoint>> ReadInjectionPoints(const YAML::Node& node,
                                                               const std::string& where) {
    if (!node.IsSequence()) {
      return FailError(where + " must be a list of {location: message, role or index}");
    }
    std::vector<CacheInjectionPoint> points;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const YAML::Node entry = node[i];
      const std::string at = where + "[" + std::to_string(i) + "]";
      if (!entry.IsMap()) {
        return FailError(at + " must be a mapping {location: message, role or index}");
      }
      auto location = entry["location"] ? String(entry["location"], at + ".location")
                                        : Result<std::string>(std::string("message"));
      if (!location) {
        return location.error();
      }
      if (*location != "message") {
        Warn(at + ": location '" + *location + "' is not supported (only message); ignored");
        continue;
      }
      CacheInjectionPoint point;
      if (entry["index"]) {
        auto index = Integer<int>(entry["index"], at + ".index");
        if (!index) {
          return index.error();
        }
        point.index = *index;
      }
      if (entry["role"]) {
        auto role = String(entry["role"], at + ".role");
        if (!role) {
          return role.error();
        }
        if (*role == "developer") {
          *role = "system";  // Hoisted into Anthropic's system prompt like system messages.
        }
        if (*role != "system" && *role != "user" && *role != "assistant" && *role != "tool") {
          return FailError(at + ".role must be system, user, assistant or tool, got '" + *role +
                           "'");
        }
        point.role = *role;
      }
      if (!point.index && !point.role) {
        return FailError(at + " needs a role or an index");
      }
      if (const YAML::Node control = entry["control"]; control && control["ttl"]) {
        auto ttl = CacheTtlValue(control["ttl"], at + ".control.ttl");
        if (!ttl) {
          return ttl.error();
        }
        point.ttl = *ttl;
      }
      points.push_back(std::move(point));
    }
    return points;
  }

  static std::vector<ModelAlias> BuiltinAliases() {
    auto aliases = ModelCatalog::DefaultAliases();
    // The Claude CLI's "default" model; the seed's config lists it.
    aliases.push_back({"default", aliases.front().upstream_id});
    return aliases;
  }

  static std::optional<std::string> ResolveTarget(const std::string& target) {
    for (const auto& alias : BuiltinAliases()) {
      if (alias.name == target) {
        return alias.upstream_id;
      }
    }
    if (target.starts_with("claude-")) {
      return target;
    }
    return std::nullopt;
  }

 private:
  Result<void> Fail(const std::string& message) const { return context_.Fail(message); }
  Error FailError(const std::string& message) const { return context_.FailError(message); }
  void Warn(const std::string& message) { context_.Warn(message); }
  Result<std::string> String(const YAML::Node& node, const std::string& where) const {
    return context_.String(node, where);
  }
  template <typename Int>
  Result<Int> Integer(const YAML::Node& node, const std::string& where) const {
    return context_.Integer<Int>(node, where);
  }
  Result<CacheTtl> CacheTtlValue(const YAML::Node& node, const std::string& where) const {
    return context_.CacheTtlValue(node, where);
  }

  YamlContext& context_;
};

}  // namespace

Result<void> ReadModelList(YamlContext& context, const YAML::Node& list) {
  return ModelListReader(context).Read(list);
}

}  // namespace claudegate::config::detail
