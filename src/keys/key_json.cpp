#include "claudegate/keys/key_json.hpp"

#include <array>
#include <ctime>

#include "claudegate/keys/key_text.hpp"

namespace claudegate::keys {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxAliasBytes = 64;
constexpr std::size_t kMaxModels = 100;
constexpr std::size_t kMaxModelBytes = 128;
constexpr std::size_t kMaxMetadataBytes = 16 * 1024;

Error Invalid(const std::string& field, const std::string& message) {
  return Error(ErrorKind::kInvalidRequest, "'" + field + "' " + message, field,
               "invalid_request_error");
}

// An alias labels metrics and logs: a short name of safe characters.
bool ValidAlias(const std::string& alias) {
  return !alias.empty() && alias.size() <= kMaxAliasBytes &&
         alias.find_first_not_of(
             "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
             "0123456789._:@-") == std::string::npos;
}

// A non-negative integer limit, or null (no limit).
std::optional<Error> ApplyLimit(const json& body, const char* field,
                                std::optional<std::int64_t>& limit) {
  const auto found = body.find(field);
  if (found == body.end()) {
    return std::nullopt;
  }
  if (found->is_null()) {
    limit.reset();
  } else if (found->is_number_integer() && found->get<std::int64_t>() >= 0) {
    limit = found->get<std::int64_t>();
  } else if (found->is_number_unsigned()) {
    return Invalid(field, "is too large.");
  } else {
    return Invalid(field, "must be a non-negative integer or null (no limit).");
  }
  return std::nullopt;
}

// A LiteLLM duration string (`30d`), or null.
std::optional<Error> ApplyDuration(const json& body, const char* field,
                                   std::optional<std::int64_t>& seconds) {
  const auto found = body.find(field);
  if (found == body.end()) {
    return std::nullopt;
  }
  if (found->is_null()) {
    seconds.reset();
    return std::nullopt;
  }
  const auto parsed = found->is_string() ? ParseDuration(found->get<std::string>()) : std::nullopt;
  if (!parsed) {
    return Invalid(field,
                   "must be a duration such as \"30s\", \"15m\", \"2h\", \"30d\", \"1w\" "
                   "or \"1mo\", or null.");
  }
  seconds = *parsed;
  return std::nullopt;
}

std::optional<Error> ApplyAlias(const json& body, store::KeyRecord& record) {
  const auto found = body.find("key_alias");
  if (found == body.end()) {
    return std::nullopt;
  }
  if (found->is_null()) {
    record.alias.reset();
  } else if (found->is_string() && ValidAlias(found->get<std::string>())) {
    record.alias = found->get<std::string>();
  } else {
    return Invalid("key_alias",
                   "must be 1 to 64 characters of letters, digits and . _ : @ - (it labels "
                   "metrics and logs), or null.");
  }
  return std::nullopt;
}

std::optional<Error> ApplyModels(const json& body, store::KeyRecord& record) {
  const auto found = body.find("models");
  if (found == body.end()) {
    return std::nullopt;
  }
  if (found->is_null()) {
    record.models.clear();
    return std::nullopt;
  }
  if (!found->is_array() || found->size() > kMaxModels) {
    return Invalid("models", "must be an array of at most 100 model names (empty: every model).");
  }
  std::vector<std::string> models;
  for (const auto& model : *found) {
    if (!model.is_string() || model.get_ref<const std::string&>().empty() ||
        model.get_ref<const std::string&>().size() > kMaxModelBytes) {
      return Invalid("models", "must hold model names (strings of 1 to 128 bytes).");
    }
    models.push_back(model.get<std::string>());
  }
  record.models = std::move(models);
  return std::nullopt;
}

std::optional<Error> ApplyBudget(const json& body, store::KeyRecord& record, std::int64_t now) {
  if (const auto found = body.find("max_budget"); found != body.end()) {
    if (found->is_null()) {
      record.max_budget.reset();
    } else if (found->is_number() && found->get<double>() >= 0) {
      record.max_budget = found->get<double>();
    } else {
      return Invalid("max_budget", "must be a non-negative number of USD, or null (no budget).");
    }
  }
  const auto before = record.budget_duration;
  if (auto error = ApplyDuration(body, "budget_duration", record.budget_duration)) {
    return error;
  }
  if (record.budget_duration != before) {
    // A new period length starts a new period now.
    record.budget_reset_at = record.budget_duration
                                 ? std::optional<std::int64_t>(now + *record.budget_duration)
                                 : std::nullopt;
  }
  return std::nullopt;
}

std::optional<Error> ApplyExpiry(const json& body, store::KeyRecord& record, std::int64_t now) {
  std::optional<std::int64_t> duration;
  const bool present = body.contains("duration");
  if (auto error = ApplyDuration(body, "duration", duration)) {
    return error;
  }
  if (present) {
    record.expires_at = duration ? std::optional<std::int64_t>(now + *duration) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<Error> ApplyRest(const json& body, store::KeyRecord& record) {
  if (const auto found = body.find("metadata"); found != body.end()) {
    if (found->is_null()) {
      record.metadata = "{}";
    } else if (!found->is_object()) {
      return Invalid("metadata", "must be a JSON object.");
    } else {
      std::string text = found->dump(-1, ' ', false, json::error_handler_t::replace);
      if (text.size() > kMaxMetadataBytes) {
        return Invalid("metadata", "must be at most 16 KiB of JSON.");
      }
      record.metadata = std::move(text);
    }
  }
  if (const auto found = body.find("blocked"); found != body.end()) {
    if (!found->is_boolean()) {
      return Invalid("blocked", "must be true or false.");
    }
    record.blocked = found->get<bool>();
  }
  return std::nullopt;
}

json OptionalJson(const std::optional<std::int64_t>& value) {
  return value ? json(*value) : json(nullptr);
}

json OptionalTime(const std::optional<std::int64_t>& value) {
  return value ? json(IsoTime(*value)) : json(nullptr);
}

}  // namespace

std::optional<Error> ApplyKeyFields(const json& body, store::KeyRecord& record, std::int64_t now) {
  if (!body.is_object()) {
    return Error(ErrorKind::kInvalidRequest, "The request body must be a JSON object.", {},
                 "invalid_request_error");
  }
  if (auto error = ApplyAlias(body, record)) {
    return error;
  }
  if (auto error = ApplyModels(body, record)) {
    return error;
  }
  for (const auto& [field, limit] :
       {std::pair{"rpm_limit", &record.rpm_limit}, std::pair{"tpm_limit", &record.tpm_limit},
        std::pair{"max_parallel_requests", &record.max_parallel_requests}}) {
    if (auto error = ApplyLimit(body, field, *limit)) {
      return error;
    }
  }
  if (auto error = ApplyBudget(body, record, now)) {
    return error;
  }
  if (auto error = ApplyExpiry(body, record, now)) {
    return error;
  }
  if (auto error = ApplyRest(body, record)) {
    return error;
  }
  record.updated_at = now;
  return std::nullopt;
}

json KeyInfoJson(const store::KeyRecord& record) {
  json info = {
      {"token", record.token},
      {"key_name", record.key_name},
      {"key_alias", record.alias ? json(*record.alias) : json(nullptr)},
      {"models", record.models},
      {"rpm_limit", OptionalJson(record.rpm_limit)},
      {"tpm_limit", OptionalJson(record.tpm_limit)},
      {"max_parallel_requests", OptionalJson(record.max_parallel_requests)},
      {"max_budget", record.max_budget ? json(*record.max_budget) : json(nullptr)},
      {"budget_duration", record.budget_duration
                              ? json(std::to_string(*record.budget_duration) + "s")
                              : json(nullptr)},
      {"budget_reset_at", OptionalTime(record.budget_reset_at)},
      {"spend", record.spend},
      {"expires", OptionalTime(record.expires_at)},
      {"blocked", record.blocked},
      {"metadata", json::parse(record.metadata, nullptr, false)},
      {"created_at", IsoTime(record.created_at)},
      {"updated_at", IsoTime(record.updated_at)},
  };
  if (info["metadata"].is_discarded()) {
    info["metadata"] = json::object();
  }
  return info;
}

std::string IsoTime(std::int64_t unix_seconds) {
  const auto time = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  gmtime_r(&time, &utc);
  std::array<char, 32> text{};
  const auto size = std::strftime(text.data(), text.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {text.data(), size};
}

}  // namespace claudegate::keys
