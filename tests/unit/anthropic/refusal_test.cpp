// The refusal classifier, table-driven against tests/data/anthropic/refusal_cases.json, plus the
// plan guard's verdicts and the helpers that read an answer.
#include "claudegate/anthropic/refusal.hpp"

#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "unit/translate/golden_util.hpp"

namespace claudegate::anthropic {
namespace {

using nlohmann::ordered_json;
using testing::DataDir;
using testing::ReadFile;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1900000000));
const auto kCasesFile = DataDir() / "anthropic" / "refusal_cases.json";

UnifiedHeaders Unified(const ordered_json& object) {
  UnifiedHeaders out;
  for (const auto& [key, value] : object.items()) {
    out.emplace(key, value.get<std::string>());
  }
  return out;
}

ordered_json Describe(const Refusal& refusal) {
  ordered_json out;
  out["kind"] = Label(refusal.kind);
  if (!refusal.claim.empty()) {
    out["claim"] = refusal.claim;
  }
  if (refusal.reset) {
    out["reset"] = *refusal.reset;
  }
  out["retry_useless"] = refusal.retry_useless;
  out["message"] = refusal.message;
  return out;
}

TEST(ClassifyRefusal, NamesEveryCaseInTheTable) {
  auto file = ordered_json::parse(ReadFile(kCasesFile));
  auto& cases = file["cases"];
  ASSERT_GE(cases.size(), 20U);
  for (auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const UnifiedHeaders unified = Unified(c.value("unified", ordered_json::object()));
    const std::string type = c["type"];
    const std::string message = c["message"];
    const UpstreamAnswer answer{c["status"].get<unsigned>(),
                                c.contains("unified") ? &unified : nullptr, type, message};
    const auto actual = Describe(ClassifyRefusal(answer, kNow));
    if (testing::UpdateGoldens()) {
      c["expect"] = actual;
      continue;
    }
    // The kind was written by hand; the rest is a reviewed golden.
    EXPECT_EQ(actual["kind"], c["expect"]["kind"]);
    EXPECT_EQ(actual.dump(2), c["expect"].dump(2));
  }
  if (testing::UpdateGoldens()) {
    testing::WriteFile(kCasesFile, file.dump(2) + "\n");
  }
}

TEST(ClassifyRefusal, EveryKindHasItsOwnLabel) {
  std::set<std::string_view> labels;
  for (int k = static_cast<int>(RefusalKind::kFiveHourLimit);
       k <= static_cast<int>(RefusalKind::kOverloaded); ++k) {
    const auto label = Label(static_cast<RefusalKind>(k));
    EXPECT_FALSE(label.empty()) << k;
    EXPECT_EQ(label.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    EXPECT_TRUE(labels.insert(label).second) << label;
  }
  EXPECT_EQ(Label(RefusalKind::kNone), "");
}

TEST(ClassifyRefusal, MatchesWordingCaseInsensitively) {
  const UpstreamAnswer answer{429, nullptr, "rate_limit_error",
                              "EXTRA USAGE is required for Long Context requests"};
  EXPECT_EQ(ClassifyRefusal(answer, kNow).kind, RefusalKind::kLongContextExtraUsage);
}

TEST(ReadUnifiedHeaders, CollectsEveryUnifiedHeaderBySuffixWhateverItsCase) {
  http::fields fields;
  fields.set("Anthropic-Ratelimit-Unified-Status", "rejected");
  fields.set("anthropic-ratelimit-unified-7D_OPUS-reset", "1900000100");
  fields.set("anthropic-ratelimit-requests-remaining", "0");  // API-key header: not unified
  fields.set("retry-after", "5");
  const auto unified = ReadUnifiedHeaders(fields);
  EXPECT_EQ(unified.size(), 2U);
  EXPECT_EQ(unified.at("status"), "rejected");
  EXPECT_EQ(unified.at("7d_opus-reset"), "1900000100");
}

TEST(ReadErrorFields, ReadsTypeAndMessageAndToleratesOtherBodies) {
  const auto fields = ReadErrorFields(
      R"({"type":"error","error":{"type":"rate_limit_error","message":"Rate limited"},"request_id":"r"})");
  EXPECT_EQ(fields.type, "rate_limit_error");
  EXPECT_EQ(fields.message, "Rate limited");
  EXPECT_TRUE(ReadErrorFields("<html>502</html>").type.empty());
  EXPECT_TRUE(ReadErrorFields(R"({"error":"nope"})").message.empty());
}

TEST(Refusal, SecondsUntilResetOnlyWhenTheResetIsAhead) {
  Refusal refusal;
  EXPECT_FALSE(refusal.SecondsUntilReset(kNow));
  refusal.reset = 1900000090;
  EXPECT_EQ(refusal.SecondsUntilReset(kNow), 90);
  refusal.reset = 1900000000;
  EXPECT_FALSE(refusal.SecondsUntilReset(kNow));
}

struct GuardCase {
  const char* name;
  UnifiedHeaders unified;
  bool refuse_overage;
  RefusalKind expect;
};

TEST(PlanGuardRefusal, UsesTheSameKindsAsAnthropicsRefusals) {
  const std::vector<GuardCase> cases = {
      {"five_hour",
       {{"status", "rejected"}, {"reset", "1900003600"}, {"representative-claim", "five_hour"}},
       false,
       RefusalKind::kFiveHourLimit},
      {"weekly",
       {{"status", "rejected"}, {"reset", "1900300000"}, {"representative-claim", "seven_day"}},
       false,
       RefusalKind::kWeeklyLimit},
      {"model",
       {{"status", "rejected"},
        {"reset", "1900300000"},
        {"representative-claim", "seven_day_opus"}},
       false,
       RefusalKind::kModelLimit},
      {"reset_passed",
       {{"status", "rejected"}, {"reset", "1899999000"}, {"representative-claim", "five_hour"}},
       true,
       RefusalKind::kNone},
      {"overage_refused",
       {{"status", "allowed"}, {"reset", "1900003600"}, {"overage-in-use", "true"}},
       true,
       RefusalKind::kOverageInUse},
      {"overage_allowed",
       {{"status", "allowed"}, {"reset", "1900003600"}, {"overage-in-use", "true"}},
       false,
       RefusalKind::kNone},
      {"allowed_warning", {{"status", "allowed_warning"}}, true, RefusalKind::kNone},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto refusal = PlanGuardRefusal(c.unified, kNow, c.refuse_overage);
    ASSERT_EQ(refusal.has_value(), c.expect != RefusalKind::kNone);
    if (refusal) {
      EXPECT_EQ(refusal->kind, c.expect);
      EXPECT_NE(refusal->message.find("resets at"), std::string::npos) << refusal->message;
      EXPECT_TRUE(refusal->retry_useless);
      EXPECT_TRUE(refusal->SecondsUntilReset(kNow).has_value());
    }
  }
}

}  // namespace
}  // namespace claudegate::anthropic
