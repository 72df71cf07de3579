// The upstream TLS transport (OpenSSL on the socket itself, docs/performance.md "Upstream TLS
// without the BIO pair"): session resumption across connections, a handshake that the peer stalls
// ends at the TLS deadline, and a write that must wait for a peer that does not read
// (SSL_ERROR_WANT_WRITE) completes with every byte intact. Verification failures (untrusted CA,
// wrong host name) are covered for every route by upstream_faults_test.cpp.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "claudegate/net.hpp"
#include "claudegate/upstream/tls_socket.hpp"
#include "claudegate/upstream/upstream_client.hpp"
#include "claudegate/upstream/upstream_connection.hpp"

#include "support/fake_upstream.hpp"
#include "support/run_to_completion.hpp"
#include "support/test_certs.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using namespace std::chrono_literals;
using upstream::UpstreamClient;
using upstream::UpstreamConnection;
using upstream::UpstreamRequest;

UpstreamRequest MessagesRequest() {
  UpstreamRequest request;
  request.target = "/v1/messages";
  request.body = R"({"model":"claude-test","max_tokens":8,"messages":[]})";
  request.headers.emplace_back("content-type", "application/json");
  return request;
}

ScriptedResponse Ok(const RecordedRequest& /*request*/) {
  return JsonResponse(TextMessage("claude-test", "ok", 1, 1));
}

// One request through `client` to `url` (the client's own upstream when empty); its status, or 0.
Awaitable<unsigned> SendOne(UpstreamClient& client, std::string url = {}) {
  // Two statements, not `?:` with a co_await in each branch: GCC 12 corrupts the coroutine frame
  // with the latter (a crash in the Debug build).
  Result<upstream::UpstreamResponse> response = Error(ErrorKind::kInternal, "not sent");
  if (url.empty()) {
    response = co_await client.Send(MessagesRequest());
  } else {
    response = co_await client.SendTo(url, MessagesRequest());
  }
  if (!response) {
    ADD_FAILURE() << "upstream request failed: " << response.error().message;
    co_return 0;
  }
  auto body = co_await response->ReadAll(1U << 20U, 10s);
  if (!body) {
    ADD_FAILURE() << "reading the body failed: " << body.error().message;
    co_return 0;
  }
  co_return response->status();
}

TEST(UpstreamTls, ResumesTheSessionOnTheNextConnection) {
  FakeUpstream upstream(Ok);
  auto config = ConfigFor(upstream).upstream;
  config.max_idle_connections = 0;  // every request opens a new connection
  auto client = UpstreamClient::Create(config);
  ASSERT_TRUE(client) << client.error().message;

  net::io_context io;
  ASSERT_TRUE(RunToCompletion(io, [&]() -> Awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      EXPECT_EQ(co_await SendOne(**client), 200U) << "request " << i;
    }
  }()));

  EXPECT_EQ(upstream.tls_handshakes(), 3U);
  // The first handshake is full; its session (a TLS 1.3 ticket read with the response) is offered
  // on the next connection and accepted by the server.
  EXPECT_EQ(upstream.tls_resumed_handshakes(), 2U);
  EXPECT_EQ((*client)->connections_opened(), 3U);
  EXPECT_EQ((*client)->connections_resumed(), 2U);
}

TEST(UpstreamTls, OffersASessionOnlyToTheHostAndPortItWasMadeWith) {
  FakeUpstream upstream(Ok);
  auto config = ConfigFor(upstream).upstream;  // https://127.0.0.1:<port>
  config.max_idle_connections = 0;
  auto client = UpstreamClient::Create(config);
  ASSERT_TRUE(client) << client.error().message;
  // The test leaf is valid for both names, so only the cache key keeps them apart.
  const std::string by_name = "https://localhost:" + std::to_string(upstream.port()) + "/x";

  net::io_context io;
  ASSERT_TRUE(RunToCompletion(io, [&]() -> Awaitable<void> {
    EXPECT_EQ(co_await SendOne(**client), 200U);
    EXPECT_EQ(co_await SendOne(**client, by_name), 200U);  // another host: a full handshake
    EXPECT_EQ(co_await SendOne(**client, by_name), 200U);  // resumes the localhost session
  }()));

  EXPECT_EQ(upstream.tls_handshakes(), 3U);
  EXPECT_EQ(upstream.tls_resumed_handshakes(), 1U);
  EXPECT_EQ((*client)->connections_resumed(), 1U);
}

TEST(UpstreamTls, AHandshakeThePeerStallsEndsAtTheTlsDeadline) {
  FakeUpstream upstream(Ok);
  // The fake reads the ClientHello and then says nothing: the client waits for a ServerHello.
  upstream.SetConnectionFault(FakeUpstream::ConnectionFault::kTlsSilentHandshake);
  auto config = ConfigFor(upstream).upstream;
  config.tls_timeout = 300ms;
  auto client = UpstreamClient::Create(config);
  ASSERT_TRUE(client) << client.error().message;

  net::io_context io;
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(RunToCompletion(io, [&]() -> Awaitable<void> {
    auto response = co_await (*client)->Send(MessagesRequest());
    if (response) {
      ADD_FAILURE() << "the stalled handshake succeeded";
      co_return;
    }
    EXPECT_EQ(response.error().kind, ErrorKind::kUpstreamTimeout) << response.error().message;
  }()));
  // Bounded by the deadline, not by the first-byte timeout (10 minutes) or the fake's patience.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 30s);
  EXPECT_EQ(upstream.tls_handshakes(), 0U);
}

TEST(UpstreamTls, AReadThatTimesOutLeavesTheStreamReadable) {
  // The second half of the stream comes after a pause much longer than the read timeout below.
  FakeUpstream upstream([](const RecordedRequest&) {
    auto response = SseResponse(TextStreamTranscript("claude-test", {"He", "llo"}, 1, 2));
    response.delay_between_chunks = 150ms;
    return response;
  });
  auto config = ConfigFor(upstream).upstream;
  auto client = UpstreamClient::Create(config);
  ASSERT_TRUE(client) << client.error().message;

  net::io_context io;
  std::string body;
  int idle = 0;
  ASSERT_TRUE(RunToCompletion(io, [&]() -> Awaitable<void> {
    auto response = co_await (*client)->Send(MessagesRequest());
    if (!response) {
      ADD_FAILURE() << response.error().message;
      co_return;
    }
    for (int reads = 0; reads < 10'000; ++reads) {
      auto piece = co_await response->Read(20ms);
      if (!piece) {
        ADD_FAILURE() << piece.error().message;
        co_return;
      }
      if (piece->status == upstream::BodyRead::Status::kIdle) {
        // The deadline ended the wait, not the TLS session: read again, as the pump does.
        ++idle;
        continue;
      }
      if (piece->status == upstream::BodyRead::Status::kEnd) {
        co_return;
      }
      body.append(piece->data);
    }
    ADD_FAILURE() << "the body never ended";
  }()));
  EXPECT_GT(idle, 0) << "no read timed out: the test proved nothing";
  // Every event arrived whole and in order (the fake numbers message ids, so compare the rest).
  EXPECT_NE(body.find(R"("text":"He"}})"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("text":"llo"}})"), std::string::npos) << body;
  EXPECT_LT(body.find(R"("text":"He"}})"), body.find(R"("text":"llo"}})"));
  EXPECT_TRUE(body.ends_with("event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n")) << body;
}

// A TLS server on its own thread that completes the handshake and then reads nothing until told
// to; afterwards it reads everything and keeps the bytes.
class LateReader {
 public:
  LateReader()
      : context_(ssl::context::tls_server), acceptor_(io_, {net::ip::address_v4::loopback(), 0}) {
    const auto& certs = SharedTestCerts();
    context_.use_certificate_chain_file(certs.cert_file);
    context_.use_private_key_file(certs.key_file, ssl::context::pem);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LateReader() {
    StartReading();
    if (!accepted_) {
      // A blocking accept() is not woken by closing the listener; a connection wakes it, and the
      // handshake then fails at once on the closed socket.
      net::io_context io;
      tcp::socket wake(io);
      error_code ignored;
      wake.connect(acceptor_.local_endpoint(), ignored);
    }
    thread_.join();
  }
  LateReader(const LateReader&) = delete;
  LateReader& operator=(const LateReader&) = delete;

  [[nodiscard]] std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void StartReading() {
    if (!started_.exchange(true)) {
      start_.set_value();
    }
  }
  // Waits (bounded) until `n` bytes arrived or the connection ended; the bytes received.
  std::string WaitForBytes(std::size_t n) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 60s, [&] { return received_.size() >= n || finished_; });
    return received_;
  }

 private:
  void Serve() {
    tcp::socket socket(io_);
    error_code ec;
    acceptor_.accept(socket, ec);
    accepted_ = true;
    if (ec) {
      return;
    }
    ssl::stream<tcp::socket&> stream(socket, context_);
    stream.handshake(ssl::stream_base::server, ec);
    if (!ec) {
      start_.get_future().wait_for(60s);
      std::vector<char> buffer(256U * 1024U);
      for (;;) {
        const std::size_t n = stream.read_some(net::buffer(buffer), ec);
        const std::lock_guard lock(mutex_);
        received_.append(buffer.data(), n);
        changed_.notify_all();
        if (ec) {
          break;
        }
      }
    }
    const std::lock_guard lock(mutex_);
    finished_ = true;
    changed_.notify_all();
  }

  net::io_context io_;
  ssl::context context_;
  tcp::acceptor acceptor_;
  std::promise<void> start_;
  std::atomic<bool> started_{false};
  std::atomic<bool> accepted_{false};
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string received_;
  bool finished_ = false;
  std::thread thread_;
};

TEST(UpstreamTls, AWriteWaitsForASlowPeerAndDeliversEveryByte) {
  LateReader peer;
  auto tls = upstream::MakeClientTlsContext(SharedTestCerts().ca_file);
  ASSERT_TRUE(tls) << tls.error().message;
  upstream::UpstreamTarget target{"127.0.0.1", std::to_string(peer.port()), "", true};

  // Far more than loopback's socket buffers hold, so SSL_write must see WANT_WRITE.
  const std::string head = "POST /v1/messages HTTP/1.1\r\n\r\n";
  std::string body(32U * 1024U * 1024U, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>('a' + (i * 7U) % 26U);
  }

  net::io_context io;
  std::size_t write_waits = 0;
  std::string received;
  ASSERT_TRUE(RunToCompletion(io, [&]() -> Awaitable<void> {
    auto opened = co_await UpstreamConnection::Open(target, tls->get(), 10s, 10s);
    if (!opened) {
      ADD_FAILURE() << opened.error().message;
      co_return;
    }
    UpstreamConnection& connection = **opened;
    bool written = false;
    error_code write_ec;
    const std::vector<net::const_buffer> buffers = {net::buffer(head), net::buffer(body)};
    net::co_spawn(
        co_await net::this_coro::executor,
        [&]() -> Awaitable<void> {
          write_ec = co_await connection.Write(buffers, 60s);
          written = true;
        },
        net::detached);
    // Same thread as the write: no race on the counter. Let the peer read once the write waits.
    Timer tick(co_await net::this_coro::executor);
    const auto give_up = std::chrono::steady_clock::now() + 60s;
    while (!written && connection.tls()->write_waits() == 0 &&
           std::chrono::steady_clock::now() < give_up) {
      tick.expires_after(5ms);
      co_await tick.async_wait();
    }
    peer.StartReading();
    while (!written && std::chrono::steady_clock::now() < give_up) {
      tick.expires_after(5ms);
      co_await tick.async_wait();
    }
    if (!written) {
      ADD_FAILURE() << "the write did not finish within 60 s";
      connection.Close();  // ends the writer's wait before the connection goes away
      while (!written) {
        tick.expires_after(5ms);
        co_await tick.async_wait();
      }
    }
    EXPECT_FALSE(write_ec) << write_ec.message();
    write_waits = connection.tls()->write_waits();
    // Only now may the connection close: closing a socket with unread bytes (the server's
    // session tickets) resets it, and the kernel drops what the peer had not read yet.
    received = peer.WaitForBytes(head.size() + body.size());
  }()));

  EXPECT_GT(write_waits, 0U) << "the write never had to wait: the test proved nothing";
  ASSERT_EQ(received.size(), head.size() + body.size());
  EXPECT_TRUE(received == head + body) << "the bytes arrived changed or out of order";
}

}  // namespace
}  // namespace claudegate::testing
