#include "claudegate/translate/request/content.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace claudegate::translate {
namespace {

constexpr std::array<std::string_view, 4> kImageTypes{"image/jpeg", "image/png", "image/gif",
                                                      "image/webp"};

struct DataUrl {
  std::string media_type;  // Lower-cased.
  std::string_view data;   // The base64 payload.
};

int Base64Value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

// Standard base64 with padding; whitespace is not allowed (Anthropic rejects it too).
bool IsValidBase64(std::string_view data) {
  if (data.empty() || data.size() % 4 != 0) {
    return false;
  }
  std::size_t padding = 0;
  while (padding < 2 && data[data.size() - 1 - padding] == '=') {
    ++padding;
  }
  for (std::size_t i = 0; i < data.size() - padding; ++i) {
    if (Base64Value(static_cast<unsigned char>(data[i])) < 0) {
      return false;
    }
  }
  return true;
}

std::string DecodeBase64(std::string_view data) {
  std::string out;
  out.reserve(data.size() / 4 * 3);
  unsigned buffer = 0;
  int bits = 0;
  for (const char c : data) {
    const int value = Base64Value(static_cast<unsigned char>(c));
    if (value < 0) {
      break;  // Padding.
    }
    buffer = (buffer << 6U) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> static_cast<unsigned>(bits)) & 0xFFU));
    }
  }
  return out;
}

// Parses `data:<media type>[;params];base64,<data>`.
std::optional<DataUrl> ParseDataUrl(std::string_view url) {
  if (url.size() < 5 || !std::equal(url.begin(), url.begin() + 5, "data:", [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) == b;
      })) {
    return std::nullopt;
  }
  url.remove_prefix(5);
  const std::size_t comma = url.find(',');
  if (comma == std::string_view::npos) {
    return std::nullopt;
  }
  std::string header(url.substr(0, comma));
  std::transform(header.begin(), header.end(), header.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  constexpr std::string_view kBase64 = ";base64";
  if (!std::string_view(header).ends_with(kBase64)) {
    return std::nullopt;
  }
  header.resize(header.size() - kBase64.size());
  header.resize(std::min(header.size(), header.find(';')));  // Drop parameters such as charset.
  return DataUrl{header, url.substr(comma + 1)};
}

Result<nlohmann::json> ImageBlock(const nlohmann::json& part, const std::string& param) {
  const auto image = part.find("image_url");
  const nlohmann::json* url = nullptr;
  if (image != part.end() && image->is_string()) {
    url = &*image;
  } else if (image != part.end() && image->is_object()) {
    if (const auto it = image->find("url"); it != image->end() && it->is_string()) {
      url = &*it;
    }
  }
  if (url == nullptr) {
    return InvalidParam("image_url part needs an image_url.url string", param + ".image_url.url");
  }
  const auto& value = url->get_ref<const std::string&>();
  if (value.starts_with("https://")) {
    // Anthropic fetches it; the gateway never does (SSRF, latency).
    return nlohmann::json{{"type", "image"}, {"source", {{"type", "url"}, {"url", value}}}};
  }
  auto data_url = ParseDataUrl(value);
  if (!data_url) {
    return InvalidParam(
        "image_url must be an https:// URL or a data:<media type>;base64,<data> URL",
        param + ".image_url.url");
  }
  if (data_url->media_type == "image/jpg") {
    data_url->media_type = "image/jpeg";
  }
  if (std::find(kImageTypes.begin(), kImageTypes.end(), data_url->media_type) ==
      kImageTypes.end()) {
    return InvalidParam("unsupported image media type '" + data_url->media_type +
                            "'; supported: image/jpeg, image/png, image/gif, image/webp",
                        param + ".image_url.url");
  }
  if (!IsValidBase64(data_url->data)) {
    return InvalidParam("image data is not valid base64", param + ".image_url.url");
  }
  return nlohmann::json{{"type", "image"},
                        {"source",
                         {{"type", "base64"},
                          {"media_type", data_url->media_type},
                          {"data", std::string(data_url->data)}}}};
}

Result<nlohmann::json> DocumentBlock(const nlohmann::json& part, const std::string& param) {
  const auto file = part.find("file");
  if (file == part.end() || !file->is_object()) {
    return InvalidParam("file part needs a file object", param + ".file");
  }
  const auto file_data = file->find("file_data");
  if (file_data == file->end() || !file_data->is_string()) {
    if (file->contains("file_id")) {
      return InvalidParam("file_id references are not supported; send file.file_data instead",
                          param + ".file.file_id");
    }
    return InvalidParam("file part needs file.file_data", param + ".file.file_data");
  }
  const auto data_url = ParseDataUrl(file_data->get_ref<const std::string&>());
  if (!data_url || !IsValidBase64(data_url->data)) {
    return InvalidParam("file.file_data must be a data:<media type>;base64,<data> URL",
                        param + ".file.file_data");
  }
  nlohmann::json block = {{"type", "document"}};
  if (data_url->media_type == "application/pdf") {
    block["source"] = {{"type", "base64"},
                       {"media_type", "application/pdf"},
                       {"data", std::string(data_url->data)}};
  } else if (data_url->media_type == "text/plain") {
    block["source"] = {
        {"type", "text"}, {"media_type", "text/plain"}, {"data", DecodeBase64(data_url->data)}};
  } else {
    return InvalidParam("unsupported file media type '" + data_url->media_type +
                            "'; supported: application/pdf, text/plain",
                        param + ".file.file_data");
  }
  if (const auto name = file->find("filename"); name != file->end() && name->is_string()) {
    block["title"] = *name;
  }
  return block;
}

bool Allowed(ContentRole role, std::string_view type) {
  switch (role) {
    case ContentRole::kSystem:
      return type == "text";
    case ContentRole::kUser:
      return type == "text" || type == "image_url" || type == "file";
    case ContentRole::kAssistant:
      return type == "text" || type == "refusal";
    case ContentRole::kToolResult:
      return type == "text" || type == "image_url";
  }
  return false;
}

}  // namespace

void CopyCacheControl(const nlohmann::json& source, nlohmann::json& block) {
  if (const auto it = source.find("cache_control"); it != source.end() && it->is_object()) {
    block["cache_control"] = *it;
  } else if (const auto bp = source.find("prompt_cache_breakpoint");
             bp != source.end() && !bp->is_null()) {
    block["cache_control"] = {{"type", "ephemeral"}};  // OpenAI's 30m TTL has no equivalent.
  }
}

Result<void> AppendContentBlocks(const nlohmann::json& content, ContentRole role,
                                 const std::string& param, const RequestContext& ctx,
                                 nlohmann::json& blocks) {
  if (content.is_null()) {
    return {};
  }
  if (content.is_string()) {
    if (!content.get_ref<const std::string&>().empty()) {
      blocks.push_back({{"type", "text"}, {"text", content}});
    }
    return {};
  }
  if (!content.is_array()) {
    return InvalidParam("content must be a string or an array of content parts", param);
  }
  for (std::size_t j = 0; j < content.size(); ++j) {
    const auto& part = content[j];
    const std::string part_param = param + "[" + std::to_string(j) + "]";
    if (part.is_string()) {  // Lenient: a bare string part is text.
      if (!part.get_ref<const std::string&>().empty()) {
        blocks.push_back({{"type", "text"}, {"text", part}});
      }
      continue;
    }
    const auto type_it = part.is_object() ? part.find("type") : part.end();
    if (!part.is_object() || type_it == part.end() || !type_it->is_string()) {
      return InvalidParam("content part must be an object with a string type", part_param);
    }
    const auto& type = type_it->get_ref<const std::string&>();
    if (role == ContentRole::kAssistant && type == "audio") {
      continue;  // No Anthropic equivalent (docs/anthropic-notes.md#content-parts): dropped.
    }
    if (!Allowed(role, type)) {
      if (ctx.options.drop_params) {
        ctx.warnings.push_back("dropped unsupported content part '" + type + "' at " + part_param);
        continue;
      }
      return InvalidParam("content part type '" + type + "' is not supported here", part_param);
    }
    nlohmann::json block;
    if (type == "text" || type == "refusal") {
      const char* key = type == "text" ? "text" : "refusal";
      const auto text = part.find(key);
      if (text == part.end() || !text->is_string()) {
        return InvalidParam(std::string("content part needs a string ") + key,
                            part_param + "." + key);
      }
      if (text->get_ref<const std::string&>().empty()) {
        continue;
      }
      block = {{"type", "text"}, {"text", *text}};
    } else if (type == "image_url") {
      auto image = ImageBlock(part, part_param);
      if (!image) {
        return image.error();
      }
      block = std::move(*image);
    } else {
      auto document = DocumentBlock(part, part_param);
      if (!document) {
        return document.error();
      }
      block = std::move(*document);
    }
    CopyCacheControl(part, block);
    blocks.push_back(std::move(block));
  }
  return {};
}

}  // namespace claudegate::translate
