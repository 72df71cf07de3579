// Reads `model_list` (LiteLLM's: model_name → litellm_params.model, and its
// cache_control_injection_points) into the model catalog. Private to src/config.
#pragma once

#include <yaml-cpp/yaml.h>

#include "claudegate/error.hpp"

#include "yaml_context.hpp"

namespace claudegate::config::detail {

/// Fills `context.config().models` (configured names first, then the built-in aliases the file
/// does not redefine) and the per-model injection points; entries naming no Claude model are
/// skipped with a warning.
[[nodiscard]] Result<void> ReadModelList(YamlContext& context, const YAML::Node& list);

}  // namespace claudegate::config::detail
