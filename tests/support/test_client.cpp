#include "support/test_client.hpp"

#include <sys/socket.h>

namespace claudegate::testing {

TestClient::TestClient(std::uint16_t port, std::chrono::milliseconds timeout,
                       std::string_view source_address)
    : socket_(io_) {
  if (!source_address.empty()) {
    socket_.open(tcp::v4());
    socket_.bind({net::ip::make_address(std::string(source_address)), 0});
  }
  socket_.connect({net::ip::make_address("127.0.0.1"), port});
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

void TestClient::SendRaw(std::string_view bytes) {
  error_code ec;
  net::write(socket_, net::buffer(bytes.data(), bytes.size()), ec);
}

std::optional<TestResponse> TestClient::ReadResponse() {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64U * 1024U * 1024U);
  error_code ec;
  http::read(socket_, buffer_, parser, ec);
  if (ec) {
    return std::nullopt;
  }
  TestResponse response;
  response.message = parser.release();
  response.status = response.message.result_int();
  return response;
}

std::optional<TestResponse> TestClient::Request(
    http::verb method, std::string_view target, std::string body,
    std::vector<std::pair<std::string, std::string>> headers) {
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) {
    request.insert(name, value);  // insert, not set: a test may send a header line twice
  }
  if (!body.empty() || method == http::verb::post) {
    request.set(http::field::content_type, "application/json");
    request.body() = std::move(body);
    request.prepare_payload();
  }
  error_code ec;
  http::write(socket_, request, ec);
  if (ec) {
    return std::nullopt;
  }
  return ReadResponse();
}

bool TestClient::WaitForClose() {
  std::array<char, 4096> scratch{};
  for (;;) {
    error_code ec;
    socket_.read_some(net::buffer(scratch), ec);
    if (ec == net::error::eof || ec == net::error::connection_reset) {
      return true;
    }
    if (ec) {
      return false;  // timeout (EAGAIN) or another error: not a clean close
    }
  }
}

std::string TestClient::ReadAll() {
  std::string all(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  std::array<char, 4096> scratch{};
  for (;;) {
    error_code ec;
    const std::size_t n = socket_.read_some(net::buffer(scratch), ec);
    all.append(scratch.data(), n);
    if (ec) {
      return all;
    }
  }
}

std::optional<TestResponse> Fetch(std::uint16_t port, http::verb method, std::string_view target,
                                  std::string_view key, std::string body,
                                  std::vector<std::pair<std::string, std::string>> headers) {
  TestClient client(port);
  if (!key.empty()) {
    headers.emplace_back("authorization", "Bearer " + std::string(key));
  }
  return client.Request(method, target, std::move(body), std::move(headers));
}

}  // namespace claudegate::testing
