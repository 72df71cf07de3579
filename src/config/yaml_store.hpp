// Reads `claudegate.store` (enabled, data_dir, responses_ttl, max_size_mb, max_queued_writes) and
// parses its durations. Private to src/config.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "claudegate/config/loader.hpp"
#include "claudegate/config/store.hpp"

namespace claudegate::config::detail {

/// "30d", "12h", "45m", "90s" or a plain number of seconds; `setting` names it in the error.
[[nodiscard]] Result<std::chrono::seconds> ParseDuration(std::string_view text,
                                                         std::string_view setting);

/// Applies the `claudegate.store` mapping; unknown keys are appended to `warnings`.
[[nodiscard]] Result<void> ReadOwnStore(const YAML::Node& node, const std::string& file,
                                        Store& store, std::vector<std::string>& warnings);

/// The data directory when none is configured: $XDG_STATE_HOME/claudegate (an absolute path
/// only, as the XDG Base Directory spec says), else $HOME/.local/state/claudegate.
[[nodiscard]] std::string DefaultDataDir(const EnvLookup& env);

}  // namespace claudegate::config::detail
