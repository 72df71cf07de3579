#include "claudegate/translate/stream/json_string_extractor.hpp"

#include "claudegate/json/unicode.hpp"

namespace claudegate::translate {
namespace {

constexpr std::uint32_t kReplacement = 0xFFFD;

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

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
    json::AppendUtf8(out, kReplacement);
    pending_high_ = 0;
  }
}

void JsonStringExtractor::EndUnicode(std::string& out) {
  const std::uint32_t code = code_;
  if (code >= 0xDC00 && code <= 0xDFFF) {  // Low half: completes a pair, or stands alone.
    if (pending_high_ != 0) {
      json::AppendUtf8(out, 0x10000 + ((pending_high_ - 0xD800) << 10) + (code - 0xDC00));
      pending_high_ = 0;
    } else {
      json::AppendUtf8(out, kReplacement);
    }
  } else if (code >= 0xD800 && code <= 0xDBFF) {
    FlushHigh(out);
    pending_high_ = code;
  } else {
    FlushHigh(out);
    json::AppendUtf8(out, code);
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
      const int digit = json::HexDigitValue(c);
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
