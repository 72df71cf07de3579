#include "claudegate/anthropic/body_fields.hpp"

#include <nlohmann/json.hpp>

#include "claudegate/translate/request/json_depth.hpp"

namespace claudegate::anthropic {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Index one past the string starting at `pos` (which holds '"'), or npos when unterminated.
std::size_t SkipString(std::string_view text, std::size_t pos) {
  for (std::size_t i = pos + 1; i < text.size(); ++i) {
    if (text[i] == '\\') {
      ++i;
    } else if (text[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// Index one past the JSON value starting at `pos`. The body was validated first, so this only has
// to find the end: strings are skipped as units, brackets counted.
std::size_t SkipValue(std::string_view text, std::size_t pos) {
  if (text[pos] == '"') {
    return SkipString(text, pos);
  }
  if (text[pos] != '{' && text[pos] != '[') {
    while (pos < text.size() && text[pos] != ',' && text[pos] != '}' && text[pos] != ']' &&
           !IsSpace(text[pos])) {
      ++pos;
    }
    return pos;
  }
  int depth = 0;
  for (std::size_t i = pos; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') {
      i = SkipString(text, i) - 1;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) {
        return i + 1;
      }
    }
  }
  return std::string_view::npos;
}

std::size_t SkipSpace(std::string_view text, std::size_t pos) {
  while (pos < text.size() && IsSpace(text[pos])) {
    ++pos;
  }
  return pos;
}

Error Invalid(std::string message) {
  return Error(ErrorKind::kInvalidRequest, std::move(message), {}, "invalid_json");
}

}  // namespace

Result<BodyFields> ScanBodyFields(std::string_view body) {
  // accept() builds no DOM but still walks every level; the byte count below refuses first.
  if (translate::JsonTextExceedsDepth(body)) {
    return translate::JsonTooDeep("The request body");
  }
  // accept() validates without building a DOM; the scan below then relies on well-formedness.
  if (!nlohmann::json::accept(body)) {
    return Invalid("The request body is not valid JSON.");
  }
  std::size_t pos = SkipSpace(body, 0);
  if (pos >= body.size() || body[pos] != '{') {
    return Invalid("The request body must be a JSON object.");
  }
  BodyFields fields;
  bool seen_model = false;
  pos = SkipSpace(body, pos + 1);
  while (pos < body.size() && body[pos] == '"') {
    const std::size_t key_end = SkipString(body, pos);
    const std::string_view raw_key = body.substr(pos + 1, key_end - pos - 2);
    // Keys are compared as upstream's parser reads them: "mod\u0065l" is "model" too, and must
    // not slip a second, unchecked model past the alias check.
    const std::string key =
        raw_key.find('\\') == std::string_view::npos
            ? std::string(raw_key)
            : nlohmann::json::parse(body.substr(pos, key_end - pos)).get<std::string>();
    pos = SkipSpace(body, key_end);
    pos = SkipSpace(body, pos + 1);  // ':'
    const std::size_t value_end = SkipValue(body, pos);
    const std::string_view value = body.substr(pos, value_end - pos);
    if (key == "model") {
      // JSON parsers disagree on duplicate keys (first or last wins), so which model upstream
      // would use is unknowable: refuse instead of guessing.
      if (seen_model) {
        return Invalid("The request body has more than one \"model\" field.");
      }
      seen_model = true;
      if (!value.empty() && value.front() == '"') {
        fields.model = nlohmann::json::parse(value).get<std::string>();
        fields.model_begin = pos;
        fields.model_end = value_end;
      }
    } else if (key == "stream") {
      fields.stream = value == "true";
    }
    pos = SkipSpace(body, value_end);
    if (pos < body.size() && body[pos] == ',') {
      pos = SkipSpace(body, pos + 1);
    }
  }
  return fields;
}

std::string ReplaceModel(std::string_view body, const BodyFields& fields, std::string_view model) {
  std::string out;
  out.reserve(body.size() + model.size());
  out.append(body.substr(0, fields.model_begin));
  out.append(nlohmann::json(model).dump());
  out.append(body.substr(fields.model_end));
  return out;
}

}  // namespace claudegate::anthropic
