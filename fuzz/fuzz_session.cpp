// Fuzzes the whole downstream request path through the real code: the listener, RunSession (the
// Beast parser with the limits, keep-alive, pipelining, 100-continue), the middleware chain and
// every route handler down to the upstream client. One in-process Gateway serves on 127.0.0.1
// for the life of the fuzzer; each input is sent as-is on a new TCP connection, the client
// half-closes, and reads until the gateway closes.
//
// Upstream is http://127.0.0.1:1 (nothing listens there), so a request that gets past
// translation fails fast with a 502 and the fuzzer never waits for a network.
//
// Checks: no crash, UB, leak or hang (the gateway must close within 5 s of the client's EOF),
// every answer starts with an HTTP/1.1 (or, to an HTTP/1.0 request, 1.0) status line, and every 500
// inputs a fresh, well-formed request is still answered 200 (the daemon keeps serving).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include "claudegate/config/config.hpp"
#include "claudegate/credentials/static_credential_source.hpp"
#include "claudegate/gateway.hpp"
#include "claudegate/net.hpp"
#include "claudegate/upstream/upstream_client.hpp"

namespace {

namespace cg = claudegate;
using cg::net::ip::tcp;

constexpr const char* kMasterKey = "sk-fuzz-master-key-0123456789abcdef";

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant failed: %s\n", what);
    std::abort();
  }
}

// The gateway, started once. Never destroyed: libFuzzer exits the process when it is done.
class ServedGateway {
 public:
  ServedGateway() {
    spdlog::set_level(spdlog::level::off);  // millions of access-log lines help nobody
    config_.master_key = kMasterKey;
    config_.host = "127.0.0.1";
    config_.port = 0;
    config_.limits.max_body_bytes = 64U * 1024U;
    config_.limits.max_header_bytes = 4U * 1024U;
    config_.limits.header_timeout = std::chrono::milliseconds(2000);
    config_.limits.body_timeout = std::chrono::milliseconds(2000);
    config_.limits.idle_timeout = std::chrono::milliseconds(2000);
    config_.limits.shutdown_grace = std::chrono::milliseconds(100);
    config_.auth_throttle.max_failures = 0;  // a block would hide the routes from the fuzzer
    config_.upstream.base_url = "http://127.0.0.1:1";
    config_.upstream.connect_timeout = std::chrono::milliseconds(500);
    auto client = cg::upstream::UpstreamClient::Create(config_.upstream);
    Check(client.has_value(), "upstream client");
    upstream_ = std::move(*client);
    auto credentials = std::make_shared<cg::credentials::StaticCredentialSource>(
        cg::credentials::Credential{cg::credentials::CredentialKind::kOAuth,
                                    "sk-ant-oat01-fuzz-token"},
        "CLAUDE_CODE_OAUTH_TOKEN");
    gateway_ = std::make_unique<cg::Gateway>(io_, config_, credentials, *upstream_);
    auto endpoint = gateway_->Start();
    Check(endpoint.has_value(), "listen");
    port_ = endpoint->port();
    for (int i = 0; i < 2; ++i) {
      threads_.emplace_back([this] { io_.run(); });
    }
  }

  [[nodiscard]] std::uint16_t port() const { return port_; }

 private:
  cg::config::Config config_;
  cg::net::io_context io_;
  std::unique_ptr<cg::upstream::UpstreamClient> upstream_;
  std::unique_ptr<cg::Gateway> gateway_;
  std::vector<std::thread> threads_;
  std::uint16_t port_ = 0;
};

// How the client ends its side after sending.
enum class AfterSending {
  kHalfClose,  // the fuzz inputs: the gateway must close within 5 s of the client's EOF
  kKeepOpen,   // the probe: a FIN is a hang-up to the gateway (as to nginx), which would then
               // rightly drop the request unanswered (docs/architecture.md, hang-ups)
};

// Sends `bytes` on a new connection, half-closes if told to, and returns everything read until
// the gateway closes.
std::string Exchange(std::uint16_t port, const std::uint8_t* bytes, std::size_t size,
                     AfterSending after = AfterSending::kHalfClose) {
  cg::net::io_context io;
  tcp::socket socket(io);
  cg::error_code ec;
  socket.connect({cg::net::ip::make_address_v4("127.0.0.1"), port}, ec);
  if (ec) {
    // Seen once in 10 s of CI-style fuzzing (session 9) and not reproduced from the input: say
    // why, so the next occurrence tells a gateway fault from the harness's environment.
    std::fprintf(stderr, "connect to the gateway failed: %s\n", ec.message().c_str());
  }
  Check(!ec, "connect");
  timeval timeout{5, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  cg::net::write(socket, cg::net::buffer(bytes, size), ec);  // the gateway may close early
  if (after == AfterSending::kHalfClose) {
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  std::string answer;
  char buffer[16384];
  for (;;) {
    const std::size_t n = socket.read_some(cg::net::buffer(buffer), ec);
    answer.append(buffer, n);
    if (ec == cg::net::error::eof || ec == cg::net::error::connection_reset) {
      break;
    }
    // A receive timeout is a hang: the client has said all it will say.
    Check(!ec, "gateway closed the connection within 5 s of the client's EOF");
  }
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Never destroyed (its io threads run until the process exits); reachable, so not a leak.
  static ServedGateway& gateway = *new ServedGateway;
  static unsigned inputs = 0;

  const std::string answer = Exchange(gateway.port(), data, size);
  // Beast answers in the request's version: HTTP/1.0 requests get HTTP/1.0 responses.
  Check(answer.empty() || answer.starts_with("HTTP/1.1 ") || answer.starts_with("HTTP/1.0 "),
        "answers are HTTP responses");

  if (++inputs % 500 == 0) {
    const std::string probe = "GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                              std::string(kMasterKey) + "\r\nConnection: close\r\n\r\n";
    const std::string models =
        Exchange(gateway.port(), reinterpret_cast<const std::uint8_t*>(probe.data()), probe.size(),
                 AfterSending::kKeepOpen);
    if (!models.starts_with("HTTP/1.1 200")) {
      std::fprintf(stderr, "probe answer: %.400s\n", models.c_str());
    }
    Check(models.starts_with("HTTP/1.1 200"), "the gateway keeps serving");
  }
  return 0;
}
