#include "claudegate/credentials/refresh_protocol.hpp"

#include <gtest/gtest.h>

namespace claudegate::credentials {
namespace {

using nlohmann::ordered_json;
using std::chrono::system_clock;

const system_clock::time_point kNow{std::chrono::milliseconds(1'800'000'000'000)};

OAuthTokens Tokens(std::vector<std::string> scopes, std::optional<std::string> client_id = {}) {
  OAuthTokens tokens;
  tokens.access_token = "sk-ant-oat01-a";
  tokens.refresh_token = "sk-ant-ort01-r";
  tokens.scopes = std::move(scopes);
  tokens.client_id = std::move(client_id);
  return tokens;
}

struct BodyCase {
  const char* name;
  OAuthTokens tokens;
  ScopeChoice choice;
  const char* client_id;
  const char* scope;
};

class BuildRefreshBodyTable : public ::testing::TestWithParam<BodyCase> {};

TEST_P(BuildRefreshBodyTable, SendsGrantTokenClientAndScope) {
  const auto& c = GetParam();
  const auto body = ordered_json::parse(BuildRefreshBody(c.tokens, c.choice));
  EXPECT_EQ(body["grant_type"], "refresh_token");
  EXPECT_EQ(body["refresh_token"], "sk-ant-ort01-r");
  EXPECT_EQ(body["client_id"], c.client_id);
  EXPECT_EQ(body["scope"], c.scope);
  EXPECT_EQ(body.size(), 4U);
}

INSTANTIATE_TEST_SUITE_P(
    Table, BuildRefreshBodyTable,
    ::testing::Values(
        BodyCase{"DefaultClientGetsCliScopes", Tokens({"user:inference"}), ScopeChoice::kAuto,
                 "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
                 "user:profile user:inference user:sessions:claude_code user:mcp_servers "
                 "user:file_upload user:plugins"},
        BodyCase{"DefaultClientKeepsPreservableStoredScopes",
                 Tokens({"user:projects:read", "org:create_api_key", "user:design:write"}),
                 ScopeChoice::kAuto, "9d1c250a-e61b-44d9-88ed-5944d1962f5e",
                 "user:profile user:inference user:sessions:claude_code user:mcp_servers "
                 "user:file_upload user:plugins user:projects:read user:design:write"},
        BodyCase{"StoredClientIdSendsStoredScopesVerbatim",
                 Tokens({"user:inference", "custom:x"}, "59637612-477b-4836-a601-b0589eda7704"),
                 ScopeChoice::kAuto, "59637612-477b-4836-a601-b0589eda7704",
                 "user:inference custom:x"},
        BodyCase{"InvalidScopeFallbackSendsStoredScopes",
                 Tokens({"user:inference", "user:profile"}), ScopeChoice::kStored,
                 "9d1c250a-e61b-44d9-88ed-5944d1962f5e", "user:inference user:profile"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

struct NeedsRefreshCase {
  std::int64_t ms_left;
  bool due;
};

class NeedsRefreshTable : public ::testing::TestWithParam<NeedsRefreshCase> {};

TEST_P(NeedsRefreshTable, RefreshesFiveMinutesBeforeExpiry) {
  OAuthTokens tokens = Tokens({});
  tokens.expires_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(kNow.time_since_epoch()).count() +
      GetParam().ms_left;
  EXPECT_EQ(NeedsRefresh(tokens, kNow), GetParam().due);
}

INSTANTIATE_TEST_SUITE_P(Table, NeedsRefreshTable,
                         ::testing::Values(NeedsRefreshCase{3'600'000, false},
                                           NeedsRefreshCase{300'001, false},
                                           NeedsRefreshCase{300'000, true},
                                           NeedsRefreshCase{60'000, true},
                                           NeedsRefreshCase{-1, true}));

const ordered_json kOldOauth = ordered_json::parse(
    R"({"accessToken":"old-a","refreshToken":"old-r","expiresAt":1,"scopes":["user:inference"],)"
    R"("subscriptionType":"max","futureField":[1,2],"refreshTokenExpiresAt":1900000000000})");

TEST(ApplyTokenResponse, SetsTokensExpiryAndScopesKeepingUnknownFields) {
  auto oauth =
      ApplyTokenResponse(kOldOauth,
                         R"({"access_token":"new-a","refresh_token":"new-r","expires_in":28800,)"
                         R"("scope":"user:inference user:profile","token_type":"Bearer"})",
                         kNow);
  ASSERT_TRUE(oauth.has_value()) << oauth.error().message;
  EXPECT_EQ((*oauth)["accessToken"], "new-a");
  EXPECT_EQ((*oauth)["refreshToken"], "new-r");
  EXPECT_EQ((*oauth)["expiresAt"], 1'800'000'000'000 + 28'800'000);
  EXPECT_EQ((*oauth)["scopes"], ordered_json({"user:inference", "user:profile"}));
  EXPECT_EQ((*oauth)["futureField"], ordered_json({1, 2}));
  EXPECT_EQ((*oauth)["subscriptionType"], "max");
  EXPECT_EQ((*oauth)["refreshTokenExpiresAt"], 1900000000000);
}

TEST(ApplyTokenResponse, MissingRefreshTokenKeepsTheOldOne) {
  auto oauth = ApplyTokenResponse(kOldOauth, R"({"access_token":"new-a","expires_in":60})", kNow);
  ASSERT_TRUE(oauth.has_value());
  EXPECT_EQ((*oauth)["refreshToken"], "old-r");
  EXPECT_EQ((*oauth)["scopes"], ordered_json({"user:inference"}));  // No scope: unchanged.
}

TEST(ApplyTokenResponse, RefreshTokenExpiryKeepsTheEarlierOfOldAndNew) {
  auto later = ApplyTokenResponse(
      kOldOauth, R"({"access_token":"a","expires_in":1,"refresh_token_expires_in":999999999})",
      kNow);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ((*later)["refreshTokenExpiresAt"], 1900000000000);
  auto earlier = ApplyTokenResponse(
      kOldOauth, R"({"access_token":"a","expires_in":1,"refresh_token_expires_in":10})", kNow);
  ASSERT_TRUE(earlier.has_value());
  EXPECT_EQ((*earlier)["refreshTokenExpiresAt"], 1'800'000'010'000);
}

TEST(ApplyTokenResponse, RejectsResponsesWithoutAccessTokenOrExpiry) {
  for (const char* body :
       {"", "[]", R"({"expires_in":1})", R"({"access_token":"a"})",
        R"({"access_token":"","expires_in":1})", R"({"access_token":"a","expires_in":"1"})"}) {
    EXPECT_FALSE(ApplyTokenResponse(kOldOauth, body, kNow).has_value()) << body;
  }
}

struct ErrorCase {
  const char* name;
  unsigned status;
  const char* body;
  RefreshFailureKind kind;
};

class ClassifyTokenErrorTable : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ClassifyTokenErrorTable, MapsResponseToFailureKind) {
  EXPECT_EQ(ClassifyTokenError(GetParam().status, GetParam().body).kind, GetParam().kind);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifyTokenErrorTable,
    ::testing::Values(
        ErrorCase{
            "InvalidGrant", 400,
            R"({"error":"invalid_grant","error_description":"Refresh token not found or invalid"})",
            RefreshFailureKind::kInvalidGrant},
        ErrorCase{"InvalidGrant401", 401, R"({"error":"invalid_grant"})",
                  RefreshFailureKind::kInvalidGrant},
        ErrorCase{"ErrorAsObject", 400, R"({"error":{"type":"invalid_grant","message":"x"}})",
                  RefreshFailureKind::kInvalidGrant},
        ErrorCase{"InvalidClient", 400, R"({"error":"invalid_client"})",
                  RefreshFailureKind::kClientRejected},
        ErrorCase{"InvalidScope", 400, R"({"error":"invalid_scope"})",
                  RefreshFailureKind::kClientRejected},
        ErrorCase{"UnauthorizedClient", 400, R"({"error":"unauthorized_client"})",
                  RefreshFailureKind::kClientRejected},
        ErrorCase{"AccountOnHold", 400,
                  R"({"error":"invalid_grant","error_description":"account_on_hold"})",
                  RefreshFailureKind::kAccountOnHold},
        ErrorCase{"ServerError", 500, "oops", RefreshFailureKind::kTransient},
        ErrorCase{"Overloaded", 529, R"({"type":"error","error":{"type":"overloaded_error"}})",
                  RefreshFailureKind::kTransient},
        ErrorCase{"RateLimited", 429, "", RefreshFailureKind::kTransient},
        ErrorCase{"LegacyEndpoint404", 404,
                  R"({"type":"error","error":{"type":"not_found_error","message":"Not found"}})",
                  RefreshFailureKind::kUnexpected}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ClassifyTokenError, AccountOnHoldCarriesTheRestrictedUri) {
  const auto failure =
      ClassifyTokenError(403, R"({"error":"account_on_hold","error_description":"held"})");
  EXPECT_EQ(failure.kind, RefreshFailureKind::kAccountOnHold);
  EXPECT_EQ(failure.error_uri, "https://claude.ai/restricted");
  EXPECT_EQ(failure.Summary(), "HTTP 403 account_on_hold: held (https://claude.ai/restricted)");
}

TEST(TransportFailure, IsTransient) {
  EXPECT_EQ(TransportFailure(Error{ErrorKind::kUpstreamTimeout, "timeout", {}, {}}).kind,
            RefreshFailureKind::kTransient);
}

TEST(BackoffPolicy, DoublesUpToTheCapDeterministically) {
  const BackoffPolicy policy{std::chrono::milliseconds(1000), std::chrono::milliseconds(8000), 0.0};
  const std::vector<std::int64_t> expected = {0, 1000, 2000, 4000, 8000, 8000, 8000};
  for (int failures = 0; failures < static_cast<int>(expected.size()); ++failures) {
    EXPECT_EQ(policy.Delay(failures, 0.99).count(), expected[failures]) << failures;
  }
  EXPECT_EQ(policy.Delay(1000).count(), 8000);  // No overflow.
}

TEST(BackoffPolicy, JitterIsSymmetricAndNeverExceedsTheCap) {
  const BackoffPolicy policy{std::chrono::milliseconds(1000), std::chrono::milliseconds(8000), 0.2};
  EXPECT_EQ(policy.Delay(1, 0.0).count(), 800);
  EXPECT_EQ(policy.Delay(1, 0.5).count(), 1000);
  EXPECT_EQ(policy.Delay(1, 1.0).count(), 1200);
  EXPECT_EQ(policy.Delay(10, 1.0).count(), 8000);
}

// The labels are the `outcome` values of claudegate_credential_refreshes_total and of /health's
// last_refresh: renaming one breaks dashboards and alerts.
TEST(RefreshOutcome, LabelsAreTheMetricLabels) {
  EXPECT_EQ(Label(RefreshOutcome::kRefreshed), "refreshed");
  EXPECT_EQ(Label(RefreshOutcome::kAdoptedSibling), "adopted_sibling");
  EXPECT_EQ(Label(RefreshOutcome::kFailed), "failed");
  EXPECT_EQ(Label(RefreshOutcome::kDead), "dead");
  EXPECT_EQ(Label(RefreshOutcome::kLoggedOut), "logged_out");
  EXPECT_EQ(static_cast<std::size_t>(RefreshOutcome::kLoggedOut) + 1, kRefreshOutcomeCount);
}

TEST(RefreshFailure, ScopeRejectedOnlyForInvalidScope) {
  EXPECT_TRUE(ClassifyTokenError(400, R"({"error":"invalid_scope"})").ScopeRejected());
  EXPECT_FALSE(ClassifyTokenError(400, R"({"error":"invalid_grant"})").ScopeRejected());
  EXPECT_FALSE(ClassifyTokenError(503, "").ScopeRejected());
}

}  // namespace
}  // namespace claudegate::credentials
