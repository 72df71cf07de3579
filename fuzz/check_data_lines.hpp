// A check the stream fuzz targets share: every `data:` line a translator wrote for the client is
// valid JSON (the OpenAI SDKs parse each one; `[DONE]` is the chat stream's end marker).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

namespace claudegate::fuzzing {

inline void CheckDataLinesAreJson(std::string_view out) {
  std::size_t pos = 0;
  while (pos < out.size()) {
    std::size_t end = out.find('\n', pos);
    if (end == std::string_view::npos) {
      end = out.size();
    }
    const std::string_view line = out.substr(pos, end - pos);
    if (line.starts_with("data: ") && line != "data: [DONE]" &&
        !nlohmann::json::accept(line.substr(6))) {
      std::fprintf(stderr, "invalid JSON data line: %.*s\n", static_cast<int>(line.size()),
                   line.data());
      std::abort();
    }
    pos = end + 1;
  }
}

}  // namespace claudegate::fuzzing
