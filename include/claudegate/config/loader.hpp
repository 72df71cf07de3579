/// @file loader.hpp
/// Builds a `Config` from command-line flags, the environment and an optional LiteLLM-style YAML
/// file, and renders it back (secrets redacted) for `--check-config`.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "claudegate/config/config.hpp"
#include "claudegate/error.hpp"

namespace claudegate::config {

/// What the command line asked for.
struct CommandLine {
  std::optional<std::string> config_path;
  std::optional<std::string> host;
  std::optional<std::uint16_t> port;
  bool check_config = false;
  bool version = false;
  bool help = false;
  /// `claudegate healthcheck [URL]`: probe a running daemon (Docker HEALTHCHECK).
  bool healthcheck = false;
  std::string healthcheck_url;
  /// `claudegate key VERB ...`: manage virtual keys in the store (docs/keys.md).
  bool key_command = false;
  std::vector<std::string> key_args;
};

/// Parses argv. Errors (unknown flag, missing value, bad port) name the flag.
[[nodiscard]] Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

/// The `--help` text.
[[nodiscard]] std::string UsageText();

/// Reads one environment variable; returns nullopt when unset. Injected so tests need no setenv.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

/// The real process environment.
[[nodiscard]] EnvLookup ProcessEnvironment();

/// An environment backed by a map (tests).
[[nodiscard]] EnvLookup MapEnvironment(std::map<std::string, std::string> values);

/// Loads the effective configuration: defaults < YAML file < environment < flags. A missing or
/// invalid master key, an unreadable or malformed file, or an invalid value is an error whose
/// message names the setting and says how to fix it (the caller exits 2).
[[nodiscard]] Result<Config> LoadConfig(const CommandLine& command_line, const EnvLookup& env);

/// Human-readable effective configuration with every secret redacted (for `--check-config`).
[[nodiscard]] std::string DescribeConfig(const Config& config);

/// `sk-…abcd` style redaction: enough to tell keys apart, never enough to use one.
[[nodiscard]] std::string RedactSecret(std::string_view secret);

/// `url` with any userinfo (`user:password@`, RFC 3986 §3.2.1) replaced by `(redacted)@`, for
/// printing a configured URL; other URLs and non-URLs come back unchanged.
[[nodiscard]] std::string RedactUrlUserinfo(std::string_view url);

}  // namespace claudegate::config
