#include "claudegate/anthropic/block_delta_scan.hpp"

#include <cstdint>

#include "claudegate/json/unicode.hpp"

namespace claudegate::anthropic {
namespace {

constexpr std::size_t kMaxIndexDigits = 9;  // Callers bound indexes far lower; no overflow here.

bool InRange(std::string_view s, std::size_t i, unsigned lo, unsigned hi) {
  if (i >= s.size()) {
    return false;
  }
  const auto c = static_cast<unsigned char>(s[i]);
  return c >= lo && c <= hi;
}

// The length of the well-formed UTF-8 sequence at s[i] (a byte >= 0x80), or 0. The same ranges
// as RFC 3629 and nlohmann's lexer: no overlongs, no encoded surrogates, nothing above U+10FFFF.
std::size_t Utf8Length(std::string_view s, std::size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c >= 0xC2 && c <= 0xDF) {
    return InRange(s, i + 1, 0x80, 0xBF) ? 2 : 0;
  }
  if (c >= 0xE0 && c <= 0xEF) {
    const unsigned lo = c == 0xE0 ? 0xA0 : 0x80;
    const unsigned hi = c == 0xED ? 0x9F : 0xBF;
    return InRange(s, i + 1, lo, hi) && InRange(s, i + 2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    const unsigned lo = c == 0xF0 ? 0x90 : 0x80;
    const unsigned hi = c == 0xF4 ? 0x8F : 0xBF;
    return InRange(s, i + 1, lo, hi) && InRange(s, i + 2, 0x80, 0xBF) &&
                   InRange(s, i + 3, 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

// A cursor over the event data. Every method returns false on anything it does not expect.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}

  void SkipWhitespace() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\r' || s_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool Consume(char c) {
    SkipWhitespace();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  [[nodiscard]] bool AtEnd() {
    SkipWhitespace();
    return pos_ == s_.size();
  }

  // A JSON string; `value` is its decoded text. Without `scratch`, escapes are refused (keys and
  // type names are compared as written; an escaped one goes to the full parser).
  bool String(std::string_view& value, std::string* scratch) {
    if (!Consume('"')) {
      return false;
    }
    const std::size_t start = pos_;
    bool copying = false;  // true once an escape was seen: the text is built in `scratch`
    while (pos_ < s_.size()) {
      // The longest run of bytes that stand for themselves.
      std::size_t run = pos_;
      while (run < s_.size()) {
        const auto c = static_cast<unsigned char>(s_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) {
          break;
        }
        ++run;
      }
      if (copying) {
        scratch->append(s_.data() + pos_, run - pos_);
      }
      pos_ = run;
      if (pos_ == s_.size()) {
        return false;
      }
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        value = copying ? std::string_view(*scratch) : s_.substr(start, pos_ - start);
        ++pos_;
        return true;
      }
      if (c < 0x20) {
        return false;  // Raw control characters are invalid JSON.
      }
      if (c >= 0x80) {
        const std::size_t len = Utf8Length(s_, pos_);
        if (len == 0) {
          return false;
        }
        if (copying) {
          scratch->append(s_.data() + pos_, len);
        }
        pos_ += len;
        continue;
      }
      if (scratch == nullptr) {
        return false;
      }
      if (!copying) {
        scratch->assign(s_.data() + start, pos_ - start);
        copying = true;
      }
      if (!Escape(*scratch)) {
        return false;
      }
    }
    return false;
  }

  // A non-negative integer without sign, fraction or exponent (what nlohmann stores unsigned).
  bool Index(std::size_t& value) {
    SkipWhitespace();
    const std::size_t start = pos_;
    value = 0;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      value = value * 10 + static_cast<std::size_t>(s_[pos_] - '0');
      ++pos_;
    }
    const std::size_t digits = pos_ - start;
    // A leading zero makes "01" invalid JSON; a '.', 'e' or '-' after the digits fails at the
    // caller's check for ',' or '}'.
    return digits > 0 && digits <= kMaxIndexDigits && (digits == 1 || s_[start] != '0');
  }

 private:
  bool Hex4(std::uint32_t& unit) {
    if (pos_ + 4 > s_.size()) {
      return false;
    }
    unit = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const int h = json::HexDigitValue(s_[pos_ + k]);
      if (h < 0) {
        return false;
      }
      unit = unit * 16 + static_cast<std::uint32_t>(h);
    }
    pos_ += 4;
    return true;
  }

  // Decodes the escape at s_[pos_] (a backslash) into `out`. Lone surrogates are refused: the
  // full path owns their repair across events.
  bool Escape(std::string& out) {
    if (pos_ + 1 >= s_.size()) {
      return false;
    }
    const char e = s_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
        out.push_back('"');
        return true;
      case '\\':
        out.push_back('\\');
        return true;
      case '/':
        out.push_back('/');
        return true;
      case 'b':
        out.push_back('\b');
        return true;
      case 'f':
        out.push_back('\f');
        return true;
      case 'n':
        out.push_back('\n');
        return true;
      case 'r':
        out.push_back('\r');
        return true;
      case 't':
        out.push_back('\t');
        return true;
      case 'u':
        break;
      default:
        return false;
    }
    std::uint32_t unit = 0;
    if (!Hex4(unit)) {
      return false;
    }
    if (unit >= 0xDC00 && unit <= 0xDFFF) {
      return false;
    }
    if (unit >= 0xD800 && unit <= 0xDBFF) {
      std::uint32_t low = 0;
      if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') {
        return false;
      }
      pos_ += 2;
      if (!Hex4(low) || low < 0xDC00 || low > 0xDFFF) {
        return false;
      }
      unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
    }
    json::AppendUtf8(out, unit);
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

bool KindOfType(std::string_view type, DeltaKind& kind) {
  if (type == "text_delta") {
    kind = DeltaKind::kText;
  } else if (type == "thinking_delta") {
    kind = DeltaKind::kThinking;
  } else if (type == "input_json_delta") {
    kind = DeltaKind::kInputJson;
  } else if (type == "signature_delta") {
    kind = DeltaKind::kSignature;
  } else {
    return false;
  }
  return true;
}

bool KindOfField(std::string_view field, DeltaKind& kind) {
  if (field == "text") {
    kind = DeltaKind::kText;
  } else if (field == "thinking") {
    kind = DeltaKind::kThinking;
  } else if (field == "partial_json") {
    kind = DeltaKind::kInputJson;
  } else if (field == "signature") {
    kind = DeltaKind::kSignature;
  } else {
    return false;
  }
  return true;
}

// The `delta` object: exactly `type` and the one string field that type names.
bool ScanDelta(Scanner& scanner, std::string& scratch, BlockDelta& out) {
  if (!scanner.Consume('{')) {
    return false;
  }
  bool have_type = false;
  bool have_value = false;
  DeltaKind type_kind = DeltaKind::kText;
  DeltaKind field_kind = DeltaKind::kText;
  do {
    std::string_view key;
    if (!scanner.String(key, nullptr) || !scanner.Consume(':')) {
      return false;
    }
    if (key == "type") {
      std::string_view type;
      if (have_type || !scanner.String(type, nullptr) || !KindOfType(type, type_kind)) {
        return false;
      }
      have_type = true;
    } else {
      if (have_value || !KindOfField(key, field_kind) || !scanner.String(out.value, &scratch)) {
        return false;
      }
      have_value = true;
    }
  } while (scanner.Consume(','));
  if (!scanner.Consume('}') || !have_type || !have_value || type_kind != field_kind) {
    return false;
  }
  out.kind = type_kind;
  return true;
}

}  // namespace

bool ScanBlockDelta(std::string_view data, std::string& scratch, BlockDelta& out) {
  Scanner scanner(data);
  if (!scanner.Consume('{')) {
    return false;
  }
  bool have_type = false;
  bool have_index = false;
  bool have_delta = false;
  do {
    std::string_view key;
    if (!scanner.String(key, nullptr) || !scanner.Consume(':')) {
      return false;
    }
    if (key == "type") {
      std::string_view type;
      if (have_type || !scanner.String(type, nullptr) || type != "content_block_delta") {
        return false;
      }
      have_type = true;
    } else if (key == "index") {
      if (have_index || !scanner.Index(out.index)) {
        return false;
      }
      have_index = true;
    } else if (key == "delta") {
      if (have_delta || !ScanDelta(scanner, scratch, out)) {
        return false;
      }
      have_delta = true;
    } else {
      return false;
    }
  } while (scanner.Consume(','));
  return scanner.Consume('}') && scanner.AtEnd() && have_type && have_index && have_delta;
}

}  // namespace claudegate::anthropic
