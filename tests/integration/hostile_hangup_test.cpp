// A client that hangs up while the upstream has not answered yet must never leave the upstream
// request running (Anthropic would keep generating, billed, for nobody, until the first-byte
// timeout). The race is in the event order, so each case is repeated many times, on every route,
// streamed and not, with the client closing at once after its request and after the upstream has
// it.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "support/fake_upstream.hpp"
#include "support/hostile.hpp"
#include "support/test_gateway.hpp"
#include "support/upstream_config.hpp"

namespace claudegate::testing {
namespace {

using std::chrono::seconds;

constexpr int kRepeats = 30;

struct Route {
  std::string path;
  std::string body;
};

std::vector<Route> Routes(bool stream) {
  const std::string flag = stream ? "true" : "false";
  return {
      {"/v1/chat/completions",
       R"({"model":"sonnet","stream":)" + flag + R"(,"messages":[{"role":"user","content":"x"}]})"},
      {"/v1/responses", R"({"model":"sonnet","stream":)" + flag + R"(,"input":"x"})"},
      {"/v1/messages", R"({"model":"sonnet","max_tokens":5,"stream":)" + flag +
                           R"(,"messages":[{"role":"user","content":"x"}]})"},
  };
}

std::string RawRequest(const Route& route) {
  return "POST " + route.path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + kTestMasterKey +
         "\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(route.body.size()) + "\r\n\r\n" + route.body;
}

// Sends the whole request on a raw socket, then closes it: at once, or once the upstream has the
// request.
void RequestAndHangUp(std::uint16_t port, const Route& route, FakeUpstream& upstream,
                      bool wait_for_upstream) {
  const int fd = ConnectRaw(port);
  ASSERT_GE(fd, 0);
  const std::size_t before = upstream.requests().size();
  const std::string request = RawRequest(route);
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  if (wait_for_upstream) {
    ASSERT_TRUE(upstream.WaitForRequests(before + 1, seconds(10)));
  }
  ::close(fd);
}

class HangUp : public ::testing::TestWithParam<bool> {};

// Every request the upstream received must have been closed by the gateway within 2 s of the hang
// up (the first-byte timeout is 10 minutes).
TEST_P(HangUp, WhileTheUpstreamHasNotAnsweredAlwaysClosesTheUpstreamRequest) {
  const bool wait_for_upstream = GetParam();
  FakeUpstream upstream([](const RecordedRequest&) {
    ScriptedResponse hang;
    hang.fault = ScriptedResponse::Fault::kNeverRespond;
    return hang;
  });
  TestGateway gw(ConfigFor(upstream));
  auto& metrics = gw.metrics();
  for (const bool stream : {false, true}) {
    for (const Route& route : Routes(stream)) {
      for (int i = 0; i < kRepeats; ++i) {
        RequestAndHangUp(gw.port(), route, upstream, wait_for_upstream);
        // The session ends (a missed hang-up keeps it waiting for the upstream's first byte) ...
        ASSERT_TRUE(PollUntil(
            [&] {
              return gw.gateway().server().active_connections() == 0 &&
                     metrics.in_flight.Value({}) == 0;
            },
            seconds(5)))
            << route.path << " stream=" << stream << " run " << i
            << ": the hang-up was missed; the request still waits for the upstream";
        // ... and every upstream request it started was closed.
        const std::size_t received = upstream.requests().size();
        ASSERT_TRUE(upstream.WaitForClientDisconnects(received, seconds(2)))
            << route.path << " stream=" << stream << " run " << i << ": "
            << upstream.client_disconnects() << " of " << received << " upstream requests closed";
      }
    }
  }
  // A connection the gateway had not accepted yet when a check above ran is caught here.
  EXPECT_TRUE(
      PollUntil([&] { return gw.gateway().server().active_connections() == 0; }, seconds(5)));
  EXPECT_TRUE(upstream.WaitForClientDisconnects(upstream.requests().size(), seconds(2)));
  if (wait_for_upstream) {
    EXPECT_EQ(upstream.requests().size(), 2U * 3U * kRepeats);
  }
}

INSTANTIATE_TEST_SUITE_P(HostileHangUp, HangUp, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                           return param.param ? "AfterTheUpstreamHasIt" : "RightAfterSending";
                         });

}  // namespace
}  // namespace claudegate::testing
