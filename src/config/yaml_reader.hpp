// Reads the LiteLLM-style YAML config file into a Config. Private to src/config.
#pragma once

#include <string>

#include "claudegate/config/config.hpp"
#include "claudegate/config/loader.hpp"

namespace claudegate::config::detail {

/// Applies the YAML file at `path` to `config` (unknown keys become warnings). Errors name the
/// file, the key and what to fix.
[[nodiscard]] Result<void> ReadYamlFile(const std::string& path, Config& config,
                                        const EnvLookup& env);

}  // namespace claudegate::config::detail
