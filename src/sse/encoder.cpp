#include "claudegate/sse/encoder.hpp"

namespace claudegate::sse {
namespace {

void AppendDataLines(std::string& out, std::string_view data) {
  for (;;) {
    const std::size_t pos = data.find_first_of("\r\n");
    out.append("data: ");
    if (pos == std::string_view::npos) {
      out.append(data);
      out.push_back('\n');
      return;
    }
    out.append(data.substr(0, pos));
    out.push_back('\n');
    std::size_t skip = pos + 1;
    if (data[pos] == '\r' && skip < data.size() && data[skip] == '\n') {
      ++skip;
    }
    data.remove_prefix(skip);
  }
}

}  // namespace

void AppendData(std::string& out, std::string_view data) {
  AppendDataLines(out, data);
  out.push_back('\n');
}

void AppendEvent(std::string& out, std::string_view event, std::string_view data) {
  out.append("event: ");
  out.append(event);
  out.push_back('\n');
  AppendDataLines(out, data);
  out.push_back('\n');
}

void AppendComment(std::string& out, std::string_view text) {
  out.append(": ");
  out.append(text);
  out.append("\n\n");
}

}  // namespace claudegate::sse
