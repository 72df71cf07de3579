#include "claudegate/sse/encoder.hpp"

#include <gtest/gtest.h>

#include "claudegate/sse/decoder.hpp"

namespace claudegate::sse {
namespace {

TEST(Encoder, AppendsDataFrame) {
  std::string out = "x";
  AppendData(out, R"({"a":1})");
  EXPECT_EQ(out, "xdata: {\"a\":1}\n\n");
}

TEST(Encoder, SplitsMultiLineDataIntoSeveralDataLines) {
  std::string out;
  AppendData(out, "a\nb\r\nc");
  EXPECT_EQ(out, "data: a\ndata: b\ndata: c\n\n");
}

TEST(Encoder, AppendsNamedEvent) {
  std::string out;
  AppendEvent(out, "message_stop", R"({"type":"message_stop"})");
  EXPECT_EQ(out, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
}

TEST(Encoder, AppendsCommentAndConstants) {
  std::string out;
  AppendComment(out, "ping");
  EXPECT_EQ(out, ": ping\n\n");
  EXPECT_EQ(kKeepAlive, ": keep-alive\n\n");
  EXPECT_EQ(kDone, "data: [DONE]\n\n");
}

TEST(Encoder, RoundTripsThroughDecoder) {
  std::string out;
  AppendEvent(out, "e", "line1\nline2");
  out.append(kKeepAlive);
  Decoder decoder;
  std::vector<Event> events;
  ASSERT_TRUE(decoder.Feed(out, [&](const Event& e) { events.push_back(e); }).has_value());
  ASSERT_EQ(events.size(), 1U);
  EXPECT_EQ(events[0].event, "e");
  EXPECT_EQ(events[0].data, "line1\nline2");
}

}  // namespace
}  // namespace claudegate::sse
