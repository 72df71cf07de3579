// The Anthropic wire-format builders the fake upstream's handlers answer with (events, stream
// transcripts, messages, error bodies), declared in fake_upstream.hpp; kept apart from the server.
#include <array>
#include <atomic>
#include <cstdio>

#include "support/fake_upstream.hpp"

namespace claudegate::testing {
namespace {

std::string NextId(std::string_view prefix) {
  static std::atomic<unsigned long long> counter{0};
  std::array<char, 32> digits{};
  std::snprintf(digits.data(), digits.size(), "%020llu", ++counter);
  return std::string(prefix) + "01FAKE" + digits.data();
}

}  // namespace

std::string SseEvent(std::string_view event, const nlohmann::json& data) {
  return "event: " + std::string(event) + "\ndata: " + data.dump() + "\n\n";
}

std::string SseEvent(std::string_view event, const nlohmann::ordered_json& data) {
  return "event: " + std::string(event) + "\ndata: " + data.dump() + "\n\n";
}

std::vector<std::string> TextStreamTranscript(std::string model,
                                              std::vector<std::string> text_pieces,
                                              int input_tokens, int output_tokens) {
  using Json = nlohmann::ordered_json;
  std::vector<std::string> events;

  Json usage = Json::object();
  usage["input_tokens"] = input_tokens;
  usage["output_tokens"] = 1;
  usage["cache_creation_input_tokens"] = 0;
  usage["cache_read_input_tokens"] = 0;
  Json message = Json::object();
  message["id"] = NextId("msg_");
  message["type"] = "message";
  message["role"] = "assistant";
  message["content"] = Json::array();
  message["model"] = std::move(model);
  message["stop_reason"] = nullptr;
  message["stop_sequence"] = nullptr;
  message["usage"] = std::move(usage);
  Json start = Json::object();
  start["type"] = "message_start";
  start["message"] = std::move(message);
  events.push_back(SseEvent("message_start", start));

  Json block = Json::object();
  block["type"] = "text";
  block["text"] = "";
  Json block_start = Json::object();
  block_start["type"] = "content_block_start";
  block_start["index"] = 0;
  block_start["content_block"] = std::move(block);
  events.push_back(SseEvent("content_block_start", block_start));

  Json ping = Json::object();
  ping["type"] = "ping";
  events.push_back(SseEvent("ping", ping));

  for (auto& piece : text_pieces) {
    Json delta = Json::object();
    delta["type"] = "text_delta";
    delta["text"] = std::move(piece);
    Json block_delta = Json::object();
    block_delta["type"] = "content_block_delta";
    block_delta["index"] = 0;
    block_delta["delta"] = std::move(delta);
    events.push_back(SseEvent("content_block_delta", block_delta));
  }

  Json block_stop = Json::object();
  block_stop["type"] = "content_block_stop";
  block_stop["index"] = 0;
  events.push_back(SseEvent("content_block_stop", block_stop));

  Json stop = Json::object();
  stop["stop_reason"] = "end_turn";
  stop["stop_sequence"] = nullptr;
  Json final_usage = Json::object();
  final_usage["output_tokens"] = output_tokens;
  Json message_delta = Json::object();
  message_delta["type"] = "message_delta";
  message_delta["delta"] = std::move(stop);
  message_delta["usage"] = std::move(final_usage);
  events.push_back(SseEvent("message_delta", message_delta));

  Json message_stop = Json::object();
  message_stop["type"] = "message_stop";
  events.push_back(SseEvent("message_stop", message_stop));
  return events;
}

nlohmann::json TextMessage(std::string model, std::string text, int input_tokens,
                           int output_tokens) {
  nlohmann::json block = nlohmann::json::object();
  block["type"] = "text";
  block["text"] = std::move(text);
  nlohmann::json usage = nlohmann::json::object();
  usage["input_tokens"] = input_tokens;
  usage["output_tokens"] = output_tokens;
  usage["cache_creation_input_tokens"] = 0;
  usage["cache_read_input_tokens"] = 0;
  nlohmann::json message = nlohmann::json::object();
  message["id"] = NextId("msg_");
  message["type"] = "message";
  message["role"] = "assistant";
  message["model"] = std::move(model);
  message["content"] = nlohmann::json::array();
  message["content"].push_back(std::move(block));
  message["stop_reason"] = "end_turn";
  message["stop_sequence"] = nullptr;
  message["usage"] = std::move(usage);
  return message;
}

std::string AnthropicError(std::string type, std::string message) {
  nlohmann::ordered_json error = nlohmann::ordered_json::object();
  error["type"] = std::move(type);
  error["message"] = std::move(message);
  nlohmann::ordered_json body = nlohmann::ordered_json::object();
  body["type"] = "error";
  body["error"] = std::move(error);
  body["request_id"] = NextId("req_");
  return body.dump();
}

ScriptedResponse JsonResponse(const nlohmann::json& body, unsigned status) {
  ScriptedResponse response;
  response.status = status;
  response.headers.emplace_back("content-type", "application/json");
  response.body = body.dump();
  return response;
}

ScriptedResponse SseResponse(std::vector<std::string> chunks) {
  ScriptedResponse response;
  response.headers.emplace_back("content-type", "text/event-stream");
  response.headers.emplace_back("cache-control", "no-cache");
  response.chunks = std::move(chunks);
  return response;
}

ScriptedResponse ErrorResponse(unsigned status, std::string type, std::string message) {
  ScriptedResponse response;
  response.status = status;
  response.headers.emplace_back("content-type", "application/json");
  response.body = AnthropicError(std::move(type), std::move(message));
  return response;
}

}  // namespace claudegate::testing
