#include "claudegate/credentials/refresh_protocol.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;

// CLI 2.1.330's scopes for the default client (2.1.197's list plus user:plugins).
constexpr std::array<std::string_view, 6> kDefaultScopes = {
    "user:profile",     "user:inference",   "user:sessions:claude_code",
    "user:mcp_servers", "user:file_upload", "user:plugins"};
// Stored scopes the CLI carries over into a default-client refresh (union of 2.1.197's and
// 2.1.330's preservable lists).
constexpr std::array<std::string_view, 5> kPreservableScopes = {
    "user:design:read", "user:design:write", "user:projects:read", "user:projects:write",
    "user:privacy_consents:write"};
constexpr std::string_view kAccountOnHold = "account_on_hold";
constexpr std::string_view kInvalidGrant = "invalid_grant";
constexpr std::string_view kInvalidClient = "invalid_client";
constexpr std::string_view kInvalidScope = "invalid_scope";
constexpr std::string_view kUnauthorizedClient = "unauthorized_client";
constexpr std::string_view kRestrictedUri = "https://claude.ai/restricted";

std::int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::string StringField(const ordered_json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::vector<std::string> RefreshScopes(const OAuthTokens& tokens, ScopeChoice choice) {
  if (choice == ScopeChoice::kStored || tokens.client_id.has_value()) {
    return tokens.scopes;
  }
  std::vector<std::string> scopes(kDefaultScopes.begin(), kDefaultScopes.end());
  for (const auto& stored : tokens.scopes) {
    const bool preservable = std::find(kPreservableScopes.begin(), kPreservableScopes.end(),
                                       stored) != kPreservableScopes.end();
    if (preservable && std::find(scopes.begin(), scopes.end(), stored) == scopes.end()) {
      scopes.push_back(stored);
    }
  }
  return scopes;
}

std::string BuildRefreshBody(const OAuthTokens& tokens, ScopeChoice choice) {
  std::string scope;
  for (const auto& s : RefreshScopes(tokens, choice)) {
    scope += scope.empty() ? s : " " + s;
  }
  const ordered_json body = {
      {"grant_type", "refresh_token"},
      {"refresh_token", tokens.refresh_token},
      {"client_id", tokens.client_id.value_or(std::string(kDefaultClientId))},
      {"scope", scope},
  };
  return body.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
}

bool NeedsRefresh(const OAuthTokens& tokens, std::chrono::system_clock::time_point now,
                  std::chrono::seconds margin) {
  return now + margin >= tokens.ExpiresAt();
}

Result<ordered_json> ApplyTokenResponse(const ordered_json& old_oauth,
                                        std::string_view response_body,
                                        std::chrono::system_clock::time_point now) {
  const auto malformed = [](std::string why) {
    return Error{ErrorKind::kUpstreamUnreachable,
                 "the token endpoint sent an unusable success response: " + std::move(why),
                 {},
                 {}};
  };
  const auto response =
      ordered_json::parse(response_body.begin(), response_body.end(), nullptr, false);
  if (response.is_discarded() || !response.is_object()) {
    return malformed("not a JSON object");
  }
  const auto access = response.find("access_token");
  if (access == response.end() || !access->is_string() || access->get<std::string>().empty()) {
    return malformed("no access_token");
  }
  const auto expires_in = response.find("expires_in");
  if (expires_in == response.end() || !expires_in->is_number()) {
    return malformed("no numeric expires_in");
  }
  const auto now_ms = ToMs(now);
  ordered_json oauth = old_oauth.is_object() ? old_oauth : ordered_json::object();
  oauth["accessToken"] = access->get<std::string>();
  if (const auto refresh = response.find("refresh_token");
      refresh != response.end() && refresh->is_string() && !refresh->get<std::string>().empty()) {
    oauth["refreshToken"] = refresh->get<std::string>();
  }  // else: keep the old refresh token, as the CLI does.
  oauth["expiresAt"] =
      now_ms + static_cast<std::int64_t>(std::llround(expires_in->get<double>() * 1000));
  if (const auto scope = response.find("scope"); scope != response.end() && scope->is_string()) {
    ordered_json scopes = ordered_json::array();
    const std::string text = scope->get<std::string>();
    std::size_t pos = 0;
    while (pos < text.size()) {
      const auto end = std::min(text.find(' ', pos), text.size());
      if (end > pos) {
        scopes.push_back(text.substr(pos, end - pos));
      }
      pos = end + 1;
    }
    oauth["scopes"] = std::move(scopes);
  }
  if (const auto rt_in = response.find("refresh_token_expires_in");
      rt_in != response.end() && rt_in->is_number()) {
    const auto fresh =
        now_ms + static_cast<std::int64_t>(std::llround(rt_in->get<double>() * 1000));
    const auto old = oauth.find("refreshTokenExpiresAt");
    if (old != oauth.end() && old->is_number() && old->get<double>() > 0) {
      oauth["refreshTokenExpiresAt"] = std::min(old->get<std::int64_t>(), fresh);
    } else {
      oauth.erase("refreshTokenExpiresAt");
    }
  }
  return oauth;
}

std::string_view Label(RefreshOutcome outcome) {
  switch (outcome) {
    case RefreshOutcome::kRefreshed:
      return "refreshed";
    case RefreshOutcome::kAdoptedSibling:
      return "adopted_sibling";
    case RefreshOutcome::kFailed:
      return "failed";
    case RefreshOutcome::kDead:
      return "dead";
    case RefreshOutcome::kLoggedOut:
      return "logged_out";
  }
  return "failed";
}

bool RefreshFailure::ScopeRejected() const { return error == kInvalidScope; }

std::string RefreshFailure::Summary() const {
  std::string text = status == 0 ? std::string("no response") : "HTTP " + std::to_string(status);
  if (!error.empty()) {
    text += " " + error;
  }
  if (!description.empty()) {
    text += ": " + description;
  }
  if (!error_uri.empty()) {
    text += " (" + error_uri + ")";
  }
  return text;
}

RefreshFailure ClassifyTokenError(unsigned status, std::string_view body) {
  RefreshFailure failure;
  failure.status = status;
  const auto json = ordered_json::parse(body.begin(), body.end(), nullptr, false);
  if (!json.is_discarded() && json.is_object()) {
    if (const auto e = json.find("error"); e != json.end()) {
      if (e->is_string()) {
        failure.error = e->get<std::string>();
      } else if (e->is_object()) {  // `{"error":{"type":…,"message":…}}`, Anthropic style.
        failure.error = StringField(*e, "type");
        failure.description = StringField(*e, "message");
      }
    }
    if (auto d = StringField(json, "error_description"); !d.empty()) {
      failure.description = std::move(d);
    }
    failure.error_uri = StringField(json, "error_uri");
  }
  // Keep what reaches logs and /health short.
  if (failure.description.size() > 300) {
    failure.description.resize(300);
  }
  if (failure.error == kAccountOnHold || failure.description == kAccountOnHold) {
    failure.kind = RefreshFailureKind::kAccountOnHold;
    if (failure.error_uri.empty()) {
      failure.error_uri = kRestrictedUri;
    }
  } else if (failure.error == kInvalidGrant && status >= 400 && status < 500) {
    failure.kind = RefreshFailureKind::kInvalidGrant;
  } else if (failure.error == kInvalidClient || failure.error == kInvalidScope ||
             failure.error == kUnauthorizedClient) {
    failure.kind = RefreshFailureKind::kClientRejected;
  } else if (status == 0 || status >= 500 || status == 408 || status == 429) {
    failure.kind = RefreshFailureKind::kTransient;
  } else {
    failure.kind = RefreshFailureKind::kUnexpected;
  }
  return failure;
}

RefreshFailure TransportFailure(const Error& error) {
  RefreshFailure failure;
  failure.kind = RefreshFailureKind::kTransient;
  failure.description = error.message;
  return failure;
}

std::chrono::milliseconds BackoffPolicy::Delay(int consecutive_failures, double unit_random) const {
  if (consecutive_failures <= 0) {
    return std::chrono::milliseconds(0);
  }
  const double exponent = std::min(consecutive_failures - 1, 40);
  double ms = static_cast<double>(initial.count()) * std::pow(2.0, exponent);
  ms = std::min(ms, static_cast<double>(cap.count()));
  ms *= 1.0 + jitter * (2.0 * std::clamp(unit_random, 0.0, 1.0) - 1.0);
  ms = std::clamp(ms, 0.0, static_cast<double>(cap.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(ms)));
}

}  // namespace claudegate::credentials
