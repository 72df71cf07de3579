#include "claudegate/translate/stream/json_string_extractor.hpp"

namespace claudegate::translate {
namespace {

constexpr std::uint32_t kReplacement = 0xFFFD;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

void AppendUtf8(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void JsonStringExtractor::Feed(std::string_view fragment, std::string& out) {
  for (char c : fragment) {
    if (state_ == State::kFailed) {
      return;
    }
    Step(c, out);
  }
}

void JsonStringExtractor::FlushHigh(std::string& out) {
  if (pending_high_ != 0) {
    AppendUtf8(kReplacement, out);
    pending_high_ = 0;
  }
}

void JsonStringExtractor::EndUnicode(std::string& out) {
  const std::uint32_t code = code_;
  if (code >= 0xDC00 && code <= 0xDFFF) {  // Low half: completes a pair, or stands alone.
    if (pending_high_ != 0) {
      AppendUtf8(0x10000 + ((pending_high_ - 0xD800) << 10) + (code - 0xDC00), out);
      pending_high_ = 0;
    } else {
      AppendUtf8(kReplacement, out);
    }
  } else if (code >= 0xD800 && code <= 0xDBFF) {
    FlushHigh(out);
    pending_high_ = code;
  } else {
    FlushHigh(out);
    AppendUtf8(code, out);
  }
  state_ = State::kValue;
}

void JsonStringExtractor::Step(char c, std::string& out) {
  switch (state_) {
    case State::kBeforeObject:
      state_ = c == '{' ? State::kBeforeKey : IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kBeforeKey:
      state_ = c == '"' ? State::kKey : IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kKey:
      if (c == '"') {
        state_ = key_seen_ == key_ ? State::kAfterKey : State::kFailed;
      } else if (c == '\\' || key_seen_.size() >= key_.size()) {
        state_ = State::kFailed;  // An escaped or different key: not the expected shape.
      } else {
        key_seen_ += c;
      }
      return;
    case State::kAfterKey:
      state_ = c == ':' ? State::kBeforeValue : IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kBeforeValue:
      state_ = c == '"' ? State::kValue : IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kValue:
      if (c == '\\') {
        state_ = State::kEscape;
        return;
      }
      FlushHigh(out);
      if (c == '"') {
        state_ = State::kAfterValue;
      } else {
        out += c;
      }
      return;
    case State::kEscape: {
      if (c == 'u') {
        state_ = State::kUnicode;
        code_ = 0;
        hex_digits_ = 0;
        return;
      }
      FlushHigh(out);
      char decoded = 0;
      switch (c) {
        case '"':
          decoded = '"';
          break;
        case '\\':
          decoded = '\\';
          break;
        case '/':
          decoded = '/';
          break;
        case 'b':
          decoded = '\b';
          break;
        case 'f':
          decoded = '\f';
          break;
        case 'n':
          decoded = '\n';
          break;
        case 'r':
          decoded = '\r';
          break;
        case 't':
          decoded = '\t';
          break;
        default:
          state_ = State::kFailed;
          return;
      }
      out += decoded;
      state_ = State::kValue;
      return;
    }
    case State::kUnicode: {
      const int digit = HexValue(c);
      if (digit < 0) {
        state_ = State::kFailed;
        return;
      }
      code_ = (code_ << 4) | static_cast<std::uint32_t>(digit);
      if (++hex_digits_ == 4) {
        EndUnicode(out);
      }
      return;
    }
    case State::kAfterValue:
      state_ = c == '}' ? State::kDone : IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kDone:
      state_ = IsSpace(c) ? state_ : State::kFailed;
      return;
    case State::kFailed:
      return;
  }
}

}  // namespace claudegate::translate
