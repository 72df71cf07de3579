// Clients without the key must cost O(header): the key (and the auth throttle) is checked as soon
// as the header is parsed, before `100 Continue` or any body byte is read, and the connection is
// closed without reading the body. Also: connections still sending a header cannot fill the
// connection limit.
#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr std::size_t kBigBody = 32U * 1024U * 1024U;  // the default max_body_bytes

std::string BigPostHeader(std::string_view path, std::string_view auth_header,
                          std::string_view extra = {}) {
  std::string header = "POST " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n";
  if (!auth_header.empty()) {
    header += std::string(auth_header) + "\r\n";
  }
  return header + "Content-Type: application/json\r\nContent-Length: " + std::to_string(kBigBody) +
         "\r\n" + std::string(extra) + "\r\n";
}

// The peak resident set of this process (gateway and clients), in MiB.
std::size_t PeakRssMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmHWM:")) {
      return std::stoul(line.substr(6)) / 1024U;
    }
  }
  return 0;
}

TEST(HostileBodies, AKeylessBigBodyIsRefusedAtTheHeaderWithoutContinue) {
  TestGateway gw(TestConfig());
  for (const bool expect_continue : {true, false}) {
    TestClient client(gw.port(), seconds(5));
    // Only the header: a client that waits for 100 Continue (or any answer) before its body.
    client.SendRaw(BigPostHeader("/v1/chat/completions", "",
                                 expect_continue ? "Expect: 100-continue\r\n" : ""));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response) << "no answer before the body (expect_continue=" << expect_continue
                          << ")";
    EXPECT_EQ(response->status, 401) << "expect_continue=" << expect_continue;
    EXPECT_EQ(response->header("connection"), "close");
    const auto body = nlohmann::json::parse(response->body());
    EXPECT_EQ(body["error"]["code"], "invalid_api_key");  // the auth middleware's own body
    EXPECT_TRUE(client.WaitForClose());
  }
}

TEST(HostileBodies, AWrongKeyOnTheAnthropicRouteIsRefusedInItsShapeBeforeTheBody) {
  TestGateway gw(TestConfig());
  TestClient client(gw.port(), seconds(5));
  client.SendRaw(BigPostHeader("/v1/messages", "x-api-key: sk-wrong-key-0123456789",
                               "Expect: 100-continue\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
  const auto body = nlohmann::json::parse(response->body());
  EXPECT_EQ(body["type"], "error");
  EXPECT_EQ(body["error"]["type"], "authentication_error");
  EXPECT_TRUE(client.WaitForClose());
}

TEST(HostileBodies, AThrottledClientGets429AtTheHeaderEvenWithTheRightKey) {
  auto config = TestConfig();
  config.auth_throttle.max_failures = 1;
  TestGateway gw(std::move(config));
  auto wrong = Fetch(gw.port(), http::verb::get, "/v1/models", "sk-wrong-key-0123456789");
  ASSERT_TRUE(wrong);
  ASSERT_EQ(wrong->status, 401);
  TestClient client(gw.port(), seconds(5));
  client.SendRaw(BigPostHeader("/v1/chat/completions", "Authorization: Bearer " + kTestMasterKey,
                               "Expect: 100-continue\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 429);
  EXPECT_FALSE(response->header("retry-after").empty());
  EXPECT_TRUE(client.WaitForClose());
}

TEST(HostileBodies, TheKeyStillGets100ContinueAndItsBodyRead) {
  TestGateway gw(TestConfig());
  TestClient client(gw.port(), seconds(5));
  const std::string body = "not json";
  client.SendRaw(
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kTestMasterKey +
      "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  auto go_on = client.ReadResponse();
  ASSERT_TRUE(go_on);
  EXPECT_EQ(go_on->status, 100);
  client.SendRaw(body);
  auto response = client.ReadResponse();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400) << response->body();  // the body was read and judged
}

// 40 keyless clients each push a 32 MiB body as fast as the gateway takes it. Before the fix the
// gateway read them all (RSS 14 → 1,295 MiB in the review); now each is refused after its header
// and no body is ever taken in whole.
TEST(HostileBodies, ManyKeylessBigBodiesKeepMemoryBounded) {
  constexpr std::size_t kClients = 40;
  if (!EnsureOpenFiles(2 * kClients + 256)) {
    GTEST_SKIP() << "needs more open files";
  }
  TestGateway gw(TestConfig());
  const std::size_t rss_before = PeakRssMiB();
  const std::string chunk(1024U * 1024U, 'x');
  std::vector<int> fds;
  std::vector<std::size_t> sent(kClients, 0);
  for (std::size_t i = 0; i < kClients; ++i) {
    const int fd = ConnectRaw(gw.port());
    ASSERT_GE(fd, 0);
    const std::string header = BigPostHeader("/v1/chat/completions", "");
    ASSERT_EQ(::send(fd, header.data(), header.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(header.size()));
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    fds.push_back(fd);
  }
  // Push until every body is sent, refused (reset/EPIPE) or stalled (no progress for 2 s).
  std::vector<bool> open(kClients, true);
  auto last_progress = steady_clock::now();
  const auto deadline = steady_clock::now() + seconds(60);
  while (std::count(open.begin(), open.end(), true) > 0 &&
         steady_clock::now() - last_progress < seconds(2) && steady_clock::now() < deadline) {
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < kClients; ++i) {
      if (open[i]) {
        polled.push_back(pollfd{fds[i], POLLOUT, 0});
        index.push_back(i);
      }
    }
    if (::poll(polled.data(), polled.size(), 100) <= 0) {
      continue;
    }
    for (std::size_t k = 0; k < polled.size(); ++k) {
      const std::size_t i = index[k];
      if ((polled[k].revents & (POLLERR | POLLHUP)) != 0) {
        open[i] = false;
        continue;
      }
      if ((polled[k].revents & POLLOUT) == 0) {
        continue;
      }
      const std::size_t want = std::min(chunk.size(), kBigBody - sent[i]);
      const ssize_t n = ::send(fds[i], chunk.data(), want, MSG_NOSIGNAL);
      if (n > 0) {
        sent[i] += static_cast<std::size_t>(n);
        last_progress = steady_clock::now();
        open[i] = sent[i] < kBigBody;
      } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        open[i] = false;
      }
    }
  }
  for (std::size_t i = 0; i < kClients; ++i) {
    // Kernel buffers take a few MiB; the gateway must not have read the rest.
    EXPECT_LT(sent[i], kBigBody) << "client " << i << "'s whole keyless body was taken in";
    ::close(fds[i]);
  }
  const std::size_t rss_after = PeakRssMiB();
  EXPECT_LT(rss_after - rss_before, 256U)
      << "peak RSS grew from " << rss_before << " to " << rss_after << " MiB";
  ExpectOwnerServed(gw.port(), "after 40 keyless 32 MiB bodies");
}

// Before the fix, connections still sending their header were never evicted: with the limit
// full of them the owner got 503 until the header timeout.
TEST(HostileBodies, PartialHeadersAtTheConnectionLimitAreEvicted) {
  constexpr std::size_t kLimit = 16;
  auto config = TestConfig();
  config.limits.max_connections = kLimit;
  config.limits.header_timeout = seconds(60);
  TestGateway gw(std::move(config));
  std::vector<int> fds;
  for (std::size_t i = 0; i < kLimit; ++i) {
    const int fd = ConnectRaw(gw.port());
    ASSERT_GE(fd, 0);
    const std::string partial = "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    ASSERT_EQ(::send(fd, partial.data(), partial.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(partial.size()));
    fds.push_back(fd);
  }
  ASSERT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == kLimit; }, seconds(5)));
  ExpectOwnerServed(gw.port(), "with every slot held by a partial header");
  ExpectOwnerServed(gw.port(), "again, with the limit still full of partial headers");
  for (const int fd : fds) {
    ::close(fd);
  }
}

}  // namespace
}  // namespace claudegate::testing
