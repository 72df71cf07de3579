/// @file make_credential_source.hpp
/// Chooses the credential source from settings, with PRODUCT.md's precedence:
/// `CLAUDE_CODE_OAUTH_TOKEN` > `$CLAUDE_CONFIG_DIR/.credentials.json` (default `~/.claude`) >
/// `ANTHROPIC_API_KEY` > none.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/credentials/file_credential_source.hpp"
#include "claudegate/credentials/token_endpoint.hpp"

namespace claudegate::credentials {

/// The environment values that decide the credential source. The caller reads them (from the
/// process environment or config); empty means unset.
struct CredentialSettings {
  std::string claude_code_oauth_token;  ///< `CLAUDE_CODE_OAUTH_TOKEN`.
  std::string claude_config_dir;        ///< `CLAUDE_CONFIG_DIR`.
  std::string home;                     ///< `HOME`, for the default `~/.claude`.
  std::string anthropic_api_key;        ///< `ANTHROPIC_API_KEY`.
};

/// `CLAUDE_CONFIG_DIR`, else `$HOME/.claude`; empty when neither is set.
[[nodiscard]] std::filesystem::path ResolveConfigDir(const CredentialSettings& settings);

/// Builds the source:
/// 1. `CLAUDE_CODE_OAUTH_TOKEN` set → `StaticCredentialSource` (`kOAuth`, never refreshed);
/// 2. `<configdir>/.credentials.json` exists (even if corrupt or logged out, so the error says so)
///    → `FileCredentialSource`;
/// 3. `ANTHROPIC_API_KEY` set → `StaticCredentialSource` (`kApiKey`);
/// 4. the config directory exists but holds no file yet (an empty `claude-auth` volume) →
///    `FileCredentialSource`, which starts serving as soon as the CLI writes the file;
/// 5. otherwise `NoCredentialSource` whose message lists what to set or mount.
/// `endpoint` must outlive the returned source; refreshes run on `executor`.
[[nodiscard]] std::shared_ptr<CredentialSource> MakeCredentialSource(
    const CredentialSettings& settings, TokenEndpoint& endpoint, net::any_io_executor executor,
    FileCredentialSourceOptions options = {});

}  // namespace claudegate::credentials
