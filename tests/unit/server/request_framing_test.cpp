#include "claudegate/server/request_framing.hpp"

#include <gtest/gtest.h>

namespace claudegate::server {
namespace {

// Parses a header block the way the session does; the test fails if Beast itself refuses it.
http::request_header<> Parse(std::string_view raw) {
  http::request_parser<http::empty_body> parser;
  error_code ec;
  parser.put(net::buffer(raw.data(), raw.size()), ec);
  EXPECT_FALSE(ec) << ec.message() << " for " << raw;
  EXPECT_TRUE(parser.is_header_done()) << raw;
  return parser.release().base();
}

struct FramingCase {
  std::string_view name;
  std::string_view header;
  bool refused;
};

class RequestFramingTest : public ::testing::TestWithParam<FramingCase> {};

TEST_P(RequestFramingTest, RefusesWhatRfc9112ForbidsAndBeastAccepts) {
  const auto& param = GetParam();
  const auto violation = FramingViolation(Parse(param.header));
  EXPECT_EQ(violation.has_value(), param.refused) << param.name << ": " << violation.value_or("");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestFramingTest,
    ::testing::Values(
        FramingCase{"plain GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", false},
        FramingCase{"content length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n",
                    false},
        FramingCase{"chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
                    false},
        FramingCase{"chunked any case with OWS and empty elements",
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , CHUNKED ,\r\n\r\n", false},
        FramingCase{"HTTP/1.0 without Transfer-Encoding", "GET / HTTP/1.0\r\n\r\n", false},
        FramingCase{"identity", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
                    true},
        FramingCase{"gzip alone", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
                    true},
        FramingCase{"chunked not last",
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n",
                    true},
        FramingCase{"gzip then chunked",
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", true},
        FramingCase{"xchunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
                    true},
        FramingCase{"gzip and chunked on two lines",
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n",
                    true},
        FramingCase{"chunked in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
                    true},
        FramingCase{"two Host fields", "GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", true}),
    [](const ::testing::TestParamInfo<FramingCase>& case_info) {
      std::string name;
      for (const char c : case_info.param.name) {
        name += std::isalnum(static_cast<unsigned char>(c)) != 0 ? c : '_';
      }
      return name;
    });

TEST(HasObsFold, FindsAFieldLineStartingWithSpaceOrTab) {
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"));
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\nX-A: a\r\n\tb\r\n\r\n"));
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\n Host: x\r\n\r\n"));  // whitespace after start line
  EXPECT_TRUE(HasObsFold("GET / HTTP/1.1\r\nX-A: a\r\n b"));      // header not complete yet
}

TEST(HasObsFold, IgnoresWhitespaceInsideLinesAndAfterTheHeaderBlock) {
  EXPECT_FALSE(HasObsFold("GET / HTTP/1.1\r\nX-A: a b\t c\r\n\r\n"));
  EXPECT_FALSE(HasObsFold("GET / HTTP/1.1\r\nX-A: a\r\n"));  // next line not seen yet
  EXPECT_FALSE(HasObsFold("POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n\r\n x"));  // body
  EXPECT_FALSE(HasObsFold(""));
  // The start line was consumed and there were no fields: what follows is the next request.
  EXPECT_FALSE(HasObsFold("\r\nGET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n"));
  // Field lines after a consumed start line.
  EXPECT_TRUE(HasObsFold("Host: x\r\nX-A: a\r\n b\r\n\r\n"));
}

}  // namespace
}  // namespace claudegate::server
