// The retry policy, table-driven: what failed, how many retries were made, the time used (a fake
// clock: `elapsed` is an input, nothing sleeps) and the server's hints → retry after a delay, or
// give up and why. Plus the hint parsing, the failure classification and the fallback lists.
#include "claudegate/exchange/retry_policy.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "claudegate/exchange/attempt_failure.hpp"
#include "claudegate/exchange/fallbacks.hpp"

namespace claudegate::exchange {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

config::Retries Defaults() { return config::Retries{}; }

struct PolicyCase {
  const char* name;
  FailureKind kind;
  unsigned retries_done;
  milliseconds elapsed;
  std::optional<milliseconds> hint;
  double jitter;
  GiveUp expected_give_up;
  milliseconds expected_delay;
};

TEST(RetryPolicy, DecidesFromTheTable) {
  const std::vector<PolicyCase> cases = {
      // Backoff: 500 ms doubling, less jitter × 25 %.
      {"overloaded first retry", FailureKind::kOverloaded, 0, 0ms, {}, 0.0, GiveUp::kNone, 500ms},
      {"overloaded, full jitter", FailureKind::kOverloaded, 0, 0ms, {}, 1.0, GiveUp::kNone, 375ms},
      {"second retry doubles", FailureKind::kServerError, 1, 600ms, {}, 0.0, GiveUp::kNone, 1000ms},
      {"connection", FailureKind::kConnection, 0, 0ms, {}, 0.0, GiveUp::kNone, 500ms},
      {"tls", FailureKind::kTls, 0, 0ms, {}, 0.0, GiveUp::kNone, 500ms},
      {"connect timeout", FailureKind::kConnectTimeout, 0, 0ms, {}, 0.0, GiveUp::kNone, 500ms},
      {"stream error event", FailureKind::kStreamError, 0, 0ms, {}, 0.0, GiveUp::kNone, 500ms},
      // Attempts.
      {"attempts spent", FailureKind::kOverloaded, 2, 0ms, {}, 0.0, GiveUp::kAttempts, 0ms},
      // Hints replace the backoff, jitter or not.
      {"retry-after honoured", FailureKind::kOverloaded, 0, 0ms, 3s, 0.9, GiveUp::kNone, 3s},
      {"429 with a hint that fits", FailureKind::kRateLimited, 0, 1s, 2s, 0.0, GiveUp::kNone, 2s},
      {"429 with a hint too long", FailureKind::kRateLimited, 0, 0ms, 31s, 0.0, GiveUp::kBudget,
       0ms},
      {"429 without a hint", FailureKind::kRateLimited, 0, 0ms, {}, 0.0, GiveUp::kNoHint, 0ms},
      // The budget (30 s) counts the time used plus the wait.
      {"budget spent", FailureKind::kOverloaded, 1, 29'500ms, {}, 0.0, GiveUp::kBudget, 0ms},
      {"wait ends exactly at the budget",
       FailureKind::kOverloaded,
       0,
       29'500ms,
       {},
       0.0,
       GiveUp::kNone,
       500ms},
      // Never retried.
      {"first-byte timeout",
       FailureKind::kFirstByteTimeout,
       0,
       0ms,
       {},
       0.0,
       GiveUp::kNotRetryable,
       0ms},
      {"plan refusal", FailureKind::kPlanRefusal, 0, 0ms, 1s, 0.0, GiveUp::kNotRetryable, 0ms},
      {"prompt too long", FailureKind::kPromptTooLong, 0, 0ms, {}, 0.0, GiveUp::kNotRetryable, 0ms},
      {"a 400", FailureKind::kNotRetryable, 0, 0ms, {}, 0.0, GiveUp::kNotRetryable, 0ms},
  };
  for (const auto& c : cases) {
    RetryHints hints;
    hints.retry_after = c.hint;
    const auto decision =
        DecideRetry(Defaults(), c.kind, c.retries_done, c.elapsed, hints, c.jitter);
    EXPECT_EQ(decision.give_up, c.expected_give_up) << c.name;
    EXPECT_EQ(decision.delay, c.expected_delay) << c.name;
    EXPECT_EQ(decision.retry(), c.expected_give_up == GiveUp::kNone) << c.name;
  }
}

TEST(RetryPolicy, BackoffIsCappedAndMinDelayApplies) {
  auto settings = Defaults();
  settings.num_retries = 10;
  settings.budget = 10min;
  const RetryHints none;
  EXPECT_EQ(DecideRetry(settings, FailureKind::kOverloaded, 6, 0ms, none, 0.0).delay, 8s);
  EXPECT_EQ(DecideRetry(settings, FailureKind::kOverloaded, 9, 0ms, none, 0.0).delay, 8s);
  settings.min_delay = 2s;
  EXPECT_EQ(DecideRetry(settings, FailureKind::kOverloaded, 0, 0ms, none, 0.0).delay, 2s);
  settings.num_retries = 0;
  EXPECT_EQ(DecideRetry(settings, FailureKind::kOverloaded, 0, 0ms, none, 0.0).give_up,
            GiveUp::kAttempts);
}

http::fields Headers(std::vector<std::pair<std::string, std::string>> pairs) {
  http::fields fields;
  for (const auto& [name, value] : pairs) {
    fields.insert(name, value);
  }
  return fields;
}

TEST(RetryHints, ReadsTheHeadersInTheSdkOrder) {
  const auto now = std::chrono::system_clock::from_time_t(1'800'000'000);
  struct Case {
    const char* name;
    std::vector<std::pair<std::string, std::string>> headers;
    std::optional<milliseconds> expected;
  };
  const std::vector<Case> cases = {
      {"none", {}, std::nullopt},
      {"retry-after seconds", {{"retry-after", "7"}}, 7s},
      {"retry-after-ms first", {{"retry-after", "7"}, {"retry-after-ms", "250"}}, 250ms},
      {"retry-after garbage", {{"retry-after", "soon"}}, std::nullopt},
      {"RFC 3339 reset", {{"anthropic-ratelimit-requests-reset", "2027-01-15T08:00:05Z"}}, 5s},
      {"unified reset, Unix seconds", {{"anthropic-ratelimit-unified-reset", "1800000012"}}, 12s},
      {"the latest reset",
       {{"anthropic-ratelimit-requests-reset", "2027-01-15T08:00:05Z"},
        {"anthropic-ratelimit-tokens-reset", "2027-01-15T08:00:09Z"}},
       9s},
      {"a reset in the past", {{"anthropic-ratelimit-unified-reset", "1799999990"}}, std::nullopt},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(HintsFrom(Headers(c.headers), now).retry_after, c.expected) << c.name;
  }
}

TEST(AttemptFailure, ClassifiesAnswers) {
  const auto overloaded = R"({"type":"error","error":{"type":"overloaded_error","message":"x"}})";
  const auto too_long =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}})";
  const auto invalid_model =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"invalid model name"}})";
  const auto bad = R"({"type":"error","error":{"type":"invalid_request_error","message":"x"}})";
  const http::fields none;
  EXPECT_EQ(ClassifyAnswer(529, overloaded, none), FailureKind::kOverloaded);
  EXPECT_EQ(ClassifyAnswer(503, overloaded, none), FailureKind::kOverloaded);
  EXPECT_EQ(ClassifyAnswer(500, "", none), FailureKind::kServerError);
  EXPECT_EQ(ClassifyAnswer(502, "<html>", none), FailureKind::kServerError);
  EXPECT_EQ(ClassifyAnswer(504, "", none), FailureKind::kServerError);
  EXPECT_EQ(ClassifyAnswer(429, "", none), FailureKind::kRateLimited);
  EXPECT_EQ(ClassifyAnswer(429, "", Headers({{"anthropic-ratelimit-unified-status", "rejected"}})),
            FailureKind::kPlanRefusal);
  EXPECT_EQ(ClassifyAnswer(400, invalid_model, none), FailureKind::kPlanRefusal);
  // A model-scoped window: another model is the point of a fallback.
  EXPECT_EQ(ClassifyAnswer(
                429, "",
                Headers({{"anthropic-ratelimit-unified-status", "rejected"},
                         {"anthropic-ratelimit-unified-representative-claim", "seven_day_opus"}})),
            FailureKind::kPlanRefusal);
  // The whole plan's 5-hour window refuses every model alike, unless Anthropic allows a fallback.
  const auto five_hour =
      Headers({{"anthropic-ratelimit-unified-status", "rejected"},
               {"anthropic-ratelimit-unified-representative-claim", "five_hour"}});
  EXPECT_NE(ClassifyAnswer(429, "", five_hour), FailureKind::kPlanRefusal);
  EXPECT_EQ(
      ClassifyAnswer(429, "",
                     Headers({{"anthropic-ratelimit-unified-status", "rejected"},
                              {"anthropic-ratelimit-unified-representative-claim", "five_hour"},
                              {"anthropic-ratelimit-unified-fallback", "available"}})),
      FailureKind::kPlanRefusal);
  EXPECT_EQ(ClassifyAnswer(400, too_long, none), FailureKind::kPromptTooLong);
  EXPECT_EQ(ClassifyAnswer(400, bad, none), FailureKind::kNotRetryable);
  EXPECT_EQ(ClassifyAnswer(401, "", none), FailureKind::kNotRetryable);
  EXPECT_EQ(ClassifyAnswer(404, "", none), FailureKind::kNotRetryable);
  EXPECT_EQ(ClassifyAnswer(413, "", none), FailureKind::kNotRetryable);
}

TEST(AttemptFailure, ClassifiesTransportErrorsAndFirstEvents) {
  EXPECT_EQ(ClassifyTransport(Error(ErrorKind::kUpstreamUnreachable, "connection refused")),
            FailureKind::kConnection);
  EXPECT_EQ(ClassifyTransport(Error(ErrorKind::kUpstreamUnreachable,
                                    "Cannot reach the Claude API: TLS handshake failed (x).")),
            FailureKind::kTls);
  EXPECT_EQ(ClassifyTransport(Error(ErrorKind::kUpstreamTimeout,
                                    "The Claude API did not answer in time (first-byte timeout).")),
            FailureKind::kFirstByteTimeout);
  EXPECT_EQ(ClassifyTransport(Error(ErrorKind::kUpstreamTimeout, "Timed out connecting to it")),
            FailureKind::kConnectTimeout);
  EXPECT_EQ(ClassifyTransport(Error(ErrorKind::kCredentialUnavailable, "log in")),
            FailureKind::kNotRetryable);
  EXPECT_EQ(ClassifyStreamError(R"({"type":"error","error":{"type":"overloaded_error"}})"),
            FailureKind::kStreamError);
  EXPECT_EQ(ClassifyStreamError(R"({"type":"error","error":{"type":"api_error"}})"),
            FailureKind::kStreamError);
  EXPECT_EQ(ClassifyStreamError(R"({"type":"error","error":{"type":"invalid_request_error"}})"),
            FailureKind::kNotRetryable);
}

TEST(Fallbacks, ResolvesRulesThroughTheCatalog) {
  config::Retries settings;
  settings.fallbacks = {{"opus", {"sonnet", "nonsense", "claude-opus-5-5", "haiku"}}};
  settings.context_window_fallbacks = {{"claude-sonnet-5-5", {"claude-sonnet-5-5-1m"}}};
  const config::ModelCatalog models(config::ModelCatalog::DefaultAliases());

  // By name, and by id: "claude-opus-5-5" is what "opus" resolves to. Unknown targets and the
  // model itself are skipped.
  for (const char* requested : {"opus", "claude-opus-5-5"}) {
    const auto found = FallbacksFor(settings, models, requested);
    ASSERT_EQ(found.general.size(), 2U) << requested;
    EXPECT_EQ(found.general[0].name, "sonnet");
    EXPECT_EQ(found.general[0].upstream_id, "claude-sonnet-5-5");
    EXPECT_EQ(found.general[1].name, "haiku");
    EXPECT_TRUE(found.context_window.empty());
  }
  const auto sonnet = FallbacksFor(settings, models, "sonnet");
  EXPECT_TRUE(sonnet.general.empty());
  ASSERT_EQ(sonnet.context_window.size(), 1U);
  EXPECT_TRUE(FallbacksFor(settings, models, "haiku").empty());
  EXPECT_TRUE(FallbacksFor(settings, models, "gpt-4o").empty());

  EXPECT_EQ(FallbackListFor(sonnet, FailureKind::kPromptTooLong), &sonnet.context_window);
  EXPECT_EQ(FallbackListFor(sonnet, FailureKind::kOverloaded), &sonnet.general);
  EXPECT_EQ(FallbackListFor(sonnet, FailureKind::kPlanRefusal), &sonnet.general);
  EXPECT_EQ(FallbackListFor(sonnet, FailureKind::kFirstByteTimeout), nullptr);
  EXPECT_EQ(FallbackListFor(sonnet, FailureKind::kNotRetryable), nullptr);
}

}  // namespace
}  // namespace claudegate::exchange
