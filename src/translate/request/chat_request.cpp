#include "claudegate/translate/request/chat_request.hpp"

#include <array>

#include <openssl/evp.h>

#include "claudegate/translate/request/cache_breakpoints.hpp"
#include "claudegate/translate/request/generation.hpp"
#include "claudegate/translate/request/json_depth.hpp"
#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/messages.hpp"
#include "claudegate/translate/request/tools.hpp"

namespace claudegate::translate {
namespace {

constexpr std::size_t kMaxCacheBreakpoints = 4;

bool IsZero(const nlohmann::json& v) { return v.is_number() && v.get<double>() == 0.0; }
bool IsFalse(const nlohmann::json& v) { return v.is_boolean() && !v.get<bool>(); }
bool IsEmptyObject(const nlohmann::json& v) { return v.is_object() && v.empty(); }
bool IsTextOnly(const nlohmann::json& v) { return v.is_array() && v.size() == 1 && v[0] == "text"; }
bool NeverDefault(const nlohmann::json& /*v*/) { return false; }

struct Unsupported {
  std::string_view name;
  bool (*is_default)(const nlohmann::json&);
};

// Parameters Anthropic cannot honour (docs/anthropic-notes.md#request-fields). Clients often send
// them with default values; those count as absent even without drop_params.
constexpr std::array kUnsupported{
    Unsupported{"presence_penalty", IsZero},  Unsupported{"frequency_penalty", IsZero},
    Unsupported{"logit_bias", IsEmptyObject}, Unsupported{"seed", NeverDefault},
    Unsupported{"prediction", NeverDefault},  Unsupported{"store", IsFalse},
    Unsupported{"modalities", IsTextOnly},    Unsupported{"audio", NeverDefault},
    Unsupported{"verbosity", NeverDefault},   Unsupported{"logprobs", IsFalse},
    Unsupported{"top_logprobs", IsZero},      Unsupported{"moderation", NeverDefault},
};

Result<void> CheckUnsupported(const nlohmann::json& request, const RequestContext& ctx) {
  if (const nlohmann::json* n = Field(request, "n")) {
    // Never fanned out, not even with drop_params: the client would silently get one choice.
    if (!n->is_number_integer() || n->get<std::int64_t>() != 1) {
      return InvalidParam("n must be 1; multiple choices are not supported", "n");
    }
  }
  for (const auto& param : kUnsupported) {
    const nlohmann::json* value = Field(request, param.name);
    if (value == nullptr || param.is_default(*value)) {
      continue;
    }
    if (!ctx.options.drop_params) {
      return InvalidParam("claudegate does not support parameter '" + std::string(param.name) +
                              "' with Claude models. To drop unsupported parameters, set "
                              "litellm_settings.drop_params: true",
                          std::string(param.name));
    }
    ctx.warnings.push_back("dropped unsupported parameter " + std::string(param.name));
  }
  return {};
}

Result<std::string> ResolveModel(const nlohmann::json& request, const TranslateOptions& options) {
  const nlohmann::json* model = Field(request, "model");
  if (model == nullptr || !model->is_string() || model->get_ref<const std::string&>().empty()) {
    return InvalidParam("model is required and must be a string", "model");
  }
  const auto& requested = model->get_ref<const std::string&>();
  std::optional<std::string> resolved;
  if (options.models != nullptr) {
    resolved = options.models->Resolve(requested);
  } else if (requested.starts_with("claude-")) {
    resolved = requested;
  }
  if (!resolved) {
    return Error{ErrorKind::kModelNotFound,
                 "The model '" + requested + "' does not exist or you do not have access to it.",
                 "model", "model_not_found"};
  }
  return std::move(*resolved);
}

// Anthropic allows 4 cache breakpoints; keep the last four in prompt order (tools, system,
// messages) and drop the earlier ones.
void LimitCacheBreakpoints(nlohmann::json& body, std::vector<std::string>& warnings) {
  std::vector<nlohmann::json*> marked;
  const auto collect = [&marked](nlohmann::json& blocks) {
    if (!blocks.is_array()) {
      return;
    }
    for (auto& block : blocks) {
      if (block.is_object() && block.contains("cache_control")) {
        marked.push_back(&block);
      }
    }
  };
  if (body.contains("tools")) {
    collect(body["tools"]);
  }
  if (body.contains("system")) {
    collect(body["system"]);
  }
  for (auto& message : body["messages"]) {
    collect(message["content"]);
  }
  if (body.contains("cache_control")) {
    marked.push_back(nullptr);  // The top-level marker counts as well, at the end.
  }
  if (marked.size() <= kMaxCacheBreakpoints) {
    return;
  }
  const std::size_t excess = marked.size() - kMaxCacheBreakpoints;
  for (std::size_t i = 0; i < excess; ++i) {
    marked[i]->erase("cache_control");
  }
  warnings.push_back("dropped " + std::to_string(excess) +
                     " cache_control breakpoint(s) beyond the limit of 4");
}

Result<AnthropicRequest> Translate(const nlohmann::json& request, const TranslateOptions& options) {
  AnthropicRequest out;
  auto upstream = ResolveModel(request, options);
  if (!upstream) {
    return upstream.error();
  }
  out.requested_model = request["model"].get<std::string>();
  out.upstream_model = std::move(*upstream);
  const ModelTraits traits =
      options.traits != nullptr ? *options.traits : DefaultModelTraits(out.upstream_model);
  const RequestContext ctx{options, traits, out.warnings};

  if (auto r = CheckUnsupported(request, ctx); !r) {
    return r.error();
  }
  const nlohmann::json* messages = Field(request, "messages");
  if (messages == nullptr) {
    return InvalidParam("messages is required", "messages");
  }
  auto converted = ConvertMessages(*messages, ctx);
  if (!converted) {
    return converted.error();
  }
  auto tools = ConvertTools(request, converted->history_tool_names, ctx);
  if (!tools) {
    return tools.error();
  }

  nlohmann::json& body = out.body;
  body = nlohmann::json::object();
  body["model"] = out.upstream_model;
  body["system"] = std::move(converted->system);
  body["messages"] = std::move(converted->messages);
  if (!tools->tools.is_null()) {
    body["tools"] = std::move(tools->tools);
  }
  if (!tools->tool_choice.is_null()) {
    body["tool_choice"] = std::move(tools->tool_choice);
  }
  if (auto r = ApplyGeneration(request, ctx, body, out.betas); !r) {
    return r.error();
  }
  if (body["system"].empty()) {
    body.erase("system");
  }

  const nlohmann::json* user = Field(request, "safety_identifier");
  if (user == nullptr) {
    user = Field(request, "user");
  }
  if (user != nullptr && user->is_string() && !user->get_ref<const std::string&>().empty()) {
    body["metadata"] = {{"user_id", HashUserId(user->get_ref<const std::string&>())}};
  }
  if (const nlohmann::json* tier = Field(request, "service_tier"); tier != nullptr) {
    if (*tier == "auto") {
      body["service_tier"] = "auto";
    } else if (*tier == "default") {
      body["service_tier"] = "standard_only";
    }
  }
  if (const nlohmann::json* cc = Field(request, "cache_control");
      cc != nullptr && cc->is_object()) {
    body["cache_control"] = *cc;
  }

  if (const nlohmann::json* stream = Field(request, "stream")) {
    if (!stream->is_boolean()) {
      return InvalidParam("stream must be a boolean", "stream");
    }
    out.stream = stream->get<bool>();
  }
  if (const nlohmann::json* so = Field(request, "stream_options"); so != nullptr && out.stream) {
    const nlohmann::json* include = so->is_object() ? Field(*so, "include_usage") : nullptr;
    out.include_usage = include != nullptr && include->is_boolean() && include->get<bool>();
  }
  body["stream"] = out.stream || options.always_stream_upstream;

  LimitCacheBreakpoints(body, out.warnings);
  if (options.caching != nullptr) {
    out.cache_breakpoints_added =
        PlaceCacheBreakpoints(body, *options.caching, out.requested_model).added;
  }
  return out;
}

}  // namespace

std::string HashUserId(std::string_view value) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(value.data(), value.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    return {};
  }
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(static_cast<std::size_t>(length) * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4U]);
    hex.push_back(kHex[digest[i] & 0xFU]);
  }
  return hex;
}

Result<AnthropicRequest> ToAnthropic(const nlohmann::json& request,
                                     const TranslateOptions& options) {
  if (!request.is_object()) {
    return InvalidParam("request body must be a JSON object", "");
  }
  if (ExceedsJsonDepth(request)) {
    return InvalidParam(
        "request nests JSON deeper than " + std::to_string(kMaxJsonDepth) + " levels", "");
  }
  try {
    return Translate(request, options);
  } catch (const nlohmann::json::exception& e) {
    return InvalidParam(std::string("invalid request: ") + e.what(), "");
  }
}

}  // namespace claudegate::translate
