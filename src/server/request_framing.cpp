#include "claudegate/server/request_framing.hpp"

namespace claudegate::server {
namespace {

constexpr std::string_view kOws = " \t";

std::string_view Trim(std::string_view text) {
  const auto first = text.find_first_not_of(kOws);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(kOws);
  return text.substr(first, last - first + 1);
}

// True when the Transfer-Encoding field lines, taken together as one list, name exactly
// `chunked` (empty list elements are allowed by RFC 9110 §5.6.1 and ignored).
bool OnlyChunked(const http::request_header<>& header) {
  int codings = 0;
  bool chunked = false;
  const auto [first, last] = header.equal_range(http::field::transfer_encoding);
  for (auto field = first; field != last; ++field) {
    std::string_view list = field->value();
    while (!list.empty()) {
      const auto comma = list.find(',');
      const std::string_view coding = Trim(list.substr(0, comma));
      list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      if (coding.empty()) {
        continue;
      }
      ++codings;
      chunked = beast::iequals(coding, "chunked");
    }
  }
  return codings == 1 && chunked;
}

}  // namespace

std::optional<std::string> FramingViolation(const http::request_header<>& header) {
  if (header.count(http::field::host) > 1) {
    return "more than one Host header";
  }
  if (header.count(http::field::transfer_encoding) == 0) {
    return std::nullopt;
  }
  if (header.version() < 11) {
    return "Transfer-Encoding in an HTTP/1.0 request";
  }
  if (header.count(http::field::content_length) > 0) {
    return "both Content-Length and Transfer-Encoding";
  }
  if (!OnlyChunked(header)) {
    return "unsupported Transfer-Encoding (only chunked is accepted)";
  }
  return std::nullopt;
}

bool HasObsFold(std::string_view raw) {
  // Beast consumes the start line as soon as it is complete, so `raw` may begin at the field
  // lines; when it begins with the empty line, there are none and the header is complete.
  if (raw.starts_with("\r\n")) {
    return false;
  }
  const auto end = raw.find("\r\n\r\n");
  const std::string_view block = end == std::string_view::npos ? raw : raw.substr(0, end + 2);
  for (auto eol = block.find('\n'); eol != std::string_view::npos;
       eol = block.find('\n', eol + 1)) {
    if (eol + 1 < block.size() && (block[eol + 1] == ' ' || block[eol + 1] == '\t')) {
      return true;
    }
  }
  return false;
}

}  // namespace claudegate::server
