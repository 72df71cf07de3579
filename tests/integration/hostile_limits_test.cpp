// The connection and body limits added against resource exhaustion: connections per client
// address (trusted proxies exempt) and the bytes of request bodies held across all connections.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using std::chrono::seconds;

std::string HangingChat() {
  const std::string body = R"({"model":"sonnet","messages":[{"role":"user","content":"x"}]})";
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         kTestMasterKey + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

ScriptedResponse NeverRespond(const RecordedRequest&) {
  ScriptedResponse hang;
  hang.fault = ScriptedResponse::Fault::kNeverRespond;
  return hang;
}

// Busy connections from one address fill only that address's share; the next one from there is
// refused while other addresses are served.
TEST(HostileLimits, OneAddressHoldsAtMostItsShareOfConnections) {
  FakeUpstream upstream(NeverRespond);
  auto config = ConfigFor(upstream);
  config.limits.max_connections_per_client = 3;
  TestGateway gw(std::move(config));
  std::vector<std::unique_ptr<TestClient>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<TestClient>(gw.port(), seconds(5), "127.0.0.2"));
    busy.back()->SendRaw(HangingChat());
  }
  ASSERT_TRUE(upstream.WaitForRequests(3, seconds(5)));
  TestClient fourth(gw.port(), seconds(5), "127.0.0.2");
  auto refused = fourth.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("retry-after"), "1");
  ExpectOwnerServed(gw.port(), "from another address while one address is at its share");
}

// An idle connection of the address at its share makes room for that address's new one; other
// addresses' idle connections are left alone.
TEST(HostileLimits, AtItsShareAnAddressEvictsOnlyItsOwnIdleConnections) {
  auto config = TestConfig();
  config.limits.max_connections_per_client = 2;
  TestGateway gw(std::move(config));
  TestClient other(gw.port(), seconds(5), "127.0.0.3");  // oldest of all, idle
  ASSERT_TRUE(other.Request(http::verb::get, "/health/liveness"));
  TestClient first(gw.port(), seconds(5), "127.0.0.2");
  ASSERT_TRUE(first.Request(http::verb::get, "/health/liveness"));
  TestClient second(gw.port(), seconds(5), "127.0.0.2");
  ASSERT_TRUE(second.Request(http::verb::get, "/health/liveness"));
  TestClient third(gw.port(), seconds(5), "127.0.0.2");
  auto served = third.Request(http::verb::get, "/health/liveness");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
  EXPECT_TRUE(first.WaitForClose());
  auto still = other.Request(http::verb::get, "/health/liveness");
  ASSERT_TRUE(still) << "another address's idle connection was evicted";
  EXPECT_EQ(still->status, 200);
}

TEST(HostileLimits, TrustedProxiesAreNotLimitedPerAddress) {
  FakeUpstream upstream(NeverRespond);
  auto config = ConfigFor(upstream);
  config.limits.max_connections_per_client = 2;
  config.trusted_proxies = {"127.0.0.2"};
  TestGateway gw(std::move(config));
  std::vector<std::unique_ptr<TestClient>> busy;
  for (int i = 0; i < 3; ++i) {
    busy.push_back(std::make_unique<TestClient>(gw.port(), seconds(5), "127.0.0.2"));
    busy.back()->SendRaw(HangingChat());
  }
  EXPECT_TRUE(upstream.WaitForRequests(3, seconds(5)));
}

// The bodies held at once are bounded: with room for two 1 MiB bodies, a third authenticated
// upload is refused with 503 before any of its body is read, and admitted once one ends.
TEST(HostileLimits, BodiesInFlightAreBoundedAcrossConnections) {
  constexpr std::size_t kBody = 1024U * 1024U;
  auto config = TestConfig();
  config.limits.max_body_bytes = kBody;
  config.limits.max_body_bytes_in_flight = 2 * kBody;
  TestGateway gw(std::move(config));
  const std::string header =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: "
      "Bearer " +
      kTestMasterKey + "\r\nContent-Length: " + std::to_string(kBody) + "\r\n\r\n";
  // Two uploads that send their header and then stall: each holds its whole reservation.
  auto one = std::make_unique<TestClient>(gw.port(), seconds(5));
  one->SendRaw(header + "{");
  TestClient two(gw.port(), seconds(5));
  two.SendRaw(header + "{");
  ASSERT_TRUE(PollUntil([&] { return gw.gateway().server().body_bytes_in_flight() == 2 * kBody; },
                        seconds(5)))
      << gw.gateway().server().body_bytes_in_flight();
  TestClient third(gw.port(), seconds(5));
  third.SendRaw(header);
  auto refused = third.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("retry-after"), "1");
  EXPECT_TRUE(third.WaitForClose());

  one.reset();  // its reservation ends with its session
  ASSERT_TRUE(
      PollUntil([&] { return gw.gateway().server().body_bytes_in_flight() == kBody; }, seconds(5)));
  TestClient fourth(gw.port(), seconds(5));
  fourth.SendRaw(header + std::string(kBody, ' '));
  auto judged = fourth.ReadResponse();
  ASSERT_TRUE(judged);
  EXPECT_EQ(judged->status, 400);  // read whole (whitespace is not JSON)
}

TEST(HostileLimits, AChunkedBodyBeyondTheBudgetIs503) {
  constexpr std::size_t kBody = 256U * 1024U;
  auto config = TestConfig();
  config.limits.max_body_bytes = kBody;
  config.limits.max_body_bytes_in_flight = kBody;
  TestGateway gw(std::move(config));
  auto holder = std::make_unique<TestClient>(gw.port(), seconds(5));
  holder->SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  kTestMasterKey + "\r\nContent-Length: " + std::to_string(kBody - 1000) +
                  "\r\n\r\n{");
  ASSERT_TRUE(PollUntil(
      [&] { return gw.gateway().server().body_bytes_in_flight() == kBody - 1000; }, seconds(5)));
  TestClient chunked(gw.port(), seconds(5));
  const std::string piece(64U * 1024U, ' ');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", piece.size());
  chunked.SendRaw("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                  kTestMasterKey + "\r\nTransfer-Encoding: chunked\r\n\r\n" + size_line + piece +
                  "\r\n");
  auto refused = chunked.ReadResponse();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  holder.reset();
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().body_bytes_in_flight() == 0; }, seconds(5)));
}

}  // namespace
}  // namespace claudegate::testing
