/// @file responses_client.hpp
/// What the Responses integration tests share: a streamed upstream answer, a POST of a JSON body
/// to the gateway, the `event:`/`data:` frames of an SSE body in order, and the transcript of what
/// reached the upstream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {

/// A 200 `text/event-stream` answer of the fake upstream, one chunk per entry.
inline ScriptedResponse StreamOk(std::vector<std::string> chunks) {
  ScriptedResponse response;
  response.headers.emplace_back("content-type", "text/event-stream");
  response.headers.emplace_back("request-id", "req_upstream_123");
  response.chunks = std::move(chunks);
  return response;
}

/// POSTs `body` with the test master key (`/v1/responses` unless `path` says otherwise).
inline std::optional<TestResponse> PostJson(std::uint16_t port, const nlohmann::json& body,
                                            std::string_view path = "/v1/responses") {
  return Fetch(port, http::verb::post, path, kTestMasterKey, body.dump());
}

struct SseFrame {
  std::string event;
  nlohmann::json data;
};

/// The `event:`/`data:` pairs of an SSE body, in order (comments skipped).
inline std::vector<SseFrame> SseFrames(const std::string& body) {
  std::vector<SseFrame> frames;
  std::size_t pos = 0;
  std::string event;
  while (pos < body.size()) {
    const auto end = body.find('\n', pos);
    const std::string line = body.substr(pos, end - pos);
    pos = end == std::string::npos ? body.size() : end + 1;
    if (line.starts_with("event: ")) {
      event = line.substr(7);
    } else if (line.starts_with("data: ")) {
      frames.push_back({event, nlohmann::json::parse(line.substr(6))});
      event.clear();
    }
  }
  return frames;
}

/// The roles and texts of an Anthropic request's messages, "role:text|…" (text blocks only).
inline std::string Transcript(const nlohmann::json& body) {
  std::string out;
  for (const auto& message : body["messages"]) {
    out += message["role"].get<std::string>() + ":";
    if (message["content"].is_string()) {
      out += message["content"].get<std::string>();
    } else {
      for (const auto& block : message["content"]) {
        out += block.value("text", "");
      }
    }
    out += "|";
  }
  return out;
}

}  // namespace claudegate::testing
