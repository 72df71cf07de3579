/// @file model_catalog.hpp
/// The configured model aliases (`sonnet` → `claude-sonnet-5-5`, …) and how a requested model name
/// resolves to the id sent upstream.
///
/// Immutable after construction; safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace claudegate::config {

/// One public model name and the Anthropic model id it stands for.
struct ModelAlias {
  std::string name;         ///< What clients send and what `/v1/models` lists, e.g. `sonnet`.
  std::string upstream_id;  ///< Full Anthropic id, e.g. `claude-sonnet-5-5`.
};

/// The alias table. Resolution order: exact alias name, then any id starting with `claude-`
/// (passed through unchanged, so new models work without a config change).
class ModelCatalog {
 public:
  ModelCatalog() = default;
  explicit ModelCatalog(std::vector<ModelAlias> aliases) : aliases_(std::move(aliases)) {}

  /// The upstream id for `requested`, or nullopt when it is neither an alias nor a `claude-` id.
  [[nodiscard]] std::optional<std::string> Resolve(std::string_view requested) const {
    for (const auto& alias : aliases_) {
      if (alias.name == requested) {
        return alias.upstream_id;
      }
    }
    if (requested.starts_with("claude-")) {
      return std::string(requested);
    }
    return std::nullopt;
  }

  /// The configured aliases, in configuration order.
  [[nodiscard]] const std::vector<ModelAlias>& aliases() const { return aliases_; }

  /// Today's defaults (docs/anthropic-notes.md#models).
  static std::vector<ModelAlias> DefaultAliases() {
    return {{"sonnet", "claude-sonnet-5-5"},
            {"opus", "claude-opus-5-5"},
            {"haiku", "claude-haiku-5-5"}};
  }

 private:
  std::vector<ModelAlias> aliases_;
};

}  // namespace claudegate::config
