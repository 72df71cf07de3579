// Stored responses through the real gateway (issue #17): previous_response_id, item_reference,
// GET/DELETE /v1/responses/{id}, input_items, a restart on the same data directory, a store that
// cannot open, and input_tokens (the WebSocket: responses_socket_test.cpp). SQLite is real, in a
// per-test directory.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/fake_credentials.hpp"
#include "support/fake_upstream.hpp"
#include "support/responses_client.hpp"
#include "support/temp_dir.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;

// Answers every Messages call with `text`, and count_tokens with 42.
Handler Answering(std::string text) {
  return [text = std::move(text)](const RecordedRequest& request) {
    if (request.target.starts_with("/v1/messages/count_tokens")) {
      return JsonResponse(json{{"input_tokens", 42}});
    }
    return StreamOk(TextStreamTranscript("claude-sonnet-5-5", {text}, 10, 3));
  };
}

config::Config StoringConfig(const FakeUpstream& upstream, const TempDir& dir) {
  auto config = ConfigFor(upstream);
  config.store.enabled = true;
  config.store.data_dir = dir.path();
  return config;
}

std::optional<TestResponse> Get(std::uint16_t port, const std::string& target) {
  return Fetch(port, http::verb::get, target, kTestMasterKey, "");
}

TEST(ResponsesStore, ContinuesWithPreviousResponseIdStreamAndNot) {
  TempDir dir;
  FakeUpstream upstream(Answering("Paris."));
  TestGateway gw(StoringConfig(upstream, dir));

  auto first = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Capital of France?"}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200) << first->body();
  const json first_body = json::parse(first->body());
  EXPECT_EQ(first_body["store"], true);
  EXPECT_EQ(first_body["previous_response_id"], nullptr);
  const std::string first_id = first_body["id"];

  // Streamed second turn: the stored turn comes first upstream, instructions are not carried.
  auto second = PostJson(gw.port(), {{"model", "sonnet"},
                                     {"stream", true},
                                     {"instructions", "Be brief."},
                                     {"previous_response_id", first_id},
                                     {"input", "Population?"}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body();
  const auto sent = upstream.requests().back().JsonBody();
  EXPECT_EQ(Transcript(sent), "user:Capital of France?|assistant:Paris.|user:Population?|");
  const std::string body = second->body();
  const auto completed = body.find("event: response.completed");
  ASSERT_NE(completed, std::string::npos);
  const json final_event = json::parse(body.substr(
      body.find("data: ", completed) + 6,
      body.find('\n', body.find("data: ", completed)) - body.find("data: ", completed) - 6));
  const std::string second_id = final_event["response"]["id"];
  EXPECT_EQ(final_event["response"]["previous_response_id"], first_id);

  // A third turn continues the chain of both.
  auto third = PostJson(
      gw.port(), {{"model", "sonnet"}, {"previous_response_id", second_id}, {"input", "Thanks."}});
  ASSERT_TRUE(third);
  ASSERT_EQ(third->status, 200) << third->body();
  EXPECT_EQ(Transcript(upstream.requests().back().JsonBody()),
            "user:Capital of France?|assistant:Paris.|user:Population?|assistant:Paris.|"
            "user:Thanks.|");
}

// Responses are named by the gateway, time first, not after Anthropic's message id: two answers
// carrying the same upstream id are two stored turns, and a later one sorts after an earlier one
// (the store's indexes grow at their end; docs/performance.md, "Stored responses").
TEST(ResponsesStore, EachResponseGetsItsOwnTimeOrderedId) {
  TempDir dir;
  // One transcript, one message id, for every call.
  const auto same_answer = TextStreamTranscript("claude-sonnet-5-5", {"Same."}, 10, 3);
  FakeUpstream upstream([same_answer](const RecordedRequest&) { return StreamOk(same_answer); });
  TestGateway gw(StoringConfig(upstream, dir));
  std::vector<std::string> ids;
  for (const bool stream : {false, true, false}) {
    auto answer = PostJson(gw.port(), {{"model", "sonnet"}, {"stream", stream}, {"input", "Hi"}});
    ASSERT_TRUE(answer);
    ASSERT_EQ(answer->status, 200) << answer->body();
    const std::string body = answer->body();
    const auto at = body.find("\"id\":\"resp_");
    ASSERT_NE(at, std::string::npos) << body;
    ids.push_back(body.substr(at + 6, body.find('"', at + 6) - at - 6));
  }
  ASSERT_EQ(ids.size(), 3U);
  EXPECT_NE(ids[0], ids[1]);
  EXPECT_NE(ids[1], ids[2]);
  for (const auto& id : ids) {
    EXPECT_EQ(id.size(), 5U + 24U) << id;
    auto stored = Get(gw.port(), "/v1/responses/" + id);
    ASSERT_TRUE(stored);
    EXPECT_EQ(stored->status, 200) << id;
    const json response = json::parse(stored->body());
    // The output message is named after its Response.
    EXPECT_EQ(response["output"][0]["id"], "msg_" + id.substr(5) + "_0");
  }
  // The first 12 hex digits are milliseconds: never decreasing from one turn to the next.
  EXPECT_LE(ids[0].substr(5, 12), ids[1].substr(5, 12));
  EXPECT_LE(ids[1].substr(5, 12), ids[2].substr(5, 12));
}

TEST(ResponsesStore, RetrieveListDeleteAndNotFound) {
  TempDir dir;
  FakeUpstream upstream(Answering("Hello."));
  TestGateway gw(StoringConfig(upstream, dir));
  auto created =
      PostJson(gw.port(), {{"model", "sonnet"},
                           {"input", json::array({{{"role", "user"}, {"content", "a"}},
                                                  {{"role", "user"}, {"content", "b"}},
                                                  {{"role", "user"}, {"content", "c"}}})}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200);
  const json response = json::parse(created->body());
  const std::string id = response["id"];

  auto retrieved = Get(gw.port(), "/v1/responses/" + id);
  ASSERT_TRUE(retrieved);
  ASSERT_EQ(retrieved->status, 200) << retrieved->body();
  EXPECT_EQ(json::parse(retrieved->body()), response);

  // Replayed as the event stream that delivered it, and resumed after a sequence number.
  auto replayed = Get(gw.port(), "/v1/responses/" + id + "?stream=true");
  ASSERT_TRUE(replayed);
  ASSERT_EQ(replayed->status, 200) << replayed->body();
  EXPECT_EQ(replayed->header("content-type"), "text/event-stream");
  const auto frames = SseFrames(replayed->body());
  ASSERT_GE(frames.size(), 4U);
  EXPECT_EQ(frames.front().event, "response.created");
  EXPECT_EQ(frames.back().event, "response.completed");
  EXPECT_EQ(frames.back().data["response"], response);
  auto resumed = Get(gw.port(), "/v1/responses/" + id + "?stream=true&starting_after=2");
  ASSERT_TRUE(resumed);
  EXPECT_EQ(SseFrames(resumed->body()).front().data["sequence_number"], 3);
  auto bad_cursor = Get(gw.port(), "/v1/responses/" + id + "?stream=true&starting_after=x");
  ASSERT_TRUE(bad_cursor);
  EXPECT_EQ(bad_cursor->status, 400);

  auto page = Get(gw.port(), "/v1/responses/" + id + "/input_items?order=asc&limit=2");
  ASSERT_TRUE(page);
  ASSERT_EQ(page->status, 200) << page->body();
  const json list = json::parse(page->body());
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 2U);
  EXPECT_EQ(list["data"][0]["content"], "a");
  EXPECT_EQ(list["has_more"], true);
  const std::string after = list["last_id"];
  auto rest = Get(gw.port(), "/v1/responses/" + id + "/input_items?order=asc&after=" + after);
  ASSERT_TRUE(rest);
  const json rest_list = json::parse(rest->body());
  ASSERT_EQ(rest_list["data"].size(), 1U);
  EXPECT_EQ(rest_list["data"][0]["content"], "c");
  EXPECT_EQ(rest_list["has_more"], false);

  auto bad_limit = Get(gw.port(), "/v1/responses/" + id + "/input_items?limit=0");
  ASSERT_TRUE(bad_limit);
  EXPECT_EQ(bad_limit->status, 400);
  EXPECT_EQ(json::parse(bad_limit->body())["error"]["param"], "limit");

  auto deleted = Fetch(gw.port(), http::verb::delete_, "/v1/responses/" + id, kTestMasterKey, "");
  ASSERT_TRUE(deleted);
  ASSERT_EQ(deleted->status, 200) << deleted->body();
  EXPECT_EQ(json::parse(deleted->body()),
            (json{{"id", id}, {"object", "response"}, {"deleted", true}}));

  auto gone = Get(gw.port(), "/v1/responses/" + id);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(json::parse(gone->body())["error"]["type"], "invalid_request_error");
  const std::size_t calls = upstream.requests().size();
  auto continued =
      PostJson(gw.port(), {{"model", "sonnet"}, {"previous_response_id", id}, {"input", "more"}});
  ASSERT_TRUE(continued);
  EXPECT_EQ(continued->status, 404);
  EXPECT_EQ(json::parse(continued->body())["error"]["param"], "previous_response_id");
  EXPECT_EQ(upstream.requests().size(), calls) << "no upstream call for an unknown id";
}

TEST(ResponsesStore, ItemReferencesResolveFromEarlierOutput) {
  TempDir dir;
  FakeUpstream upstream(Answering("Let me think."));
  TestGateway gw(StoringConfig(upstream, dir));
  auto first = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Question one"}});
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  const json output = json::parse(first->body())["output"];
  ASSERT_FALSE(output.empty());
  const std::string message_id = output[0]["id"];

  auto second =
      PostJson(gw.port(), {{"model", "sonnet"},
                           {"input", json::array({{{"role", "user"}, {"content", "Question one"}},
                                                  {{"type", "item_reference"}, {"id", message_id}},
                                                  {{"role", "user"}, {"content", "Two"}}})}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body();
  EXPECT_EQ(Transcript(upstream.requests().back().JsonBody()),
            "user:Question one|assistant:Let me think.|user:Two|");

  auto unknown = PostJson(
      gw.port(), {{"model", "sonnet"},
                  {"input", json::array({{{"type", "item_reference"}, {"id", "msg_nope"}}})}});
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  auto malformed = PostJson(
      gw.port(), {{"model", "sonnet"}, {"input", json::array({{{"type", "item_reference"}}})}});
  ASSERT_TRUE(malformed);
  EXPECT_EQ(malformed->status, 400);
  EXPECT_EQ(json::parse(malformed->body())["error"]["param"], "input[0].id");
}

TEST(ResponsesStore, StoreFalseKeepsNothing) {
  TempDir dir;
  FakeUpstream upstream(Answering("Hi."));
  TestGateway gw(StoringConfig(upstream, dir));
  auto created = PostJson(gw.port(), {{"model", "sonnet"}, {"store", false}, {"input", "Hi"}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200);
  const json response = json::parse(created->body());
  EXPECT_EQ(response["store"], false);
  auto retrieved = Get(gw.port(), "/v1/responses/" + response["id"].get<std::string>());
  ASSERT_TRUE(retrieved);
  EXPECT_EQ(retrieved->status, 404);
}

TEST(ResponsesStore, ConversationSurvivesARestart) {
  TempDir dir;
  FakeUpstream upstream(Answering("Remembered."));
  std::string id;
  {
    TestGateway gw(StoringConfig(upstream, dir));
    auto first = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Remember this"}});
    ASSERT_TRUE(first);
    ASSERT_EQ(first->status, 200);
    id = json::parse(first->body())["id"];
  }  // The gateway (and its store) is destroyed: queued turns are written.
  TestGateway again(StoringConfig(upstream, dir));
  auto second = PostJson(again.port(),
                         {{"model", "sonnet"}, {"previous_response_id", id}, {"input", "And?"}});
  ASSERT_TRUE(second);
  ASSERT_EQ(second->status, 200) << second->body();
  EXPECT_EQ(Transcript(upstream.requests().back().JsonBody()),
            "user:Remember this|assistant:Remembered.|user:And?|");
}

TEST(ResponsesStore, AStoreThatCannotOpenCostsNoAnswer) {
  TempDir dir;
  const std::string not_a_directory = dir.path() + "/file";
  std::ofstream(not_a_directory) << "x";
  FakeUpstream upstream(Answering("Still here."));
  auto config = ConfigFor(upstream);
  config.store.enabled = true;
  config.store.data_dir = not_a_directory;
  TestGateway gw(config);
  auto created = PostJson(gw.port(), {{"model", "sonnet"}, {"input", "Hi"}});
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 200) << created->body();
  auto continued = PostJson(
      gw.port(), {{"model", "sonnet"}, {"previous_response_id", "resp_x"}, {"input", "Hi"}});
  ASSERT_TRUE(continued);
  EXPECT_EQ(continued->status, 503);
  EXPECT_EQ(json::parse(continued->body())["error"]["code"], "store_unavailable");
}

TEST(ResponsesStore, InputTokensAsksCountTokens) {
  TempDir dir;
  FakeUpstream upstream(Answering("unused"));
  TestGateway gw(StoringConfig(upstream, dir));
  auto counted = PostJson(gw.port(),
                          {{"model", "sonnet"},
                           {"instructions", "Be brief."},
                           {"max_output_tokens", 100},
                           {"input", "How many tokens?"}},
                          "/v1/responses/input_tokens");
  ASSERT_TRUE(counted);
  ASSERT_EQ(counted->status, 200) << counted->body();
  EXPECT_EQ(json::parse(counted->body()),
            (json{{"object", "response.input_tokens"}, {"input_tokens", 42}}));
  const auto request = upstream.requests().back();
  EXPECT_EQ(request.target, "/v1/messages/count_tokens");
  const json sent = request.JsonBody();
  EXPECT_FALSE(sent.contains("max_tokens")) << "count_tokens refuses generation parameters";
  EXPECT_FALSE(sent.contains("stream"));
  EXPECT_TRUE(sent.contains("system"));
  EXPECT_EQ(sent["model"], "claude-sonnet-5-5");
}

}  // namespace
}  // namespace claudegate::testing
