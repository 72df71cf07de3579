#include "support/websocket_client.hpp"

namespace claudegate::testing {

namespace websocket = beast::websocket;

template <typename Start>
error_code TestWebSocket::Await(Start start) {
  std::optional<error_code> result;
  start([&result](error_code ec, auto&&... /*unused*/) { result = ec; });
  io_.restart();
  io_.run_for(kWait);
  if (!result) {
    beast::get_lowest_layer(ws_).socket().close();  // bounded: give up and unblock the operation
    io_.restart();
    io_.run_for(std::chrono::seconds(2));
    return net::error::timed_out;
  }
  return *result;
}

TestWebSocket::TestWebSocket(std::uint16_t port, std::string_view target, std::string_view key)
    : ws_(io_) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  if (Await([&](auto handler) { beast::get_lowest_layer(ws_).async_connect(endpoint, handler); })) {
    return;
  }
  ws_.set_option(
      websocket::stream_base::decorator([key = std::string(key)](websocket::request_type& request) {
        if (!key.empty()) {
          request.set(http::field::authorization, "Bearer " + key);
        }
      }));
  const std::string path(target);
  const error_code ec = Await([&](auto handler) {
    ws_.async_handshake(handshake_, "127.0.0.1:" + std::to_string(port), path, handler);
  });
  status_ = handshake_.result_int();
  open_ = !ec && status_ == 101;
}

std::string TestWebSocket::HandshakeHeader(std::string_view name) const {
  return std::string(handshake_[name]);
}

bool TestWebSocket::Send(const nlohmann::json& message) { return SendText(message.dump()); }

bool TestWebSocket::SendText(std::string_view text) {
  ws_.text(true);
  return !Await(
      [&](auto handler) { ws_.async_write(net::const_buffer(text.data(), text.size()), handler); });
}

std::optional<nlohmann::json> TestWebSocket::Read() {
  buffer_.clear();
  if (Await([&](auto handler) { ws_.async_read(buffer_, handler); })) {
    return std::nullopt;
  }
  return nlohmann::json::parse(beast::buffers_to_string(buffer_.data()));
}

std::vector<nlohmann::json> TestWebSocket::ReadTurn() {
  std::vector<nlohmann::json> out;
  while (auto message = Read()) {
    const std::string type = message->value("type", "");
    out.push_back(std::move(*message));
    if (type == "response.completed" || type == "response.failed" ||
        type == "response.incomplete" || type == "error") {
      break;
    }
  }
  return out;
}

void TestWebSocket::Close() {
  Await([&](auto handler) { ws_.async_close(websocket::close_code::normal, handler); });
}

const websocket::close_reason& TestWebSocket::closed_reason() const { return ws_.reason(); }

}  // namespace claudegate::testing
