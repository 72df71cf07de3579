/// @file key_json.hpp
/// LiteLLM's JSON for virtual keys (docs/keys.md, "Fields"): the request fields of
/// `/key/generate` and `/key/update` applied to a KeyRecord, and a KeyRecord as `/key/info` and
/// `/key/list` show it. Pure; the route does the I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"
#include "claudegate/store/key_record.hpp"

namespace claudegate::keys {

/// Applies the fields `body` has (`key_alias`, `models`, `rpm_limit`, `tpm_limit`,
/// `max_parallel_requests`, `max_budget`, `budget_duration`, `duration`, `metadata`, `blocked`)
/// to `record` at `now`; a JSON null clears a limit. Other LiteLLM fields are accepted and
/// ignored. Returns the 400 for the first invalid field, naming it.
[[nodiscard]] std::optional<Error> ApplyKeyFields(const nlohmann::json& body,
                                                  store::KeyRecord& record, std::int64_t now);

/// The key as LiteLLM's `/key/info` `info` object shows it (`token`, `key_name`, `key_alias`,
/// limits, `spend`, `expires`, ...; times in ISO 8601 UTC). Never the key itself.
[[nodiscard]] nlohmann::json KeyInfoJson(const store::KeyRecord& record);

/// `2026-12-07T21:50:00Z`.
[[nodiscard]] std::string IsoTime(std::int64_t unix_seconds);

}  // namespace claudegate::keys
