#include "claudegate/upstream/anthropic_headers.hpp"

#include <algorithm>
#include <array>

namespace claudegate::upstream {
namespace {

// Anthropic asks clients to delete these from requests
// (docs/anthropic-notes.md#headers-and-api-versions).
constexpr std::array<std::string_view, 7> kDeprecatedBetas = {
    "prompt-caching-2024-07-31",     "pdfs-2024-09-25",
    "token-counting-2024-11-01",     "token-efficient-tools-2025-02-19",
    "extended-cache-ttl-2025-04-11", "cache-diagnosis-2026-04-07",
    "ce-user-management-2026-07-13"};

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace

std::string MergeBetas(std::string_view client, const std::vector<std::string>& extra,
                       const credentials::Credential& credential) {
  std::vector<std::string_view> betas;
  auto add = [&betas](std::string_view beta) {
    beta = Trim(beta);
    if (beta.empty() ||
        std::find(kDeprecatedBetas.begin(), kDeprecatedBetas.end(), beta) !=
            kDeprecatedBetas.end() ||
        std::find(betas.begin(), betas.end(), beta) != betas.end()) {
      return;
    }
    betas.push_back(beta);
  };
  while (!client.empty()) {
    const auto comma = client.find(',');
    add(client.substr(0, comma));
    client = comma == std::string_view::npos ? std::string_view{} : client.substr(comma + 1);
  }
  for (const auto& beta : extra) {
    add(beta);
  }
  if (credential.kind == credentials::CredentialKind::kOAuth) {
    add(kOAuthBeta);
  }
  std::string joined;
  for (const auto beta : betas) {
    if (!joined.empty()) {
      joined += ',';
    }
    joined += beta;
  }
  return joined;
}

void AppendCredential(server::HeaderList& headers, const credentials::Credential& credential) {
  if (credential.kind == credentials::CredentialKind::kOAuth) {
    headers.emplace_back("authorization", "Bearer " + credential.secret);
  } else {
    headers.emplace_back("x-api-key", credential.secret);
  }
}

}  // namespace claudegate::upstream
