// keys/key_json: LiteLLM's fields applied to a key, and a key as /key/info shows it.
#include "claudegate/keys/key_json.hpp"

#include <gtest/gtest.h>

namespace claudegate::keys {
namespace {

using nlohmann::json;

constexpr std::int64_t kNow = 1'800'000'000;  // 2027-01-15T08:00:00Z

TEST(KeyJson, AppliesEveryFieldAndNullClearsALimit) {
  store::KeyRecord record;
  record.created_at = kNow;
  const json body = {{"key_alias", "ci-bot"},
                     {"models", {"sonnet", "haiku"}},
                     {"rpm_limit", 60},
                     {"tpm_limit", 100000},
                     {"max_parallel_requests", 2},
                     {"max_budget", 12.5},
                     {"budget_duration", "30d"},
                     {"duration", "1h"},
                     {"metadata", {{"team", "infra"}}},
                     {"blocked", false},
                     {"user_id", "ignored"}};
  ASSERT_FALSE(ApplyKeyFields(body, record, kNow));
  EXPECT_EQ(record.alias, "ci-bot");
  EXPECT_EQ(record.models, (std::vector<std::string>{"sonnet", "haiku"}));
  EXPECT_EQ(record.rpm_limit, 60);
  EXPECT_EQ(record.tpm_limit, 100000);
  EXPECT_EQ(record.max_parallel_requests, 2);
  EXPECT_EQ(record.max_budget, 12.5);
  EXPECT_EQ(record.budget_duration, 30 * 86400);
  EXPECT_EQ(record.budget_reset_at, kNow + 30 * 86400);
  EXPECT_EQ(record.expires_at, kNow + 3600);
  EXPECT_EQ(json::parse(record.metadata), (json{{"team", "infra"}}));
  EXPECT_EQ(record.updated_at, kNow);

  ASSERT_FALSE(ApplyKeyFields({{"rpm_limit", nullptr}, {"duration", nullptr}}, record, kNow + 1));
  EXPECT_FALSE(record.rpm_limit);
  EXPECT_FALSE(record.expires_at);
  EXPECT_EQ(record.tpm_limit, 100000);  // fields not named stay
}

TEST(KeyJson, EachBadFieldIsA400NamingIt) {
  const std::pair<json, const char*> cases[] = {
      {{{"key_alias", "has space"}}, "key_alias"},
      {{{"key_alias", std::string(65, 'a')}}, "key_alias"},
      {{{"key_alias", 7}}, "key_alias"},
      {{{"models", "sonnet"}}, "models"},
      {{{"models", {1}}}, "models"},
      {{{"rpm_limit", -1}}, "rpm_limit"},
      {{{"tpm_limit", 1.5}}, "tpm_limit"},
      {{{"max_parallel_requests", "2"}}, "max_parallel_requests"},
      {{{"rpm_limit", 18446744073709551615ULL}}, "rpm_limit"},
      {{{"max_budget", -0.5}}, "max_budget"},
      {{{"budget_duration", "monthly"}}, "budget_duration"},
      {{{"duration", 30}}, "duration"},
      {{{"metadata", "text"}}, "metadata"},
      {{{"metadata", {{"big", std::string(17000, 'x')}}}}, "metadata"},
      {{{"blocked", "yes"}}, "blocked"},
  };
  for (const auto& [body, field] : cases) {
    store::KeyRecord record;
    const auto error = ApplyKeyFields(body, record, kNow);
    ASSERT_TRUE(error) << body.dump();
    EXPECT_EQ(error->kind, ErrorKind::kInvalidRequest) << body.dump();
    EXPECT_EQ(error->param, field) << body.dump();
  }
  store::KeyRecord record;
  EXPECT_TRUE(ApplyKeyFields(json::array(), record, kNow));
}

TEST(KeyJson, InfoShowsLiteLlmsFieldsAndNeverTheKey) {
  store::KeyRecord record;
  record.token = std::string(64, 'b');
  record.key_name = "sk-...cdef";
  record.alias = "ci-bot";
  record.rpm_limit = 60;
  record.max_budget = 5.0;
  record.spend = 0.25;
  record.expires_at = kNow;
  record.created_at = kNow;
  record.updated_at = kNow;
  const json info = KeyInfoJson(record);
  EXPECT_EQ(info["token"], record.token);
  EXPECT_EQ(info["key_name"], "sk-...cdef");
  EXPECT_EQ(info["key_alias"], "ci-bot");
  EXPECT_EQ(info["rpm_limit"], 60);
  EXPECT_EQ(info["tpm_limit"], nullptr);
  EXPECT_EQ(info["max_budget"], 5.0);
  EXPECT_EQ(info["spend"], 0.25);
  EXPECT_EQ(info["expires"], "2027-01-15T08:00:00Z");
  EXPECT_EQ(info["metadata"], json::object());
  EXPECT_EQ(info["blocked"], false);
  EXPECT_FALSE(info.contains("key"));
}

}  // namespace
}  // namespace claudegate::keys
