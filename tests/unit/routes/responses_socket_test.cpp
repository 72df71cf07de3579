// The pure parts of the Responses WebSocket (responses_socket.hpp, socket_turn_sink.hpp): an HTTP
// answer turned into messages (events one per message, errors as `error` messages), and the
// socket's memory of its last response. No sockets: a recording MessageChannel.
#include "claudegate/routes/responses_socket.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "claudegate/routes/socket_turn_sink.hpp"

#include "support/run_sync.hpp"

namespace claudegate::routes {
namespace {

using nlohmann::json;

class RecordingChannel final : public server::MessageChannel {
 public:
  Awaitable<error_code> Read(std::string& out) override {
    (void)out;
    co_return net::error::eof;
  }
  Awaitable<error_code> Write(std::string_view text) override {
    if (fail_writes) {
      co_return net::error::broken_pipe;
    }
    written.emplace_back(text);
    co_return error_code{};
  }
  Awaitable<error_code> Close(std::uint16_t code, std::string_view reason) override {
    (void)code;
    (void)reason;
    co_return error_code{};
  }
  std::vector<std::string> written;
  bool fail_writes = false;
};

// Feeds `chunks` as a streamed answer; returns the messages written.
std::vector<std::string> Stream(const std::vector<std::string>& chunks) {
  RecordingChannel channel;
  SocketTurnSink sink(channel);
  testing::RunSync([&]() -> Awaitable<int> {
    EXPECT_FALSE(co_await sink.WriteHead(200, "text/event-stream", {}));
    for (const auto& chunk : chunks) {
      EXPECT_FALSE(co_await sink.WriteChunk(chunk));
    }
    EXPECT_FALSE(co_await sink.Finish());
    co_return 0;
  }());
  EXPECT_TRUE(sink.finished());
  EXPECT_EQ(sink.status(), 200U);
  return channel.written;
}

TEST(SocketTurnSink, EachEventIsOneMessageWhereverTheChunksSplit) {
  const std::string a = R"({"type":"response.created","sequence_number":0})";
  const std::string b = R"({"type":"response.completed","sequence_number":1})";
  const std::string stream = "event: response.created\ndata: " + a +
                             "\n\n: keep-alive\n\nevent: response.completed\ndata: " + b + "\n\n";
  const std::vector<std::string> expected = {a, b};
  EXPECT_EQ(Stream({stream}), expected);
  // Split inside the first event, inside the comment and between the two.
  for (std::size_t cut = 1; cut < stream.size(); cut += 7) {
    EXPECT_EQ(Stream({stream.substr(0, cut), stream.substr(cut)}), expected) << "cut at " << cut;
  }
}

TEST(SocketTurnSink, ErrorAnswersBecomeErrorMessages) {
  struct Case {
    const char* name;
    unsigned status;
    std::string body;
    server::HeaderList headers;
    json expected;
  };
  const std::vector<Case> cases = {
      {"openai error with headers",
       429,
       R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limited"}})",
       {{"retry-after", "7"}},
       {{"type", "error"},
        {"status", 429},
        {"error",
         {{"message", "slow down"},
          {"type", "rate_limit_error"},
          {"param", nullptr},
          {"code", "rate_limited"}}},
        {"headers", {{"retry-after", "7"}}}}},
      {"not json",
       502,
       "bad gateway",
       {},
       {{"type", "error"},
        {"status", 502},
        {"error",
         {{"type", "server_error"},
          {"code", nullptr},
          {"message", "bad gateway"},
          {"param", nullptr}}}}},
  };
  for (const auto& c : cases) {
    RecordingChannel channel;
    SocketTurnSink sink(channel);
    testing::RunSync([&]() -> Awaitable<int> {
      EXPECT_FALSE(co_await sink.Send(c.status, "application/json", c.body, c.headers));
      co_return 0;
    }());
    ASSERT_EQ(channel.written.size(), 1U) << c.name;
    EXPECT_EQ(json::parse(channel.written[0]), c.expected) << c.name;
    EXPECT_EQ(sink.status(), c.status) << c.name;
  }
}

TEST(SocketTurnSink, AFailedWriteEndsTheAnswer) {
  RecordingChannel channel;
  channel.fail_writes = true;
  SocketTurnSink sink(channel);
  testing::RunSync([&]() -> Awaitable<int> {
    EXPECT_FALSE(co_await sink.WriteHead(200, "text/event-stream", {}));
    EXPECT_TRUE(co_await sink.WriteChunk("data: {}\n\n"));
    EXPECT_TRUE(co_await sink.WriteChunk("data: {}\n\n"));
    EXPECT_TRUE(co_await sink.Finish());
    co_return 0;
  }());
  EXPECT_FALSE(sink.finished());
}

TEST(SocketConversation, RemembersOnlyTheLastResponse) {
  SocketConversation memory;
  EXPECT_FALSE(memory.Find("resp_1"));
  memory.Remember("resp_1", {json{{"id", "a"}}}, json::array({json{{"id", "b"}}}),
                  json::array({json{{"id", "c"}}}));
  const auto first = memory.Find("resp_1");
  ASSERT_TRUE(first);
  EXPECT_EQ(json(*first), json::parse(R"([{"id":"a"},{"id":"b"},{"id":"c"}])"));
  memory.Remember("resp_2", *first, json::array({json{{"id", "d"}}}), json::array());
  EXPECT_FALSE(memory.Find("resp_1"));
  EXPECT_EQ(memory.Find("resp_2")->size(), 4U);
  EXPECT_FALSE(memory.Find(""));
}

}  // namespace
}  // namespace claudegate::routes
