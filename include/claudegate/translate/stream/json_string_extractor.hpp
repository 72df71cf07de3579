/// @file json_string_extractor.hpp
/// Streams the string value out of a one-key JSON object that arrives in fragments.
///
/// A custom tool's call reaches claudegate as Claude's `input_json_delta` fragments of
/// `{"input":"…"}` (docs/codex.md#tool-types); the Responses stream must send the string itself
/// incrementally (`response.custom_tool_call_input.delta`). This extractor reads the fragments as
/// they come and yields the decoded characters of the value: JSON escapes are decoded, including
/// `\uXXXX` escapes and UTF-16 surrogate pairs split anywhere across fragments (a lone surrogate
/// becomes U+FFFD). Anything but exactly `{"<key>":"<string>"}` (with any JSON whitespace) makes
/// it give up: `failed()` turns true and no more text is yielded, and the caller takes the value
/// from the whole JSON at the block's end instead.
///
/// Pure; not thread-safe (one per tool block).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace claudegate::translate {

class JsonStringExtractor {
 public:
  explicit JsonStringExtractor(std::string key) : key_(std::move(key)) {}

  /// Reads one fragment; appends the newly decoded value characters to `out`.
  void Feed(std::string_view fragment, std::string& out);

  /// The input so far is not the expected shape; nothing more will be yielded.
  [[nodiscard]] bool failed() const { return state_ == State::kFailed; }
  /// The whole object, closing brace included, was read and matched.
  [[nodiscard]] bool complete() const { return state_ == State::kDone; }

 private:
  enum class State {
    kBeforeObject,
    kBeforeKey,
    kKey,
    kAfterKey,
    kBeforeValue,
    kValue,
    kEscape,
    kUnicode,
    kAfterValue,
    kDone,
    kFailed,
  };
  void Step(char c, std::string& out);
  void EndUnicode(std::string& out);
  void FlushHigh(std::string& out);

  std::string key_;
  std::string key_seen_;
  State state_ = State::kBeforeObject;
  std::uint32_t code_ = 0;          // The `\u` escape being read.
  int hex_digits_ = 0;              // Digits of it read so far.
  std::uint32_t pending_high_ = 0;  // A high surrogate waiting for its low half.
};

}  // namespace claudegate::translate
