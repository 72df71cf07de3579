/// @file responses_replay.hpp
/// A finished Response object told again as the Responses event stream that would have delivered
/// it (`GET /v1/responses/{id}?stream=true` on a stored response): `response.created`,
/// `response.in_progress`, for each output item its `added` event, its content in one delta per
/// part, its `done` events, then `response.completed` (or `.incomplete` / `.failed`, after the
/// status). The event shapes are those `ResponsesStreamTranslator` emits live, so a client reads a
/// replay as it read the original; the deltas are whole parts, not the original token pieces.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace claudegate::translate {

/// The SSE text of the replay of `response` (a Response object with `output`), sequence numbers
/// from 0. Events with a sequence number not above `starting_after` are left out (OpenAI's
/// `starting_after`, for a client resuming a stream); -1 keeps them all.
[[nodiscard]] std::string ReplayResponseEvents(const nlohmann::json& response,
                                               std::int64_t starting_after = -1);

}  // namespace claudegate::translate
