#include "claudegate/anthropic/surrogate_repair.hpp"

#include "claudegate/json/unicode.hpp"

namespace claudegate::anthropic {
namespace {

// The code unit of a `\uXXXX` escape starting at raw[i] (the backslash), or -1.
int EscapeUnit(std::string_view raw, std::size_t i) {
  if (i + 6 > raw.size() || raw[i] != '\\' || raw[i + 1] != 'u') {
    return -1;
  }
  int unit = 0;
  for (std::size_t k = 2; k < 6; ++k) {
    const int h = json::HexDigitValue(raw[i + k]);
    if (h < 0) {
      return -1;
    }
    unit = unit * 16 + h;
  }
  return unit;
}

}  // namespace

std::string RepairSurrogates(std::string_view raw, std::string& pending_high) {
  std::string fixed;
  fixed.reserve(raw.size() + 6);
  std::size_t i = 0;
  while (i < raw.size()) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      fixed.push_back(raw[i++]);
      continue;
    }
    const int unit = EscapeUnit(raw, i);
    if (unit < 0xD800 || unit > 0xDFFF) {
      fixed.append(raw.substr(i, 2));  // Any other escape, copied as is.
      i += 2;
      continue;
    }
    if (unit <= 0xDBFF) {
      const int next = EscapeUnit(raw, i + 6);
      if (next >= 0xDC00 && next <= 0xDFFF) {
        fixed.append(raw.substr(i, 12));
        i += 12;
      } else if (i + 6 < raw.size() && raw[i + 6] == '"') {
        pending_high.assign(raw.substr(i, 6));
        i += 6;
      } else {
        fixed.append("\\ufffd");
        i += 6;
      }
      continue;
    }
    if (!pending_high.empty()) {
      fixed.append(pending_high);
      fixed.append(raw.substr(i, 6));
      pending_high.clear();
    } else {
      fixed.append("\\ufffd");
    }
    i += 6;
  }
  return fixed;
}

}  // namespace claudegate::anthropic
