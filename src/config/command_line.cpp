#include <charconv>

#include "claudegate/config/loader.hpp"

namespace claudegate::config {
namespace {

Error FlagError(std::string message) {
  return Error{ErrorKind::kInvalidRequest, std::move(message) + " (see claudegate --help)", {}, {}};
}

}  // namespace

Result<CommandLine> ParseCommandLine(const std::vector<std::string>& args) {
  CommandLine result;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // Accept both "--flag value" and "--flag=value".
    std::string name = arg;
    std::optional<std::string> inline_value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string::npos) {
      name = arg.substr(0, eq);
      inline_value = arg.substr(eq + 1);
    }
    if (result.key_command && name != "--config" && name != "-c") {
      result.key_args.push_back(arg);
      continue;
    }
    auto take_value = [&]() -> std::optional<std::string> {
      if (inline_value) {
        return inline_value;
      }
      if (i + 1 < args.size()) {
        return args[++i];
      }
      return std::nullopt;
    };

    if (name == "--config" || name == "-c") {
      auto value = take_value();
      if (!value || value->empty()) {
        return FlagError("--config needs a file path");
      }
      result.config_path = *value;
    } else if (name == "--host") {
      auto value = take_value();
      if (!value || value->empty()) {
        return FlagError("--host needs an address, e.g. --host 127.0.0.1");
      }
      result.host = *value;
    } else if (name == "--port" || name == "-p") {
      auto value = take_value();
      unsigned port = 0;
      if (!value) {
        return FlagError("--port needs a number");
      }
      const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), port);
      if (ec != std::errc() || ptr != value->data() + value->size() || port > 65535) {
        return FlagError("--port must be a number from 0 to 65535, got '" + *value + "'");
      }
      result.port = static_cast<std::uint16_t>(port);
    } else if (name == "--check-config") {
      result.check_config = true;
    } else if (name == "--version" || name == "-V") {
      result.version = true;
    } else if (name == "--help" || name == "-h") {
      result.help = true;
    } else if (name == "key" && i == 0) {
      // `claudegate key VERB ...`: the rest is the key command's (keys/key_command.hpp), except
      // --config, which says where the store is.
      result.key_command = true;
    } else if (name == "healthcheck" && i == 0) {
      result.healthcheck = true;
      if (i + 1 < args.size()) {
        result.healthcheck_url = args[++i];
      }
    } else {
      return FlagError("unknown argument '" + arg + "'");
    }
  }
  return result;
}

std::string UsageText() {
  return R"USAGE(claudegate — an OpenAI- and Anthropic-compatible gateway to Claude

Usage:
  claudegate [--config FILE] [--host ADDR] [--port N]   serve (default 0.0.0.0:4000)
  claudegate --check-config [--config FILE]             validate, print the effective config, exit
  claudegate healthcheck [URL]                          probe a running daemon (exit 0 when live)
  claudegate key generate|update|delete|info|list ...   manage virtual keys (claudegate key help)
  claudegate --version | --help

Options:
  -c, --config FILE   LiteLLM-style YAML config (model_list, general_settings, litellm_settings,
                      and a claudegate: section); also CLAUDEGATE_CONFIG
      --host ADDR     listen address (env HOST)
  -p, --port N        listen port (env PORT; 0 picks a free port)
      --check-config  validate configuration and print it with secrets redacted
  -V, --version       print the version
  -h, --help          print this text

Required environment:
  LITELLM_MASTER_KEY  the key clients must present; must start with "sk-".
                      Generate one: echo "sk-$(openssl rand -hex 32)"

Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad configuration.
)USAGE";
}

}  // namespace claudegate::config
