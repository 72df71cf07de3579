// A ResponseSink that records what a handler wrote, for filter-level tests without a socket
// (the recording implementation include/claudegate/http/response_sink.hpp promises). Every write
// completes at once; `GoneAfter(n)` makes the client disappear after n accepted chunks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "claudegate/http/response_sink.hpp"
#include "claudegate/net.hpp"

namespace claudegate::testing {

class RecordingSink final : public server::ResponseSink {
 public:
  Awaitable<error_code> Send(unsigned status, std::string_view content_type, std::string body,
                             const server::HeaderList& extra = {}) override {
    if (gone()) {
      co_return net::error::broken_pipe;
    }
    RecordHead(status);
    content_type_ = std::string(content_type);
    headers_ = extra;
    RecordBytes(body.size());
    body_ = std::move(body);
    finished_ = true;
    co_return error_code{};
  }

  Awaitable<error_code> WriteHead(unsigned status, std::string_view content_type,
                                  const server::HeaderList& extra = {}) override {
    if (gone()) {
      co_return net::error::broken_pipe;
    }
    RecordHead(status);
    content_type_ = std::string(content_type);
    headers_ = extra;
    co_return error_code{};
  }

  Awaitable<error_code> WriteChunk(std::string_view data) override {
    if (data.empty()) {
      co_return error_code{};
    }
    if (gone()) {
      co_return net::error::broken_pipe;
    }
    chunks_.emplace_back(data);
    RecordBytes(data.size());
    co_return error_code{};
  }

  Awaitable<error_code> Finish() override {
    if (gone()) {
      co_return net::error::broken_pipe;
    }
    finished_ = true;
    co_return error_code{};
  }

  /// The client hangs up after `chunks` chunks were written (0: before the head).
  void GoneAfter(std::size_t chunks) { gone_after_ = chunks; }

  [[nodiscard]] const std::string& content_type() const { return content_type_; }
  [[nodiscard]] const server::HeaderList& headers() const { return headers_; }
  [[nodiscard]] const std::vector<std::string>& chunks() const { return chunks_; }
  /// Every chunk, joined: what a streaming client received.
  [[nodiscard]] std::string streamed() const {
    std::string all;
    for (const auto& chunk : chunks_) {
      all += chunk;
    }
    return all;
  }
  /// The body of a whole response (`Send`).
  [[nodiscard]] const std::string& body() const { return body_; }
  /// True once `Send` or `Finish` completed.
  [[nodiscard]] bool finished() const { return finished_; }

 private:
  [[nodiscard]] bool gone() const { return gone_after_ && chunks_.size() >= *gone_after_; }

  std::string content_type_;
  server::HeaderList headers_;
  std::vector<std::string> chunks_;
  std::string body_;
  std::optional<std::size_t> gone_after_;
  bool finished_ = false;
};

}  // namespace claudegate::testing
