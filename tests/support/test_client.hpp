// Blocking HTTP/1.1 test client over a raw TCP socket, with a receive timeout so that every wait in
// a test is bounded. Raw bytes in and out, so tests can send malformed requests on purpose.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "claudegate/net.hpp"

namespace claudegate::testing {

/// A parsed response.
struct TestResponse {
  unsigned status = 0;
  http::response<http::string_body> message;
  [[nodiscard]] const std::string& body() const { return message.body(); }
  [[nodiscard]] std::string header(std::string_view name) const {
    return std::string(message[name]);
  }
};

/// One client connection to 127.0.0.1:port.
class TestClient {
 public:
  /// `source_address`: connect from this local address (any of 127.0.0.0/8 works on Linux), so
  /// one test can play several clients; empty = let the kernel choose.
  explicit TestClient(std::uint16_t port,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10),
                      std::string_view source_address = {});

  /// Sends raw bytes.
  void SendRaw(std::string_view bytes);
  /// Reads one response (bounded by the timeout); nullopt on EOF/timeout/parse error.
  std::optional<TestResponse> ReadResponse();
  /// Sends a request and reads its response.
  std::optional<TestResponse> Request(
      http::verb method, std::string_view target, std::string body = {},
      std::vector<std::pair<std::string, std::string>> headers = {});
  /// True when the server closed the connection (a read returns EOF within the timeout).
  bool WaitForClose();
  /// Reads whatever arrives until EOF or timeout.
  std::string ReadAll();

  [[nodiscard]] tcp::socket& socket() { return socket_; }

 private:
  net::io_context io_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

/// One request on a new connection with the given key (empty = no auth header).
std::optional<TestResponse> Fetch(std::uint16_t port, http::verb method, std::string_view target,
                                  std::string_view key = {}, std::string body = {},
                                  std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace claudegate::testing
