#include "claudegate/sse/decoder.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace claudegate::sse {
namespace {

struct Seen {
  std::string event;
  std::string data;
  std::string id;
  bool operator==(const Seen&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Seen& s) {
  return os << "{event=" << s.event << " data=" << s.data << " id=" << s.id << "}";
}

std::vector<Seen> DecodeChunks(const std::vector<std::string>& chunks) {
  Decoder decoder;
  std::vector<Seen> seen;
  for (const auto& chunk : chunks) {
    auto r = decoder.Feed(chunk, [&](const Event& e) { seen.push_back({e.event, e.data, e.id}); });
    EXPECT_TRUE(r.has_value());
  }
  return seen;
}

std::vector<Seen> Decode(const std::string& wire) { return DecodeChunks({wire}); }

struct Case {
  const char* name;
  std::string wire;
  std::vector<Seen> expected;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> kCases = {
      {"LfLineEnds", "event: a\ndata: 1\n\n", {{"a", "1", ""}}},
      {"CrLfLineEnds", "event: a\r\ndata: 1\r\n\r\n", {{"a", "1", ""}}},
      {"CrLineEnds", "event: a\rdata: 1\r\r", {{"a", "1", ""}}},
      {"MixedLineEnds", "data: 1\r\n\ndata: 2\r\r\n", {{"", "1", ""}, {"", "2", ""}}},
      {"CommentsIgnored", ": keep-alive\n:\ndata: x\n\n", {{"", "x", ""}}},
      {"MultiLineDataJoinedWithLf", "data: a\ndata: b\ndata:\n\n", {{"", "a\nb\n", ""}}},
      {"OnlyOneLeadingSpaceStripped", "data:  two\ndata:none\n\n", {{"", " two\nnone", ""}}},
      {"FieldWithoutColonIsEmptyValue", "data\n\n", {{"", "", ""}}},
      {"EventWithoutDataNotDispatched", "event: ping\n\ndata: y\n\n", {{"", "y", ""}}},
      {"EventTypeResetsAfterDispatch",
       "event: a\ndata: 1\n\ndata: 2\n\n",
       {{"a", "1", ""}, {"", "2", ""}}},
      {"IdPersistsAcrossEvents", "id: 7\ndata: 1\n\ndata: 2\n\n", {{"", "1", "7"}, {"", "2", "7"}}},
      {"IdWithNulIgnored", std::string("id: a\0b\ndata: 1\n\n", 17), {{"", "1", ""}}},
      {"BomAtStartStripped",
       "\xEF\xBB\xBF"
       "data: 1\n\n",
       {{"", "1", ""}}},
      {"UnknownFieldsAndRetryIgnored", "retry: 10\nfoo: bar\ndata: 1\n\n", {{"", "1", ""}}},
      {"ColonInValueKept", "data: a:b: c\n\n", {{"", "a:b: c", ""}}},
      {"UnterminatedEventNotDispatched", "data: 1\n\ndata: 2\n", {{"", "1", ""}}},
      {"MultiByteUtf8Untouched",
       "data: h\xC3\xA9 \xF0\x9F\x8E\x89\n\n",
       {{"", "h\xC3\xA9 \xF0\x9F\x8E\x89", ""}}},
  };
  return kCases;
}

TEST(Decoder, ParsesTableCases) {
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(Decode(c.wire), c.expected);
  }
}

TEST(Decoder, GivesSameEventsForEverySplitPoint) {
  for (const auto& c : Cases()) {
    SCOPED_TRACE(c.name);
    for (std::size_t i = 0; i <= c.wire.size(); ++i) {
      for (std::size_t j = i; j <= c.wire.size(); ++j) {
        EXPECT_EQ(DecodeChunks({c.wire.substr(0, i), c.wire.substr(i, j - i), c.wire.substr(j)}),
                  c.expected)
            << "split at " << i << "," << j;
      }
    }
  }
}

TEST(Decoder, CrAtChunkEndFollowedByLfIsOneLineEnd) {
  EXPECT_EQ(DecodeChunks({"data: 1\r", "\n\r", "\n"}), (std::vector<Seen>{{"", "1", ""}}));
}

TEST(Decoder, ReportsPartialEventAndBufferedBytes) {
  Decoder decoder;
  ASSERT_TRUE(decoder.Feed("data: abc", [](const Event&) {}).has_value());
  EXPECT_TRUE(decoder.has_partial_event());
  EXPECT_EQ(decoder.buffered_bytes(), 9U);
  ASSERT_TRUE(decoder.Feed("\n\n", [](const Event&) {}).has_value());
  EXPECT_FALSE(decoder.has_partial_event());
  EXPECT_EQ(decoder.buffered_bytes(), 0U);
}

TEST(Decoder, FailsWhenAnEventExceedsTheCap) {
  Decoder decoder(16);
  int events = 0;
  ASSERT_TRUE(decoder.Feed("data: 0123456789\n\n", [&](const Event&) { ++events; }).has_value());
  EXPECT_EQ(events, 1);
  auto r = decoder.Feed("data: 0123456789\ndata: 0123456789\n\n", [&](const Event&) { ++events; });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ErrorKind::kUpstreamUnreachable);
  EXPECT_TRUE(decoder.failed());
  EXPECT_FALSE(decoder.Feed("data: 1\n\n", [&](const Event&) { ++events; }).has_value());
  EXPECT_EQ(events, 1);
}

TEST(Decoder, FailsOnAnEndlessLineWithoutBufferingForever) {
  Decoder decoder(64);
  const std::string chunk(32, 'x');
  Result<void> r;
  for (int i = 0; i < 4 && r.has_value(); ++i) {
    r = decoder.Feed(chunk, [](const Event&) {});
  }
  EXPECT_FALSE(r.has_value());
  EXPECT_LE(decoder.buffered_bytes(), 96U);
}

}  // namespace
}  // namespace claudegate::sse
