/// @file responses_input.hpp
/// The stored-response steps of `POST /v1/responses` that need no I/O: the request's `input` as a
/// list of items with ids (what `GET /v1/responses/{id}/input_items` lists later), the
/// `item_reference` items it names, and the conversation the translator sees once the store has
/// answered (docs/codex.md "Stored responses").
///
/// OpenAI's semantics, which these functions follow
/// (https://platform.openai.com/docs/api-reference/responses/create):
/// - `input` is a string (one user message) or an array of items;
/// - `previous_response_id` continues a stored turn: its whole conversation (every earlier turn's
///   input and output) comes before this turn's input; its `instructions` are not carried over;
/// - an `item_reference` ({type, id}) stands for a stored item (input or output of any turn).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/error.hpp"

namespace claudegate::routes {

/// Makes a fresh random id with the given prefix, e.g. `msg_…` (injectable for goldens).
using ItemIdSource = std::function<std::string(std::string_view prefix)>;

/// 24 hex digits, time first: 12 of the milliseconds since the epoch, then 48 random bits
/// (UUIDv7's layout), so that ids made later sort after earlier ones.
[[nodiscard]] std::string TimeOrderedIdBase();
/// The prefix, an underscore and a TimeOrderedIdBase, as OpenAI's ids look.
[[nodiscard]] std::string RandomItemId(std::string_view prefix);

/// `input` as an array of items, each with an `id`: a string becomes one user `message` item with
/// an `input_text` part; an item without an `id` gets one named after its type (`msg_` for
/// messages, `fc_` for function calls, `fco_` for their outputs, `item_` otherwise). Anything
/// else is returned unchanged for the translator to reject with its usual message.
[[nodiscard]] nlohmann::json NormalizeInputItems(const nlohmann::json& input,
                                                 const ItemIdSource& make_id);

/// The ids named by `item_reference` items of `items` (an array), in order; a reference without a
/// string `id` is a 400 naming `input[i].id`.
[[nodiscard]] Result<std::vector<std::string>> ItemReferenceIds(const nlohmann::json& items);

/// `items` with each `item_reference` replaced by the stored item, `resolved` holding them in the
/// order `ItemReferenceIds` returned.
[[nodiscard]] nlohmann::json ReplaceItemReferences(const nlohmann::json& items,
                                                   const std::vector<nlohmann::json>& resolved);

/// The conversation for the translator: the stored turns' items, then this turn's, with the fields
/// only the store uses (`id`, `status`) left in place (the translator ignores them).
[[nodiscard]] nlohmann::json ConversationInput(const std::vector<nlohmann::json>& history,
                                               const nlohmann::json& items);

}  // namespace claudegate::routes
