/// @file websocket_client.hpp
/// A WebSocket client for the integration tests (Beast's, over plain TCP): opens the Responses
/// WebSocket with the test master key, sends JSON messages and reads them back. Every wait is
/// bounded (the handshake and each read by `kWait`).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "claudegate/net.hpp"

namespace claudegate::testing {

class TestWebSocket {
 public:
  static constexpr auto kWait = std::chrono::seconds(20);

  /// Connects to 127.0.0.1:`port` and sends the opening handshake for `target` with `key` (none
  /// when empty). `status` gets the handshake answer's status (101 when open).
  TestWebSocket(std::uint16_t port, std::string_view target, std::string_view key);

  [[nodiscard]] bool open() const { return open_; }
  [[nodiscard]] unsigned status() const { return status_; }
  /// A header of the handshake answer.
  [[nodiscard]] std::string HandshakeHeader(std::string_view name) const;

  /// Sends `message` as one text message.
  bool Send(const nlohmann::json& message);
  bool SendText(std::string_view text);
  /// The next message, or nullopt when the connection closed (see `closed_reason`) or `kWait`
  /// passed.
  std::optional<nlohmann::json> Read();
  /// Messages up to and including the first whose type is `response.completed`,
  /// `response.failed`, `response.incomplete` or `error` (empty when none came).
  std::vector<nlohmann::json> ReadTurn();
  /// Sends a close frame and waits for the server's.
  void Close();
  /// The close frame the server sent, once a read ended on it.
  [[nodiscard]] const beast::websocket::close_reason& closed_reason() const;

 private:
  template <typename Start>
  error_code Await(Start start);

  net::io_context io_;
  beast::websocket::stream<beast::tcp_stream> ws_;
  beast::websocket::response_type handshake_;
  beast::flat_buffer buffer_;
  bool open_ = false;
  unsigned status_ = 0;
};

}  // namespace claudegate::testing
