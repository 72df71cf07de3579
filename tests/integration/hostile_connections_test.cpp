// Hostile clients at the connection level: slowloris, idle and busy connections at the limit, a
// pipelining flood and a client that never reads its stream. In every test the owner (an
// authorized GET /v1/models on a fresh connection) must be served during the attack and after it.
#include <array>
#include <cerrno>
#include <memory>
#include <vector>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Many raw client sockets, each collecting what the gateway sends until it closes.
class RawClients {
 public:
  ~RawClients() {
    for (const int fd : fds_) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  }

  // False when a connect failed (e.g. out of file descriptors).
  bool Open(std::uint16_t port, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const int fd = ConnectRaw(port);
      if (fd < 0) {
        return false;
      }
      SetNonBlocking(fd);
      fds_.push_back(fd);
      received_.emplace_back();
    }
    return true;
  }

  // Sends byte `index` of `text` on every connection still open (one trickle step).
  void SendByte(std::string_view text, std::size_t index) {
    for (const int fd : fds_) {
      if (fd >= 0 && index < text.size()) {
        ::send(fd, text.data() + index, 1, MSG_NOSIGNAL);
      }
    }
  }

  // Reads what has arrived, waiting at most `timeout` for the first event; a connection the
  // gateway closed (EOF or reset) is closed here too.
  void Pump(milliseconds timeout) {
    std::vector<pollfd> polled;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i] >= 0) {
        polled.push_back(pollfd{fds_[i], POLLIN, 0});
        index.push_back(i);
      }
    }
    if (polled.empty() ||
        ::poll(polled.data(), polled.size(), static_cast<int>(timeout.count())) <= 0) {
      return;
    }
    for (std::size_t k = 0; k < polled.size(); ++k) {
      if (polled[k].revents == 0) {
        continue;
      }
      const std::size_t i = index[k];
      std::array<char, 4096> scratch{};
      for (;;) {
        const ssize_t n = ::recv(fds_[i], scratch.data(), scratch.size(), 0);
        if (n > 0) {
          received_[i].append(scratch.data(), static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
          ::close(fds_[i]);
          fds_[i] = -1;
          ++closed_;
        }
        break;
      }
    }
  }

  // Pumps until every connection was closed by the gateway or `timeout` passes.
  bool WaitAllClosed(milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    while (closed_ < fds_.size() && steady_clock::now() < deadline) {
      Pump(milliseconds(100));
    }
    return closed_ == fds_.size();
  }

  [[nodiscard]] std::size_t size() const { return fds_.size(); }
  [[nodiscard]] std::size_t closed() const { return closed_; }
  [[nodiscard]] const std::vector<std::string>& received() const { return received_; }

 private:
  std::vector<int> fds_;
  std::vector<std::string> received_;
  std::size_t closed_ = 0;
};

std::string ChatRequest(std::string_view content, bool stream) {
  const nlohmann::json body = {{"model", "sonnet"},
                               {"stream", stream},
                               {"messages", {{{"role", "user"}, {"content", content}}}}};
  const std::string text = body.dump();
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         kTestMasterKey +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(text.size()) +
         "\r\n\r\n" + text;
}

TEST(HostileConnections, SlowlorisHeadersAreTimedOutWhileTheOwnerIsServed) {
  constexpr std::size_t kAttackers = 1000;
  // Client and server ends of every connection live in this process.
  if (!EnsureOpenFiles(2 * kAttackers + 256)) {
    GTEST_SKIP() << "needs " << 2 * kAttackers + 256
                 << " open files; raise the hard RLIMIT_NOFILE (ulimit -Hn) to run it";
  }
  auto config = TestConfig();
  config.limits.header_timeout = milliseconds(1000);
  TestGateway gw(std::move(config));

  RawClients attackers;
  ASSERT_TRUE(attackers.Open(gw.port(), kAttackers)) << "connect failed";
  // Never ends its header block; one byte per connection every 100 ms.
  const std::string trickle =
      "GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(500, 'a');
  constexpr milliseconds kTick(100);
  const auto deadline = steady_clock::now() + seconds(20);
  auto next_tick = steady_clock::now();
  std::size_t sent = 0;
  bool owner_checked = false;
  while (attackers.closed() < kAttackers && steady_clock::now() < deadline) {
    if (steady_clock::now() >= next_tick) {
      attackers.SendByte(trickle, sent++);
      next_tick += kTick;
    }
    if (sent == 3 && !owner_checked) {
      // Every attacker has started its header and holds a connection.
      owner_checked = true;
      ExpectOwnerServed(gw.port(), "during a 1000-connection slowloris");
    }
    const auto now = steady_clock::now();
    attackers.Pump(next_tick > now ? std::chrono::duration_cast<milliseconds>(next_tick - now)
                                   : milliseconds(0));
  }
  ASSERT_TRUE(owner_checked);
  ASSERT_EQ(attackers.closed(), kAttackers) << "slow clients still connected after 20 s";
  EXPECT_LT(sent, trickle.size()) << "the trickle ran out before the gateway gave up";
  std::size_t answered_408 = 0;
  for (const auto& bytes : attackers.received()) {
    // 408 and close, or just a close; never anything the request would have produced.
    EXPECT_TRUE(bytes.empty() || bytes.starts_with("HTTP/1.1 408 ")) << bytes.substr(0, 64);
    answered_408 += bytes.starts_with("HTTP/1.1 408 ") ? 1 : 0;
  }
  EXPECT_GT(answered_408, 0U);
  ExpectOwnerServed(gw.port(), "after the slowloris");
  // Every session ends, the owner's included once it has hung up.
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == 0; }, seconds(5)));
}

TEST(HostileConnections, IdleKeepAliveConnectionsAtTheLimitAreEvictedOldestFirst) {
  auto config = TestConfig();
  config.limits.max_connections = 4;  // idle_timeout stays at its default of 60 s
  TestGateway gw(std::move(config));
  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<TestClient>(gw.port()));
    ASSERT_TRUE(idle.back()->Request(http::verb::get, "/health/liveness"));
  }
  // Every slot is held by an idle keep-alive connection: the owner still gets in at once ...
  ExpectOwnerServed(gw.port(), "with every slot held by an idle keep-alive connection");
  // ... because the oldest idle connection made room.
  EXPECT_TRUE(idle[0]->WaitForClose());
  // The younger ones are untouched.
  auto again = idle[3]->Request(http::verb::get, "/health/liveness");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
}

TEST(HostileConnections, AFloodOfSilentConnectionsNeverLocksOutTheOwner) {
  constexpr std::size_t kLimit = 32;
  constexpr std::size_t kFlood = 300;
  if (!EnsureOpenFiles(2 * kFlood + 256)) {
    GTEST_SKIP() << "needs " << 2 * kFlood + 256 << " open files";
  }
  auto config = TestConfig();
  config.limits.max_connections = kLimit;
  TestGateway gw(std::move(config));
  RawClients flood;  // connect and never send a byte
  ASSERT_TRUE(flood.Open(gw.port(), kFlood / 2));
  ExpectOwnerServed(gw.port(), "while silent connections flood the limit");
  ASSERT_TRUE(flood.Open(gw.port(), kFlood / 2));
  ExpectOwnerServed(gw.port(), "after a flood of silent connections");
  // Everything beyond the limit was either evicted or refused with a 503; never served.
  const auto deadline = steady_clock::now() + seconds(5);
  while (flood.closed() < kFlood - kLimit && steady_clock::now() < deadline) {
    flood.Pump(milliseconds(100));
  }
  EXPECT_GE(flood.closed(), kFlood - kLimit);
  for (const auto& bytes : flood.received()) {
    EXPECT_TRUE(bytes.empty() || bytes.starts_with("HTTP/1.1 503 ")) << bytes.substr(0, 64);
  }
  // Evicted connections close on their own strands, so the count settles shortly after.
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() <= kLimit; }, seconds(5)))
      << gw.gateway().server().active_connections();
}

TEST(HostileConnections, BusyConnectionsAtTheLimitGet503AndTheOwnerGetsInWhenOneEnds) {
  FakeUpstream upstream([](const RecordedRequest&) {
    ScriptedResponse hang;
    hang.fault = ScriptedResponse::Fault::kNeverRespond;
    return hang;
  });
  auto config = ConfigFor(upstream);
  config.limits.max_connections = 2;
  TestGateway gw(std::move(config));
  TestClient busy_one(gw.port());
  TestClient busy_two(gw.port());
  busy_one.SendRaw(ChatRequest("hang", false));
  busy_two.SendRaw(ChatRequest("hang", false));
  ASSERT_TRUE(upstream.WaitForRequests(2, seconds(5)));

  // Both slots are busy, so nothing can be evicted: a polite 503 with retry-after.
  TestClient refused(gw.port());
  auto busy = refused.ReadResponse();
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->header("retry-after"), "1");

  // One busy client gives up; its handler and upstream request end, and the owner, retrying as
  // told, gets in.
  busy_one.socket().close();
  ASSERT_TRUE(upstream.WaitForClientDisconnect(seconds(5)));
  EXPECT_TRUE(PollUntil(
      [&] {
        auto response = Fetch(gw.port(), http::verb::get, "/v1/models", kTestMasterKey);
        return response && response->status == 200;
      },
      seconds(5)));
}

// The flood ends wherever the client gave up, often mid-request, and the gateway may have
// answered everything it read before its writes ever blocked: then it is the header timeout that
// drops the connection (408), otherwise the write timeout. Both are short here.
TEST(HostileConnections, APipeliningFloodIsBackpressuredAndDroppedWhenItNeverReads) {
  auto config = TestConfig();
  config.limits.write_timeout = milliseconds(1000);
  config.limits.header_timeout = milliseconds(1000);
  TestGateway gw(std::move(config));
  const int fd = ConnectRaw(gw.port(), 4096, 4096);
  ASSERT_GE(fd, 0);
  SetNonBlocking(fd);
  std::string batch;
  for (int i = 0; i < 1000; ++i) {
    batch += "GET /health/liveness HTTP/1.1\r\nHost: x\r\n\r\n";
  }
  // Write without ever reading, until the gateway stops taking bytes (500 ms without POLLOUT).
  constexpr std::size_t kCap = 64U * 1024U * 1024U;
  std::size_t written = 0;
  std::size_t offset = 0;
  bool stalled = false;
  const auto deadline = steady_clock::now() + seconds(20);
  while (written < kCap && steady_clock::now() < deadline) {
    const ssize_t n = ::send(fd, batch.data() + offset, batch.size() - offset, MSG_NOSIGNAL);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      offset = (offset + static_cast<std::size_t>(n)) % batch.size();
      continue;
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      break;
    }
    pollfd writable{fd, POLLOUT, 0};
    if (::poll(&writable, 1, 500) == 0) {
      stalled = true;
      break;
    }
  }
  EXPECT_TRUE(stalled) << "the gateway kept reading " << written << " bytes from a client that "
                       << "never reads its responses";
  EXPECT_LT(written, kCap);
  ExpectOwnerServed(gw.port(), "while a pipelining client's responses pile up unread");

  // The gateway gives up on the connection (write or header timeout) and releases it while the
  // client still holds its end open. The client may never see the FIN: it sits in the kernel
  // behind responses the client does not read, which is TCP's business, not the gateway's.
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == 0; }, seconds(10)))
      << "the gateway still holds the flooding connection";
  ExpectOwnerServed(gw.port(), "after the pipelining flood");
  ::close(fd);
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == 0; }, seconds(5)));
}

TEST(HostileConnections, AStreamToAClientThatNeverReadsIsDroppedAndItsUpstreamClosed) {
  const std::string piece(16U * 1024U, 'x');
  FakeUpstream upstream([&piece](const RecordedRequest& request) {
    if (request.body.find("flood") == std::string::npos) {
      return SseResponse(TextStreamTranscript("claude-sonnet-4-5", {"hello"}, 1, 1));
    }
    // 800 x 16 KiB over about 8 s: still streaming when the gateway gives up on its client.
    auto response = SseResponse(
        TextStreamTranscript("claude-sonnet-4-5", std::vector<std::string>(800, piece), 1, 800));
    response.delay_between_chunks = milliseconds(10);
    return response;
  });
  auto config = ConfigFor(upstream);
  config.limits.write_timeout = milliseconds(1000);
  TestGateway gw(std::move(config));

  const int fd = ConnectRaw(gw.port(), 4096);  // a tiny receive buffer, never read
  ASSERT_GE(fd, 0);
  const std::string request = ChatRequest("flood", true);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  ASSERT_TRUE(upstream.WaitForRequests(1, seconds(5)));

  // While that stream is stuck, the owner is served, also on the chat route.
  ExpectOwnerServed(gw.port(), "while a stream is stuck on a client that never reads");
  auto chat = Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey,
                    R"({"model":"sonnet","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body();

  // The gateway stops reading upstream while its client write is blocked, so the fake is still
  // mid-stream when the write times out; then the upstream request is closed, not drained.
  EXPECT_TRUE(upstream.WaitForClientDisconnect(seconds(10)));
  auto& metrics = gw.metrics();
  EXPECT_TRUE(PollUntil(
      [&] { return metrics.in_flight.Value({}) == 0 && metrics.streams_open.Value({}) == 0; },
      seconds(5)))
      << "in_flight=" << metrics.in_flight.Value({})
      << " streams_open=" << metrics.streams_open.Value({});
  ::close(fd);
  ExpectOwnerServed(gw.port(), "after the stuck stream was dropped");
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == 0; }, seconds(5)));
}

}  // namespace
}  // namespace claudegate::testing
