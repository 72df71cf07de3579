// The upstream keep-alive pool at the connection limit. With the old default of 32 idle
// connections, every request past 32 concurrent ones opened a new TLS connection (at 64 clients
// that halved throughput); the default now holds one per connection. Idle connections still close
// after upstream.pool_idle_timeout, so the large default costs nothing when the gateway is idle.
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kChat =
    R"({"model":"sonnet","messages":[{"role":"user","content":"Hi"}]})";

// `count` chat requests at once, each on its own client connection; the number answered 200.
std::size_t ConcurrentChats(std::uint16_t port, std::size_t count) {
  std::atomic<std::size_t> ok{0};
  std::vector<std::thread> clients;
  for (std::size_t i = 0; i < count; ++i) {
    clients.emplace_back([&] {
      TestClient client(port, 30s);
      auto response = client.Request(
          http::verb::post, "/v1/chat/completions", std::string(kChat),
          {{"authorization", "Bearer " + kTestMasterKey}, {"content-type", "application/json"}});
      if (response && response->status == 200) {
        ++ok;
      }
    });
  }
  for (auto& client : clients) {
    client.join();
  }
  return ok.load();
}

TEST(UpstreamPool, ReusesEveryConnectionPastThirtyTwoConcurrentRequests) {
  constexpr std::size_t kConcurrent = 48;
  if (!EnsureOpenFiles(8 * kConcurrent + 256)) {
    GTEST_SKIP() << "needs more open files";
  }
  // Each answer is delayed, so that all requests of a round hold an upstream connection at once.
  std::atomic<std::size_t> arrived{0};
  FakeUpstream upstream([&](const RecordedRequest&) {
    ++arrived;
    auto response = SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
    // The fake's handler must not block; a delay is a timer. Generous for a loaded machine.
    response.delay_before_headers = 5s;
    return response;
  });
  auto config = ConfigFor(upstream);  // the default pool size
  ASSERT_GE(config.upstream.max_idle_connections, kConcurrent);
  TestGateway gw(std::move(config));

  ASSERT_EQ(ConcurrentChats(gw.port(), kConcurrent), kConcurrent);
  const std::size_t opened = upstream.connections_accepted();
  if (opened <= 32U) {
    // Only on a machine too slow to have 48 requests in flight within the answer's delay.
    GTEST_SKIP() << "the first round opened " << opened << " connections; not enough to test";
  }
  // Every connection went back to the pool (the old default kept 32 and closed the rest).
  EXPECT_TRUE(PollUntil([&] { return gw.upstream().idle_connections() == opened; }, 5s))
      << gw.upstream().idle_connections() << " of " << opened << " connections were pooled";

  // The same load again: every request finds a warm connection on its own io thread. (Exact only
  // when the first round had all requests in flight; otherwise the rounds may differ per thread.)
  ASSERT_EQ(ConcurrentChats(gw.port(), kConcurrent), kConcurrent);
  if (opened == kConcurrent) {
    EXPECT_EQ(upstream.connections_accepted(), opened)
        << "new upstream connections were opened for a load the pool had seen";
  }
  EXPECT_EQ(arrived.load(), 2 * kConcurrent);
}

TEST(UpstreamPool, IdleConnectionsCloseAfterThePoolIdleTimeoutWithoutNewRequests) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return SseResponse(TextStreamTranscript("claude-sonnet-5-5", {"ok"}, 1, 1));
  });
  auto config = ConfigFor(upstream);
  config.upstream.pool_idle_timeout = 300ms;
  TestGateway gw(std::move(config));
  auto response = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                        std::string(kChat));
  ASSERT_TRUE(response);
  ASSERT_EQ(response->status, 200);
  EXPECT_TRUE(PollUntil([&] { return gw.upstream().idle_connections() == 1; }, 5s));
  // No further request: the gateway's sweep closes the connection on its own.
  EXPECT_TRUE(PollUntil([&] { return gw.upstream().idle_connections() == 0; }, 5s))
      << "an idle upstream connection outlived the pool idle timeout";
}

}  // namespace
}  // namespace claudegate::testing
