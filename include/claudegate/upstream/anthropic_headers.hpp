/// @file anthropic_headers.hpp
/// The headers every upstream call carries: the credential in the right header for its kind,
/// `anthropic-version`, and `anthropic-beta` merged from the client's, the configured and the
/// credential's (OAuth needs `oauth-2025-04-20`) without duplicates or deprecated values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "claudegate/credentials/credential_source.hpp"
#include "claudegate/server/response_sink.hpp"

namespace claudegate::upstream {

/// The beta every OAuth (subscription) call needs; without it Anthropic answers 401.
inline constexpr std::string_view kOAuthBeta = "oauth-2025-04-20";

/// Comma-joined betas: `client` (a header value, may be empty), then `extra`, then the OAuth beta
/// when `credential` is OAuth. Deduplicated, deprecated betas dropped, order kept.
[[nodiscard]] std::string MergeBetas(std::string_view client, const std::vector<std::string>& extra,
                                     const credentials::Credential& credential);

/// Appends the credential header: `authorization: Bearer` for OAuth, `x-api-key` for API keys.
void AppendCredential(server::HeaderList& headers, const credentials::Credential& credential);

}  // namespace claudegate::upstream
