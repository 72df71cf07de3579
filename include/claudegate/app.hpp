/// @file app.hpp
/// The whole program behind `main()`: flags, configuration, logging, the io threads, signal
/// handling and graceful shutdown. Kept out of main.cpp so that it is unit-testable.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "claudegate/config/loader.hpp"

namespace claudegate {

/// Exit codes (PRODUCT.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeFailure = 1;
inline constexpr int kExitBadConfig = 2;

/// Runs claudegate with `args` (argv without the program name). Blocks while serving; returns
/// the process exit code after a graceful shutdown.
int RunApp(const std::vector<std::string>& args, const config::EnvLookup& env, std::ostream& out,
           std::ostream& err);

}  // namespace claudegate
