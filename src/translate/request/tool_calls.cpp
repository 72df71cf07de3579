#include "claudegate/translate/request/tool_calls.hpp"

#include "claudegate/translate/request/json_depth.hpp"
#include "claudegate/translate/request/json_field.hpp"
#include "claudegate/translate/request/translate_options.hpp"

namespace claudegate::translate {
namespace {

constexpr std::size_t kMaxToolNameLength = 128;

}  // namespace

Result<nlohmann::json> ToolUseFromCall(const nlohmann::json& call, const std::string& param,
                                       std::string id) {
  const nlohmann::json* function = Field(call, "function");
  if (function == nullptr || !function->is_object()) {
    return InvalidParam("tool call needs a function object", param + ".function");
  }
  const nlohmann::json* name = Field(*function, "name");
  if (name == nullptr || !name->is_string() ||
      !IsValidToolName(name->get_ref<const std::string&>())) {
    return InvalidParam("tool call function.name must match ^[a-zA-Z0-9_-]{1,128}$",
                        param + ".function.name");
  }
  nlohmann::json input = nlohmann::json::object();
  if (const nlohmann::json* args = Field(*function, "arguments")) {
    if (args->is_object()) {
      input = *args;  // Lenient: some clients send the object itself.
    } else if (!args->is_string()) {
      return InvalidParam("function.arguments must be a JSON string",
                          param + ".function.arguments");
    } else if (!args->get_ref<const std::string&>().empty()) {
      // A string inside a body that passed the depth check may itself nest deeply; the result
      // would be copied and dumped recursively (json_depth.hpp).
      if (JsonTextExceedsDepth(args->get_ref<const std::string&>())) {
        return JsonTooDeep("function.arguments", param + ".function.arguments");
      }
      input = nlohmann::json::parse(args->get_ref<const std::string&>(), nullptr, false);
      if (input.is_discarded()) {
        return InvalidParam("function.arguments is not valid JSON", param + ".function.arguments");
      }
      if (!input.is_object()) {
        return InvalidParam("function.arguments must encode a JSON object",
                            param + ".function.arguments");
      }
    }
  }
  return nlohmann::json{
      {"type", "tool_use"}, {"id", std::move(id)}, {"name", *name}, {"input", std::move(input)}};
}

std::string SanitizeToolId(std::string_view id) {
  std::string out(id);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      c = '_';
    }
  }
  return out;
}

bool IsValidToolName(std::string_view name) {
  return !name.empty() && name.size() <= kMaxToolNameLength && SanitizeToolId(name) == name;
}

}  // namespace claudegate::translate
