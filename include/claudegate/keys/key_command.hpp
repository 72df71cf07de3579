/// @file key_command.hpp
/// `claudegate key …`: virtual keys from a shell on the host (docs/keys.md), through the same
/// store and the same field rules as the `/key/*` routes. A running daemon picks the change up
/// within a second (keys/key_sync.hpp).
///
///     claudegate key generate --alias ci-bot --models sonnet,haiku --rpm 60 --budget 20
///         --budget-duration 30d --duration 90d        (one line)
///     claudegate key list
///     claudegate key info ci-bot          (an alias, a key `sk-…` or its token)
///     claudegate key update ci-bot --rpm 120 --unblock
///     claudegate key delete ci-bot
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "claudegate/config/config.hpp"

namespace claudegate::keys {

/// The help text of `claudegate key`.
[[nodiscard]] std::string KeyCommandUsage();

/// Runs `claudegate key ARGS` against the store `config` names; prints JSON on `out`. Exit code:
/// 0 done, 1 the store failed or the key is unknown, 2 bad arguments.
int RunKeyCommand(const std::vector<std::string>& args, const config::Config& config,
                  std::ostream& out, std::ostream& err);

}  // namespace claudegate::keys
