/// @file recording_response_sink.hpp
/// The recording `server::ResponseSink` that response_sink.hpp promises: it keeps everything a
/// handler or middleware writes (status, content type, header fields, the whole body or each
/// chunk, whether the stream was finished) so filter-level tests can check a response without a
/// socket, and it can play a client that went away.
///
/// It also checks the sink protocol the session relies on: one response per request, `WriteChunk`
/// and `Finish` only after `WriteHead`, nothing after `Finish`. A violation does not throw (the
/// code under test may be in a coroutine); it is recorded in `violations()` for the test to assert
/// empty.
///
/// Header-only, single-threaded like the session's sink (awaited on one strand).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "claudegate/net.hpp"
#include "claudegate/server/response_sink.hpp"

namespace claudegate::testing {

class RecordingResponseSink final : public server::ResponseSink {
 public:
  /// The response head as the client would have received it.
  struct Head {
    unsigned status = 0;
    std::string content_type;
    server::HeaderList headers;  ///< The common headers (`AddHeader`), then the extra ones.
    bool chunked = false;        ///< Started with `WriteHead` rather than `Send`.
  };

  /// From now on every write fails as a socket write to a closed peer would, and records
  /// nothing: the client is gone. `after_writes` lets that many more writes succeed first (e.g.
  /// 1 to lose the client right after the head of a stream).
  void SimulateClientGone(std::size_t after_writes = 0) { writes_left_ = after_writes; }

  Awaitable<error_code> Send(unsigned status, std::string_view content_type, std::string body,
                             const server::HeaderList& extra = {}) override {
    if (head_) {
      Violation("Send after the response head was written");
      co_return error_code(net::error::operation_not_supported);
    }
    if (const auto ec = Gone()) {
      co_return ec;
    }
    RecordHead(status);
    head_ = Head{status, std::string(content_type), Combined(extra), false};
    if (!omits_body()) {
      RecordBytes(body.size());
      body_ = std::move(body);
    }
    finished_ = true;
    co_return error_code{};
  }

  Awaitable<error_code> WriteHead(unsigned status, std::string_view content_type,
                                  const server::HeaderList& extra = {}) override {
    if (head_) {
      Violation("WriteHead after the response head was written");
      co_return error_code(net::error::operation_not_supported);
    }
    if (const auto ec = Gone()) {
      co_return ec;
    }
    RecordHead(status);
    head_ = Head{status, std::string(content_type), Combined(extra), true};
    co_return error_code{};
  }

  Awaitable<error_code> WriteChunk(std::string_view data) override {
    if (!head_ || !head_->chunked || finished_) {
      Violation("WriteChunk outside a started, unfinished chunked response");
      co_return error_code(net::error::operation_not_supported);
    }
    if (data.empty()) {
      co_return error_code{};  // The contract: an empty chunk is a no-op.
    }
    if (const auto ec = Gone()) {
      co_return ec;
    }
    if (!omits_body()) {
      RecordBytes(data.size());
      chunks_.emplace_back(data);
      body_.append(data);
    }
    co_return error_code{};
  }

  Awaitable<error_code> Finish() override {
    if (!head_ || !head_->chunked || finished_) {
      Violation("Finish outside a started, unfinished chunked response");
      co_return error_code(net::error::operation_not_supported);
    }
    if (const auto ec = Gone()) {
      co_return ec;
    }
    finished_ = true;
    co_return error_code{};
  }

  /// The head, once written.
  [[nodiscard]] const std::optional<Head>& head() const { return head_; }
  /// The whole body: `Send`'s, or every chunk joined.
  [[nodiscard]] const std::string& body() const { return body_; }
  /// Each non-empty chunk of a chunked response, in order.
  [[nodiscard]] const std::vector<std::string>& chunks() const { return chunks_; }
  /// True after `Send`, or after `Finish` of a chunked response.
  [[nodiscard]] bool finished() const { return finished_; }
  /// Writes refused because the client was gone.
  [[nodiscard]] std::size_t refused_writes() const { return refused_writes_; }
  /// Protocol violations, in order; a correct handler leaves this empty.
  [[nodiscard]] const std::vector<std::string>& violations() const { return violations_; }

  /// The value of the first header field called `name` (case-sensitive, as written), if any.
  [[nodiscard]] std::optional<std::string> HeaderValue(std::string_view name) const {
    if (!head_) {
      return std::nullopt;
    }
    for (const auto& [field, value] : head_->headers) {
      if (field == name) {
        return value;
      }
    }
    return std::nullopt;
  }

 private:
  server::HeaderList Combined(const server::HeaderList& extra) const {
    server::HeaderList all = common_headers();
    all.insert(all.end(), extra.begin(), extra.end());
    return all;
  }

  // The error a write gets once the client is gone, or none.
  error_code Gone() {
    if (!writes_left_) {
      return {};
    }
    if (*writes_left_ > 0) {
      --*writes_left_;
      return {};
    }
    ++refused_writes_;
    return net::error::broken_pipe;
  }

  void Violation(std::string what) { violations_.push_back(std::move(what)); }

  std::optional<Head> head_;
  std::string body_;
  std::vector<std::string> chunks_;
  bool finished_ = false;
  std::optional<std::size_t> writes_left_;  ///< Set once the client is (about to be) gone.
  std::size_t refused_writes_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace claudegate::testing
