#include "claudegate/credentials/make_credential_source.hpp"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include "claudegate/credentials/static_credential_source.hpp"

namespace claudegate::credentials {
namespace {

bool Exists(const std::filesystem::path& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::filesystem::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

std::filesystem::path ResolveConfigDir(const CredentialSettings& settings) {
  if (!settings.claude_config_dir.empty()) {
    return settings.claude_config_dir;
  }
  if (!settings.home.empty()) {
    return std::filesystem::path(settings.home) / ".claude";
  }
  return {};
}

std::shared_ptr<CredentialSource> MakeCredentialSource(const CredentialSettings& settings,
                                                       TokenEndpoint& endpoint,
                                                       net::any_io_executor executor,
                                                       FileCredentialSourceOptions options) {
  if (!settings.claude_code_oauth_token.empty()) {
    spdlog::info("using the OAuth token from CLAUDE_CODE_OAUTH_TOKEN (never refreshed)");
    return std::make_shared<StaticCredentialSource>(
        Credential{CredentialKind::kOAuth, settings.claude_code_oauth_token},
        "CLAUDE_CODE_OAUTH_TOKEN");
  }
  const auto dir = ResolveConfigDir(settings);
  const auto file = dir.empty() ? std::filesystem::path() : dir / ".credentials.json";
  if (!dir.empty() && Exists(file)) {
    spdlog::info("using Claude credentials from {}", file.string());
    return FileCredentialSource::Create(dir, endpoint, std::move(executor), std::move(options));
  }
  if (!settings.anthropic_api_key.empty()) {
    spdlog::info("using the API key from ANTHROPIC_API_KEY");
    return std::make_shared<StaticCredentialSource>(
        Credential{CredentialKind::kApiKey, settings.anthropic_api_key}, "ANTHROPIC_API_KEY");
  }
  if (!dir.empty() && IsDirectory(dir)) {
    // An empty mounted volume: serve as soon as the CLI logs in and writes the file.
    spdlog::warn("no {} yet; waiting for `claude login` to write it", file.string());
    return FileCredentialSource::Create(dir, endpoint, std::move(executor), std::move(options));
  }
  const std::string where = dir.empty() ? std::string("~/.claude (HOME is not set)") : dir.string();
  return std::make_shared<NoCredentialSource>(
      "no Claude credentials configured: set CLAUDE_CODE_OAUTH_TOKEN to a token from `claude "
      "setup-token`, or mount the directory where the Claude CLI keeps .credentials.json (the "
      "claude-auth volume at /home/claude/.claude; looked in " +
      where + ", set CLAUDE_CONFIG_DIR for another place), or set ANTHROPIC_API_KEY");
}

}  // namespace claudegate::credentials
