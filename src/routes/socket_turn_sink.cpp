#include "claudegate/routes/socket_turn_sink.hpp"

#include <vector>

#include <nlohmann/json.hpp>

namespace claudegate::routes {

std::string SocketErrorMessage(unsigned status, std::string_view body,
                               const server::HeaderList& headers) {
  nlohmann::json message = {{"type", "error"}, {"status", status}};
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_object()) {
    message["error"] = parsed["error"];
  } else {
    message["error"] = {{"type", "server_error"},
                        {"code", nullptr},
                        {"message", std::string(body)},
                        {"param", nullptr}};
  }
  if (!headers.empty()) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& [name, value] : headers) {
      fields[name] = value;
    }
    message["headers"] = std::move(fields);
  }
  return message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Awaitable<error_code> SocketTurnSink::Send(unsigned status, std::string_view content_type,
                                           std::string body, const server::HeaderList& extra) {
  (void)content_type;
  RecordHead(status);
  const std::string message = status >= 400 ? SocketErrorMessage(status, body, extra) : body;
  const error_code ec = co_await channel_.Write(message);
  if (!ec) {
    RecordBytes(message.size());
  }
  finished_ = !ec;
  failed_ = static_cast<bool>(ec);
  co_return ec;
}

Awaitable<error_code> SocketTurnSink::WriteHead(unsigned status, std::string_view content_type,
                                                const server::HeaderList& extra) {
  (void)content_type;
  (void)extra;
  RecordHead(status);
  co_return error_code{};
}

Awaitable<error_code> SocketTurnSink::WriteChunk(std::string_view data) {
  if (failed_) {
    co_return net::error::broken_pipe;
  }
  // Whole events only: the decoder keeps a partial one for the next chunk.
  std::vector<std::string> messages;
  const auto fed =
      events_.Feed(data, [&messages](const sse::Event& event) { messages.push_back(event.data); });
  if (!fed) {
    failed_ = true;
    co_return net::error::message_size;
  }
  for (const std::string& message : messages) {
    const error_code ec = co_await channel_.Write(message);
    if (ec) {
      failed_ = true;
      co_return ec;
    }
    RecordBytes(message.size());
  }
  co_return error_code{};
}

Awaitable<error_code> SocketTurnSink::Finish() {
  if (failed_) {
    co_return net::error::broken_pipe;
  }
  finished_ = true;
  co_return error_code{};
}

}  // namespace claudegate::routes
