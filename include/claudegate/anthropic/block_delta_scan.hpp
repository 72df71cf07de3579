/// @file block_delta_scan.hpp
/// A fast path for the most frequent upstream SSE event: a `content_block_delta` carrying one
/// string (text, thinking, tool-argument or signature fragment).
///
/// A full nlohmann DOM parse of each such event was ~40 % of the instructions of a streamed chat
/// request (docs/performance.md). The scanner below reads the one small shape those events have,
/// validating as strictly as nlohmann does, and declines anything else (unknown or duplicate keys,
/// escaped keys, non-integer index, lone surrogates, invalid UTF-8, control characters, trailing
/// bytes) so the caller falls back to the DOM parse. Accepting therefore never changes behaviour:
/// every accepted input is valid JSON whose DOM would yield the same index, type and string.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace claudegate::anthropic {

/// The `content_block_delta` types of the Messages stream
/// (https://docs.anthropic.com/en/docs/build-with-claude/streaming#content-block-delta-types).
/// The scanner recognises the first four, each with its one string field; the event reader also
/// reports the other two.
enum class DeltaKind {
  kText,       ///< `text_delta`, field `text`
  kThinking,   ///< `thinking_delta`, field `thinking`
  kInputJson,  ///< `input_json_delta`, field `partial_json`
  kSignature,  ///< `signature_delta`, field `signature`
  kCitations,  ///< `citations_delta`, object field `citation` (never taken by the scanner)
  kOther,      ///< any other or malformed delta (never taken by the scanner)
};

/// One recognised `content_block_delta` event.
struct BlockDelta {
  std::size_t index = 0;
  DeltaKind kind = DeltaKind::kText;
  /// The decoded (unescaped, UTF-8) string: a view of the event data when it had no escapes,
  /// otherwise of the caller's scratch buffer. Valid until either changes.
  std::string_view value;
};

/// Recognises `{"type":"content_block_delta","index":N,"delta":{"type":T,F:"…"}}` in any key
/// order and with any JSON whitespace. Returns false, leaving `out` unspecified, for anything
/// else; the caller then parses the event in full. `scratch` is reused for unescaping.
[[nodiscard]] bool ScanBlockDelta(std::string_view data, std::string& scratch, BlockDelta& out);

}  // namespace claudegate::anthropic
