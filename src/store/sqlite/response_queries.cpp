#include "response_queries.hpp"

#include <algorithm>
#include <limits>

namespace claudegate::store::sqlite {
namespace {

// Chains are walked to this depth at most; a longer one (or a cycle, which ids make impossible
// in practice) is reported as not found rather than looping.
constexpr const char* kChainSql = R"sql(
WITH RECURSIVE chain (id, previous_id, created_at, depth) AS (
  SELECT id, previous_id, created_at, 0 FROM turns WHERE id = ?1
  UNION ALL
  SELECT r.id, r.previous_id, r.created_at, chain.depth + 1
  FROM turns AS r JOIN chain ON r.id = chain.previous_id
  WHERE chain.depth < 10000
)
SELECT id, previous_id, created_at FROM chain ORDER BY depth DESC)sql";

nlohmann::json Parse(std::string_view text) { return nlohmann::json::parse(text); }

// A turn's items as Conversation returns them: its input items, then the Response's `output`.
std::vector<nlohmann::json> ParseTurnItems(std::string_view input, std::string_view response) {
  std::vector<nlohmann::json> items;
  auto inputs = Parse(input);
  auto parsed = Parse(response);
  auto output = parsed.is_object() ? parsed.find("output") : parsed.end();
  const std::size_t outputs = output != parsed.end() && output->is_array() ? output->size() : 0;
  items.reserve((inputs.is_array() ? inputs.size() : 0) + outputs);
  if (inputs.is_array()) {
    for (auto& item : inputs) {
      items.push_back(std::move(item));
    }
  }
  if (outputs > 0) {
    for (auto& item : *output) {
      items.push_back(std::move(item));
    }
  }
  return items;
}

bool HasId(const nlohmann::json& item, const std::string& id) {
  if (!item.is_object()) {
    return false;
  }
  const auto it = item.find("id");
  return it != item.end() && it->is_string() && it->get_ref<const std::string&>() == id;
}

}  // namespace

ResponseQueries::ResponseQueries(Connection& connection)
    : connection_(connection),
      insert_turn_(connection.get(),
                   "INSERT INTO turns (id, previous_id, created_at, bytes, response, input) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
      insert_item_id_(connection.get(),
                      "INSERT OR IGNORE INTO item_index (item_id, turn) VALUES (?1, ?2)"),
      delete_turn_(connection.get(), "DELETE FROM turns WHERE id = ?1"),
      get_response_(connection.get(),
                    "SELECT response FROM turns WHERE id = ?1 AND created_at >= ?2"),
      chain_(connection.get(), kChainSql),
      turn_texts_(connection.get(), "SELECT input, response FROM turns WHERE id = ?1"),
      turn_of_item_(connection.get(),
                    "SELECT t.id FROM item_index AS x JOIN turns AS t ON t.seq = x.turn "
                    "WHERE x.item_id = ?1 AND t.created_at >= ?2 ORDER BY x.turn DESC LIMIT 1"),
      exists_(connection.get(), "SELECT 1 FROM turns WHERE id = ?1 AND created_at >= ?2"),
      input_(connection.get(), "SELECT input FROM turns WHERE id = ?1 AND created_at >= ?2") {}

std::int64_t ResponseQueries::Insert(const StoredResponse& turn, std::int64_t created_at) {
  Delete(turn.id);  // saving a turn again replaces it
  const auto bytes = static_cast<std::int64_t>(turn.response.size() + turn.input_items.size());
  {
    StatementUse use(insert_turn_);
    use->Bind(1, turn.id);
    if (turn.previous_id) {
      use->Bind(2, *turn.previous_id);
    } else {
      use->BindNull(2);
    }
    use->Bind(3, created_at);
    use->Bind(4, bytes);
    use->Bind(5, turn.response);
    use->Bind(6, turn.input_items);
    use->Step();
  }
  const std::int64_t seq = connection_.LastInsertRowid();
  for (const auto& item_id : turn.item_ids) {
    StatementUse use(insert_item_id_);
    use->Bind(1, item_id);
    use->Bind(2, seq);
    use->Step();
  }
  return bytes;
}

std::optional<nlohmann::json> ResponseQueries::Get(const std::string& id, std::int64_t cutoff) {
  StatementUse use(get_response_);
  use->Bind(1, id);
  use->Bind(2, cutoff);
  if (!use->Step()) {
    return std::nullopt;
  }
  return Parse(use->Text(0));
}

const std::vector<nlohmann::json>* ResponseQueries::TurnItems(const std::string& id,
                                                              TurnCache& cache) {
  if (const auto* items = cache.Find(id)) {
    return items;
  }
  StatementUse use(turn_texts_);
  use->Bind(1, id);
  if (!use->Step()) {
    return nullptr;
  }
  const auto input = use->Text(0);
  const auto response = use->Text(1);
  return cache.Put(id, ParseTurnItems(input, response), input.size() + response.size());
}

Lookup<std::vector<nlohmann::json>> ResponseQueries::Conversation(const std::string& id,
                                                                  std::int64_t cutoff,
                                                                  TurnCache& cache) {
  Lookup<std::vector<nlohmann::json>> result;
  std::vector<std::string> turns;  // oldest first
  {
    StatementUse use(chain_);
    use->Bind(1, id);
    bool first = true;
    while (use->Step()) {
      // The oldest turn must start the conversation: if it names a previous turn, that one is
      // gone (deleted, pruned) and the conversation cannot be rebuilt whole.
      if (first && !use->IsNull(1)) {
        return result;
      }
      first = false;
      if (use->Int(2) < cutoff) {
        return result;  // an expired turn anywhere in the chain
      }
      turns.emplace_back(use->Text(0));
    }
  }
  if (turns.empty()) {
    return result;
  }
  for (const auto& turn : turns) {
    const auto* items = TurnItems(turn, cache);
    if (items == nullptr) {
      result.value.clear();
      return result;
    }
    result.value.insert(result.value.end(), items->begin(), items->end());
  }
  result.status = LookupStatus::kFound;
  return result;
}

Lookup<std::vector<nlohmann::json>> ResponseQueries::Items(const std::vector<std::string>& ids,
                                                           std::int64_t cutoff, TurnCache& cache) {
  Lookup<std::vector<nlohmann::json>> result;
  for (const auto& id : ids) {
    std::string turn;
    {
      StatementUse use(turn_of_item_);
      use->Bind(1, id);
      use->Bind(2, cutoff);
      if (use->Step()) {
        turn = use->Text(0);
      }
    }
    const auto* items = turn.empty() ? nullptr : TurnItems(turn, cache);
    if (items == nullptr) {
      result.value.clear();
      return result;
    }
    // The last item with the id: outputs come after inputs, as the item rows' order was.
    const auto found = std::find_if(items->rbegin(), items->rend(),
                                    [&](const auto& item) { return HasId(item, id); });
    if (found == items->rend()) {
      result.value.clear();
      return result;
    }
    result.value.push_back(*found);
  }
  result.status = LookupStatus::kFound;
  return result;
}

bool ResponseQueries::Exists(const std::string& id, std::int64_t cutoff) {
  StatementUse use(exists_);
  use->Bind(1, id);
  use->Bind(2, cutoff);
  return use->Step();
}

Lookup<ItemPage> ResponseQueries::InputItems(const std::string& id,
                                             const std::optional<std::string>& after,
                                             std::size_t limit, ListOrder order,
                                             std::int64_t cutoff) {
  Lookup<ItemPage> result;
  nlohmann::json inputs;
  {
    StatementUse use(input_);
    use->Bind(1, id);
    use->Bind(2, cutoff);
    if (!use->Step()) {
      return result;
    }
    inputs = Parse(use->Text(0));
  }
  result.status = LookupStatus::kFound;
  if (!inputs.is_array()) {
    return result;
  }
  // Walk the items by their position in the page order: k-th of the list is inputs[at(k)].
  const std::size_t count = inputs.size();
  const bool ascending = order == ListOrder::kAscending;
  auto at = [&](std::size_t k) { return ascending ? k : count - 1 - k; };
  std::size_t next = 0;
  if (after) {
    // The cursor is the first input item with that id; one that is not an input item of this
    // turn has nothing after it.
    const auto first = std::find_if(inputs.begin(), inputs.end(),
                                    [&](const auto& item) { return HasId(item, *after); });
    if (first == inputs.end()) {
      return result;
    }
    next = at(static_cast<std::size_t>(first - inputs.begin())) + 1;
  }
  // OpenAI's list bounds (1..100, https://platform.openai.com/docs/api-reference/responses).
  limit = std::clamp<std::size_t>(limit, 1, 100);
  for (; next < count; ++next) {
    if (result.value.items.size() == limit) {
      result.value.has_more = true;
      break;
    }
    result.value.items.push_back(std::move(inputs[at(next)]));
  }
  return result;
}

bool ResponseQueries::Delete(const std::string& id) {
  StatementUse use(delete_turn_);
  use->Bind(1, id);
  use->Step();
  return connection_.Changes() > 0;
}

}  // namespace claudegate::store::sqlite
