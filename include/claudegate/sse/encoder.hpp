/// @file encoder.hpp
/// Helpers that append server-sent-event frames to a caller-owned buffer, for the downstream side.
///
/// All functions are pure and append only; the caller owns and reuses the buffer. Thread-safe in
/// the sense that they touch nothing but their arguments.
#pragma once

#include <string>
#include <string_view>

namespace claudegate::sse {

/// The comment frame sent as a keep-alive; SSE parsers (both OpenAI SDKs) skip `:` lines.
inline constexpr std::string_view kKeepAlive = ": keep-alive\n\n";
/// OpenAI's end-of-stream sentinel frame.
inline constexpr std::string_view kDone = "data: [DONE]\n\n";

/// Appends `data: <data>\n\n`. A `data` containing line breaks is split over several `data:` lines,
/// which a conforming parser joins back with `\n`.
void AppendData(std::string& out, std::string_view data);

/// Appends `event: <event>\ndata: <data>\n\n` (with the same line splitting as `AppendData`).
void AppendEvent(std::string& out, std::string_view event, std::string_view data);

/// Appends the comment frame `: <text>\n\n`. `text` must not contain line breaks.
void AppendComment(std::string& out, std::string_view text);

}  // namespace claudegate::sse
