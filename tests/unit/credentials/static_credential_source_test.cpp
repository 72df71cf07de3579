#include "claudegate/credentials/static_credential_source.hpp"

#include <gtest/gtest.h>

#include "claudegate/credentials/make_credential_source.hpp"

#include "credentials_test_support.hpp"

namespace claudegate::credentials {
namespace {

TEST(StaticCredentialSource, ServesTheTokenAndCannotReplaceARejectedOne) {
  net::io_context ioc;
  StaticCredentialSource source({CredentialKind::kOAuth, "sk-ant-oat01-env"},
                                "CLAUDE_CODE_OAUTH_TOKEN");
  auto current = testing::RunToCompletion(ioc, source.Current());
  ASSERT_TRUE(current.has_value());
  EXPECT_EQ(current->kind, CredentialKind::kOAuth);
  EXPECT_EQ(current->secret, "sk-ant-oat01-env");

  auto retry = testing::RunToCompletion(ioc, source.OnRejected(*current));
  ASSERT_FALSE(retry.has_value());
  EXPECT_EQ(retry.error().kind, ErrorKind::kUpstreamAuthentication);
  EXPECT_NE(retry.error().message.find("claude setup-token"), std::string::npos);
  EXPECT_TRUE(source.Ready());
  EXPECT_EQ(source.Status()["rejected_by_upstream"], true);
  EXPECT_EQ(source.Status().dump().find("sk-ant"), std::string::npos);
}

TEST(NoCredentialSource, FailsWithItsMessageAndIsNotReady) {
  net::io_context ioc;
  NoCredentialSource source("set CLAUDE_CODE_OAUTH_TOKEN");
  auto current = testing::RunToCompletion(ioc, source.Current());
  ASSERT_FALSE(current.has_value());
  EXPECT_EQ(current.error().kind, ErrorKind::kCredentialUnavailable);
  EXPECT_EQ(current.error().message, "set CLAUDE_CODE_OAUTH_TOKEN");
  EXPECT_FALSE(source.Ready());
  EXPECT_EQ(source.Status()["source"], "none");
}

struct PrecedenceCase {
  const char* name;
  bool oauth_token;
  bool file;
  bool dir;
  bool api_key;
  const char* source;    // Status()["source"]
  const char* variable;  // For environment sources.
};

class Precedence : public ::testing::TestWithParam<PrecedenceCase> {};

TEST_P(Precedence, PicksTheHighestConfiguredSource) {
  const auto& c = GetParam();
  testing::TempDir tmp;
  const auto config = tmp.Path() / "claude";
  if (c.dir || c.file) {
    std::filesystem::create_directory(config);
  }
  if (c.file) {
    testing::WriteText(config / ".credentials.json",
                       testing::CredentialsJson("a", "r", 4'000'000'000'000));
  }
  CredentialSettings settings;
  settings.claude_code_oauth_token = c.oauth_token ? "sk-ant-oat01-env" : "";
  settings.claude_config_dir = config.string();
  settings.anthropic_api_key = c.api_key ? "sk-ant-api03-key" : "";
  testing::FakeTokenEndpoint endpoint;
  net::io_context ioc;
  auto source = MakeCredentialSource(settings, endpoint, ioc.get_executor());
  const auto status = source->Status();
  EXPECT_EQ(status["source"], c.source) << status.dump();
  if (c.variable != nullptr) {
    EXPECT_EQ(status["variable"], c.variable);
  }
  if (std::string(c.source) == "none") {
    auto current = testing::RunToCompletion(ioc, source->Current());
    ASSERT_FALSE(current.has_value());
    EXPECT_NE(current.error().message.find(config.string()), std::string::npos);
    EXPECT_NE(current.error().message.find("ANTHROPIC_API_KEY"), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, Precedence,
    ::testing::Values(
        PrecedenceCase{"OauthTokenBeatsEverything", true, true, true, true, "environment",
                       "CLAUDE_CODE_OAUTH_TOKEN"},
        PrecedenceCase{"FileBeatsApiKey", false, true, true, true, "credentials_file", nullptr},
        PrecedenceCase{"ApiKeyWhenNoFile", false, false, true, true, "environment",
                       "ANTHROPIC_API_KEY"},
        PrecedenceCase{"EmptyConfigDirWaitsForLogin", false, false, true, false, "credentials_file",
                       nullptr},
        PrecedenceCase{"NothingConfigured", false, false, false, false, "none", nullptr}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(ResolveConfigDir, PrefersClaudeConfigDirThenHome) {
  EXPECT_EQ(ResolveConfigDir({"", "/cfg", "/home/u", ""}), "/cfg");
  EXPECT_EQ(ResolveConfigDir({"", "", "/home/u", ""}), "/home/u/.claude");
  EXPECT_EQ(ResolveConfigDir({}), "");
}

}  // namespace
}  // namespace claudegate::credentials
