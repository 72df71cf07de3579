// CLAUDEGATE_LOG_JSON=true through the real binary: a scripted session at debug level (start-up
// warnings, wrong keys up to a block, a translated chat with hostile characters in a logged field,
// odd request targets, SIGTERM), then every line of stderr must be one JSON object (issue 14,
// finding 7: `"msg":` used to be pasted unquoted, so only access lines parsed).
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <unistd.h>

#include "support/claudegate_process.hpp"
#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"

namespace claudegate::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string kKey = "sk-json-log-test-0123456789abcdef0123456789";
// Quote, backslash, newline, a control character, DEL and bytes that are not UTF-8.
const std::string kHostile = "q\"b\\s\nn\001c\177d\377\376end";

TEST(JsonLog, EveryLineOfAScriptedSessionIsOneJsonObject) {
  FakeUpstream upstream(
      [](const RecordedRequest&) {
        ScriptedResponse response;
        response.headers.emplace_back("content-type", "text/event-stream");
        response.chunks = TextStreamTranscript("claude-sonnet-5-5", {"hi \"there\"\n"}, 3, 1);
        return response;
      },
      FakeUpstream::Options{.tls = false});
  // The config file's path appears in start-up warnings: make it hostile too.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("claudegate-json-log-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto config_path = dir / ("config " + kHostile + ".yaml");
  {
    std::ofstream yaml(config_path);
    yaml << "litellm_settings:\n  drop_params: true\n"
            "claudegate:\n  auth_throttle:\n    max_failures: 2\n"
            "not_a_setting: 1\n";
  }

  ClaudegateProcess daemon(
      {.args = {"--host", "127.0.0.1", "--port", "0", "--config", config_path.string()},
       .env = {{"LITELLM_MASTER_KEY", kKey},
               {"HOME", "/tmp/claudegate-no-home"},
               {"CLAUDEGATE_LOG_JSON", "true"},
               {"LOG_LEVEL", "debug"},
               {"ANTHROPIC_BASE_URL", upstream.base_url()},
               {"CLAUDE_CODE_OAUTH_TOKEN", "sk-ant-oat01-json-log-test-token"}}});
  ASSERT_TRUE(daemon.started());
  // The whole "listening" line, so that the log splits into complete lines below.
  constexpr std::string_view kListening = "listening on http://127.0.0.1:";
  daemon.ReadUntil(
      [&](const std::string& text) {
        const auto at = text.find(kListening);
        return at != std::string::npos && text.find('\n', at) != std::string::npos;
      },
      20s);
  const std::uint16_t port = ListeningPort(daemon.output());
  if (port != 0) {
    // Wrong keys up to a block (a warning naming the address), from 127.0.0.1.
    for (int i = 0; i < 3; ++i) {
      TestClient guesser(port, 10s, "127.0.0.1");
      guesser.Request(http::verb::get, "/v1/models", {},
                      {{"authorization", "Bearer sk-wrong-" + std::to_string(i)}});
    }
    // A chat whose dropped content part type is logged at debug level.
    const json chat = {{"model", "sonnet"},
                       {"messages",
                        {{{"role", "user"},
                          {"content",
                           {{{"type", "text"}, {"text", "hello"}},
                            {{"type", "q\"b\\s\nn\001c\177d"}, {"x", 1}}}}}}}};
    TestClient owner(port, 10s, "127.0.0.2");
    auto answer = owner.Request(http::verb::post, "/v1/chat/completions", chat.dump(),
                                {{"authorization", "Bearer " + kKey}});
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 200) << answer->body();
    // A target with bytes that are not UTF-8 (Beast lets obs-text through), and a bad request.
    TestClient odd(port, 10s, "127.0.0.2");
    odd.SendRaw("GET /v1/\xff\xfe%22\"x HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kKey +
                "\r\n\r\n");
    (void)odd.ReadResponse();
    TestClient broken(port, 10s, "127.0.0.2");
    broken.SendRaw("GET / HTTP/1.1\r\nBad Header\xff: x\r\n\r\n");
    (void)broken.ReadResponse();
  }
  daemon.Signal(SIGTERM);
  daemon.ReadUntil([](const std::string&) { return false; }, 20s);  // to EOF
  const int exit_code = daemon.Wait();
  const std::string log = daemon.output();
  std::filesystem::remove_all(dir);
  ASSERT_NE(port, 0) << log;
  EXPECT_EQ(exit_code, 0);

  std::vector<json> lines;
  std::size_t begin = 0;
  while (begin < log.size()) {
    const auto end = log.find('\n', begin);
    ASSERT_NE(end, std::string::npos) << "unterminated last line: " << log.substr(begin);
    const std::string line = log.substr(begin, end - begin);
    begin = end + 1;
    try {
      // Strict: throws on invalid UTF-8, control characters and anything after the object.
      lines.push_back(json::parse(line));
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON (" << e.what() << "): " << line;
      continue;
    }
    const json& parsed = lines.back();
    EXPECT_TRUE(parsed.is_object() && parsed.contains("time") && parsed.contains("level") &&
                parsed.contains("msg"))
        << line;
  }

  auto any = [&](const std::function<bool(const json&)>& predicate) {
    return std::any_of(lines.begin(), lines.end(), predicate);
  };
  auto message_has = [](const json& line, std::string_view text) {
    return line["msg"].is_string() &&
           line["msg"].get<std::string>().find(text) != std::string::npos;
  };
  // The message survives escaping intact: the characters a shipper would see.
  EXPECT_TRUE(any([&](const json& line) {
    return line["level"] == "debug" &&
           message_has(line, "dropped unsupported content part 'q\"b\\s\nn\001c\177d'");
  })) << log;
  EXPECT_TRUE(any([&](const json& line) {
    return line["level"] == "warning" && message_has(line, "wrong keys from 127.0.0.1");
  })) << log;
  EXPECT_TRUE(any([&](const json& line) {
    return line["level"] == "warning" && message_has(line, "not_a_setting");
  })) << log;
  // Access lines stay objects.
  EXPECT_TRUE(any([](const json& line) {
    return line["msg"].is_object() && line["msg"]["type"] == "access" &&
           line["msg"]["status"] == 200;
  })) << log;
}

}  // namespace
}  // namespace claudegate::testing
