// Brute-force protection through the real gateway: wrong keys from one client get it refused for
// a while (429 + Retry-After in the route's own shape), while the owner elsewhere keeps working.
// Several clients are played from different loopback source addresses (127.0.0.2, 127.0.0.3).

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

config::Config ThrottledConfig(std::chrono::milliseconds block) {
  auto config = TestConfig();
  config.auth_throttle.max_failures = 3;
  config.auth_throttle.window = 60s;
  config.auth_throttle.block = block;
  return config;
}

std::optional<TestResponse> GetFrom(std::string_view source, std::uint16_t port,
                                    std::string_view target, const std::string& key,
                                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  TestClient client(port, 10s, source);
  if (!key.empty()) {
    headers.emplace_back("authorization", "Bearer " + key);
  }
  return client.Request(http::verb::get, target, {}, std::move(headers));
}

// Counters are recorded after the response is written (no event to await): poll, bounded.
bool MetricsEventuallyContain(std::uint16_t port, const std::string& line) {
  return PollUntil(
      [&] {
        auto metrics = GetFrom("127.0.0.3", port, "/metrics", kTestMasterKey);
        return metrics && metrics->body().find(line) != std::string::npos;
      },
      5s);
}

TEST(AuthThrottle, RefusesAGuessingClientButNotTheOwnerElsewhere) {
  TestGateway gw(ThrottledConfig(60s));
  const std::string wrong = kTestMasterKey + "-guess";
  for (int i = 0; i < 3; ++i) {
    auto refused = GetFrom("127.0.0.1", gw.port(), "/v1/models", wrong);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << "attempt " << i;
  }

  // Blocked now, even with the right key: a block must not become an oracle for guesses.
  auto blocked = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->status, 429);
  const int retry_after = std::stoi(blocked->header("retry-after"));
  EXPECT_GT(retry_after, 55);
  EXPECT_LE(retry_after, 60);
  auto openai = json::parse(blocked->body());
  EXPECT_EQ(openai["error"]["type"], "rate_limit_error");
  EXPECT_EQ(openai["error"]["code"], "auth_throttled");

  TestClient anthropic_client(gw.port(), 10s, "127.0.0.1");
  auto anthropic = anthropic_client.Request(http::verb::post, "/v1/messages", "{}",
                                            {{"x-api-key", kTestMasterKey}});
  ASSERT_TRUE(anthropic);
  EXPECT_EQ(anthropic->status, 429);
  auto anthropic_body = json::parse(anthropic->body());
  EXPECT_EQ(anthropic_body["type"], "error");
  EXPECT_EQ(anthropic_body["error"]["type"], "rate_limit_error");

  // Probes stay open to the blocked address (an orchestrator may share it).
  auto probe = GetFrom("127.0.0.1", gw.port(), "/health/liveliness", {});
  ASSERT_TRUE(probe);
  EXPECT_EQ(probe->status, 200);

  // The owner, elsewhere, is not affected.
  auto owner = GetFrom("127.0.0.2", gw.port(), "/v1/models", kTestMasterKey);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->status, 200);

  EXPECT_TRUE(MetricsEventuallyContain(gw.port(), "claudegate_auth_blocks_total 1\n"));
  EXPECT_TRUE(MetricsEventuallyContain(gw.port(),
                                       "claudegate_auth_failures_total{reason=\"throttled\"} 2\n"));
  EXPECT_TRUE(MetricsEventuallyContain(gw.port(),
                                       "claudegate_auth_failures_total{reason=\"invalid\"} 3\n"));
}

TEST(AuthThrottle, LetsTheClientBackInWhenTheBlockEnds) {
  TestGateway gw(ThrottledConfig(300ms));
  for (int i = 0; i < 3; ++i) {
    GetFrom("127.0.0.1", gw.port(), "/v1/models", "sk-wrong");
  }
  auto blocked = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->status, 429);
  EXPECT_EQ(blocked->header("retry-after"), "1");  // rounded up, never 0

  // The block ends at a time, not on an event: poll, bounded.
  unsigned status = 0;
  PollUntil(
      [&] {
        auto again = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey);
        status = again ? again->status : 0;
        return status != 429;
      },
      5s);
  EXPECT_EQ(status, 200);
}

TEST(AuthThrottle, TellsClientsApartBehindATrustedProxy) {
  auto config = ThrottledConfig(60s);
  config.trusted_proxies = {"127.0.0.1"};
  TestGateway gw(config);
  for (int i = 0; i < 3; ++i) {
    GetFrom("127.0.0.1", gw.port(), "/v1/models", "sk-wrong",
            {{"x-forwarded-for", "198.51.100.1"}});
  }
  auto attacker = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey,
                          {{"x-forwarded-for", "198.51.100.1"}});
  ASSERT_TRUE(attacker);
  EXPECT_EQ(attacker->status, 429);

  // Same proxy, another client: served. A client cannot escape by prepending addresses.
  auto owner = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey,
                       {{"x-forwarded-for", "198.51.100.2"}});
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->status, 200);
  auto spoofing = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey,
                          {{"x-forwarded-for", "203.0.113.9, 198.51.100.1"}});
  ASSERT_TRUE(spoofing);
  EXPECT_EQ(spoofing->status, 429);

  // X-Forwarded-For from an untrusted peer is ignored: 127.0.0.2 is judged by its own address.
  auto direct = GetFrom("127.0.0.2", gw.port(), "/v1/models", kTestMasterKey,
                        {{"x-forwarded-for", "198.51.100.1"}});
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->status, 200);
}

TEST(AuthThrottle, TheOwnersRightKeysDoNotGiveAnAttackerOnTheSameAddressFreshGuesses) {
  // One NAT: attacker and owner share 127.0.0.1. Wrong keys count until the window ends, whatever
  // right keys arrive in between (max_failures 3).
  TestGateway gw(ThrottledConfig(60s));
  for (int i = 0; i < 2; ++i) {
    auto wrong = GetFrom("127.0.0.1", gw.port(), "/v1/models", "sk-wrong");
    ASSERT_TRUE(wrong);
    EXPECT_EQ(wrong->status, 401);
    auto owner = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey);
    ASSERT_TRUE(owner);
    EXPECT_EQ(owner->status, 200);
  }
  auto third = GetFrom("127.0.0.1", gw.port(), "/v1/models", "sk-wrong");
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, 401);
  auto blocked = GetFrom("127.0.0.1", gw.port(), "/v1/models", kTestMasterKey);
  ASSERT_TRUE(blocked);
  EXPECT_EQ(blocked->status, 429) << "the third wrong key in the window must start a block";
}

// A GET /v1/models through a proxy that appends its own X-Forwarded-For field line after the one
// the client wrote (HAProxy's `option forwardfor`): two field lines on the wire.
std::optional<TestResponse> GetThroughAppendingProxy(std::uint16_t port,
                                                     const std::string& client_line,
                                                     const std::string& proxy_line,
                                                     const std::string& key) {
  TestClient client(port, 10s, "127.0.0.1");
  client.SendRaw("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + key +
                 "\r\nX-Forwarded-For: " + client_line + "\r\nX-Forwarded-For: " + proxy_line +
                 "\r\n\r\n");
  return client.ReadResponse();
}

TEST(AuthThrottle, BelievesTheProxysAppendedForwardedForLineNotTheClients) {
  auto config = ThrottledConfig(60s);
  config.trusted_proxies = {"127.0.0.1"};
  TestGateway gw(config);
  // The attacker (198.51.100.1) rotates the line it writes itself, and names the owner in it.
  for (const char* written : {"203.0.113.1", "203.0.113.2", "198.51.100.2"}) {
    auto refused = GetThroughAppendingProxy(gw.port(), written, "198.51.100.1", "sk-wrong");
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 401) << written;
  }
  auto attacker =
      GetThroughAppendingProxy(gw.port(), "203.0.113.4", "198.51.100.1", kTestMasterKey);
  ASSERT_TRUE(attacker);
  EXPECT_EQ(attacker->status, 429) << "a rotating first line must not escape the block";

  // The owner behind the same proxy is not locked out by the attacker naming its address.
  auto owner = GetThroughAppendingProxy(gw.port(), "198.51.100.2", "198.51.100.2", kTestMasterKey);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->status, 200);
}

}  // namespace
}  // namespace claudegate::testing
