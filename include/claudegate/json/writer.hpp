/// @file writer.hpp
/// The leaf JSON writing helpers that every layer may use (error bodies, translated responses,
/// stream chunks) without depending on one another. No dependency on anything in claudegate.
///
/// Pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace claudegate::json {

/// Appends `value` as a quoted JSON string (RFC 8259 §7). Invalid UTF-8 bytes are replaced with
/// U+FFFD, so the output is always valid JSON (and valid UTF-8, RFC 8259 §8.1).
void AppendJsonString(std::string& out, std::string_view value);

}  // namespace claudegate::json
