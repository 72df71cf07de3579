/// @file surrogate_repair.hpp
/// Repairs lone UTF-16 surrogate escapes in raw JSON text.
///
/// Anthropic may cut a delta between the two halves of a UTF-16 surrogate pair escape
/// (docs/anthropic-notes.md). nlohmann::json rejects `\uD83D` without its low half (RFC 8259
/// section 8.2 leaves lone surrogates undefined,
/// https://www.rfc-editor.org/rfc/rfc8259#section-8.2), so such a delta would make the whole event
/// unparseable. Pure; the caller (anthropic::EventReader) owns the state.
#pragma once

#include <string>
#include <string_view>

namespace claudegate::anthropic {

/// Returns `raw` with surrogate escapes fixed: a high-surrogate escape that ends a JSON string
/// is removed and stored in `pending_high` (to be glued in front of the low half that starts the
/// next delta); a low-surrogate escape is prefixed with a held `pending_high`; any other lone
/// surrogate becomes `\ufffd`. Valid pairs and all other text are copied unchanged. Only needed
/// when a normal parse failed, so the hot path never pays for it.
[[nodiscard]] std::string RepairSurrogates(std::string_view raw, std::string& pending_high);

}  // namespace claudegate::anthropic
