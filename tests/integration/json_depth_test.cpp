// Deeply nested request bodies are refused on every route that reads a client body, from the bytes
// alone, before a DOM is built or anything reaches the upstream (issue 14, finding 10).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

// 256 Ki levels: far past the limit (128), small enough to send quickly under sanitizers.
const std::string kDeep = std::string(256U * 1024U, '[') + std::string(256U * 1024U, ']');

struct RouteCase {
  std::string target;
  std::string body;
  bool openai_shape;
};

TEST(JsonDepth, RefusesADeepBodyOnEveryRouteWithoutCallingTheUpstream) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "hi", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  const std::vector<RouteCase> cases = {
      {"/v1/chat/completions", R"({"model":"sonnet","messages":)" + kDeep + "}", true},
      {"/v1/responses", R"({"model":"sonnet","input":)" + kDeep + "}", true},
      {"/v1/messages", R"({"model":"sonnet","max_tokens":5,"messages":)" + kDeep + "}", false},
      {"/v1/messages/count_tokens", R"({"model":"sonnet","messages":)" + kDeep + "}", false},
  };
  for (const auto& c : cases) {
    auto response = Fetch(gw.port(), http::verb::post, c.target, kTestMasterKey, c.body);
    ASSERT_TRUE(response) << c.target;
    EXPECT_EQ(response->status, 400) << c.target;
    const auto body = json::parse(response->body());
    if (c.openai_shape) {
      EXPECT_EQ(body["error"]["code"], "json_too_deep") << c.target;
      EXPECT_EQ(body["error"]["type"], "invalid_request_error") << c.target;
    } else {
      EXPECT_EQ(body["type"], "error") << c.target;
      EXPECT_EQ(body["error"]["type"], "invalid_request_error") << c.target;
    }
    EXPECT_NE(body["error"]["message"].get<std::string>().find("deeper than 128"),
              std::string::npos)
        << c.target;
  }
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(JsonDepth, RefusesDeepToolArgumentsHiddenInAString) {
  // The body itself is shallow; the arguments string would parse into a value copied and dumped
  // recursively.
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "hi", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  const std::string arguments = R"({"a":)" + kDeep + "}";
  json request = {{"model", "sonnet"},
                  {"messages",
                   {{{"role", "user"}, {"content", "x"}},
                    {{"role", "assistant"},
                     {"tool_calls",
                      {{{"id", "call_1"},
                        {"type", "function"},
                        {"function", {{"name", "f"}, {"arguments", arguments}}}}}}},
                    {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "ok"}}}}};
  auto response =
      Fetch(gw.port(), http::verb::post, "/v1/chat/completions", kTestMasterKey, request.dump());
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400) << response->body().substr(0, 300);
  const auto body = json::parse(response->body());
  EXPECT_EQ(body["error"]["code"], "json_too_deep");
  EXPECT_EQ(body["error"]["param"], "messages[1].tool_calls[0].function.arguments");
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(JsonDepth, BracketsInsideStringsAreJustText) {
  FakeUpstream upstream([](const RecordedRequest&) {
    return JsonResponse(TextMessage("claude-sonnet-5-5", "hi", 1, 1));
  });
  TestGateway gw(ConfigFor(upstream));
  const json text = std::string(1000, '[') + "\\\"" + std::string(1000, '{');
  const std::string body = R"({"model":"claude-sonnet-5-5","max_tokens":5,)"
                           R"("messages":[{"role":"user","content":)" +
                           text.dump() + "}]}";
  auto response = Fetch(gw.port(), http::verb::post, "/v1/messages", kTestMasterKey, body);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << response->body();
  ASSERT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(upstream.requests()[0].body, body);
}

}  // namespace
}  // namespace claudegate::testing
