/// @file decoder.hpp
/// Incremental parser for the WHATWG `text/event-stream` format (HTML Living Standard §9.2.6), used
/// on the upstream side to read Anthropic's streamed Messages responses.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "claudegate/error.hpp"

namespace claudegate::sse {

/// One dispatched server-sent event. `event` is empty when the stream sent no `event:` field (the
/// spec calls that type "message"); `id` is the last event id seen so far, as the spec defines it.
struct Event {
  std::string event;
  std::string data;
  std::string id;
};

/// Split-safe event-stream decoder.
///
/// Feed it the body bytes in whatever chunks the transport delivers: chunk boundaries may fall
/// anywhere, including between `\r` and `\n` or inside a multi-byte UTF-8 sequence, because lines
/// are buffered as bytes and only complete lines are interpreted. Handles LF, CR and CRLF line
/// ends, `:` comment lines, fields without a colon, one leading space stripped from values,
/// multi-line `data` joined with `\n`, a UTF-8 BOM at the very start, and ignores events without
/// any `data` field, as the spec does. The event buffers are reused between events, so a long
/// stream allocates only while its largest event grows.
///
/// @par Thread Safety
/// Not thread-safe; one decoder per stream, used from that stream's strand.
///
/// @par Errors
/// `Feed` fails with `ErrorKind::kUpstreamUnreachable` once the event being assembled (pending line
/// plus data) exceeds `max_event_bytes`; the decoder then stays failed and ignores further input.
class Decoder {
 public:
  /// Default cap on one event: far above any real Anthropic event, low enough to stop a runaway.
  static constexpr std::size_t kDefaultMaxEventBytes = 16U * 1024U * 1024U;

  explicit Decoder(std::size_t max_event_bytes = kDefaultMaxEventBytes)
      : max_event_bytes_(max_event_bytes) {}

  /// Consumes `chunk` and calls `on_event(const Event&)` for every event it completes, in order.
  /// The event reference is only valid during the call. Returns an error when the size cap is hit.
  template <typename OnEvent>
  Result<void> Feed(std::string_view chunk, OnEvent&& on_event) {
    if (failed_) {
      return TooLargeError();
    }
    while (!chunk.empty()) {
      const Step step = Consume(chunk);
      chunk.remove_prefix(step.consumed);
      if (step.status == Status::kDispatch) {
        on_event(static_cast<const Event&>(event_));
        ResetEvent();
      } else if (step.status == Status::kTooLarge) {
        failed_ = true;
        return TooLargeError();
      }
    }
    return {};
  }

  /// Bytes held for the event being assembled (unterminated line plus data so far).
  [[nodiscard]] std::size_t buffered_bytes() const { return line_.size() + event_.data.size(); }

  /// True when bytes of an unfinished event are buffered. At end of stream the spec discards them;
  /// the caller may use this to detect a truncated body.
  [[nodiscard]] bool has_partial_event() const {
    return !line_.empty() || has_data_ || !event_.event.empty();
  }

  /// True after the size cap was exceeded.
  [[nodiscard]] bool failed() const { return failed_; }

 private:
  enum class Status { kNone, kDispatch, kTooLarge };
  struct Step {
    std::size_t consumed;
    Status status;
  };

  Step Consume(std::string_view chunk);
  Status ProcessLine(std::string_view line);
  void ResetEvent();
  [[nodiscard]] Error TooLargeError() const;

  std::size_t max_event_bytes_;
  std::string line_;  // Bytes of a line not yet terminated by CR/LF.
  Event event_;
  bool has_data_ = false;
  bool pending_cr_ = false;  // The last byte seen was a CR; a following LF belongs to it.
  bool at_stream_start_ = true;
  bool failed_ = false;
};

}  // namespace claudegate::sse
