/// @file surrogate_repair.hpp
/// Repairs lone UTF-16 surrogate escapes in raw JSON text (reference §7 edge case 12).
///
/// nlohmann::json rejects `\uD83D` without its low half, so an upstream delta that ends in half a
/// surrogate pair would make the whole event unparseable. Pure; the caller owns the state.
#pragma once

#include <string>
#include <string_view>

namespace claudegate::translate {

/// Returns `raw` with surrogate escapes fixed: a high-surrogate escape that ends a JSON string
/// is removed and stored in `pending_high` (to be glued in front of the low half that starts the
/// next delta); a low-surrogate escape is prefixed with a held `pending_high`; any other lone
/// surrogate becomes `\ufffd`. Valid pairs and all other text are copied unchanged. Only needed
/// when a normal parse failed, so the hot path never pays for it.
[[nodiscard]] std::string RepairSurrogates(std::string_view raw, std::string& pending_high);

}  // namespace claudegate::translate
