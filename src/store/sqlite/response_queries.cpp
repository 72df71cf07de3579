#include "response_queries.hpp"

#include <algorithm>
#include <array>
#include <limits>

namespace claudegate::store::sqlite {
namespace {

// Chains are walked to this depth at most; a longer one (or a cycle, which ids make impossible
// in practice) is reported as not found rather than looping.
constexpr const char* kChainSql = R"sql(
WITH RECURSIVE chain (id, previous_id, created_at, depth) AS (
  SELECT id, previous_id, created_at, 0 FROM responses WHERE id = ?1
  UNION ALL
  SELECT r.id, r.previous_id, r.created_at, chain.depth + 1
  FROM responses AS r JOIN chain ON r.id = chain.previous_id
  WHERE chain.depth < 10000
)
SELECT id, previous_id, created_at FROM chain ORDER BY depth DESC)sql";

nlohmann::json Parse(std::string_view text) { return nlohmann::json::parse(text); }

}  // namespace

ResponseQueries::ResponseQueries(Connection& connection)
    : connection_(connection),
      insert_response_(connection.get(),
                       "INSERT INTO responses (id, previous_id, created_at, bytes, response) "
                       "VALUES (?1, ?2, ?3, ?4, ?5)"),
      insert_item_(connection.get(),
                   "INSERT INTO items (response_id, seq, is_output, item_id, item) "
                   "VALUES (?1, ?2, ?3, ?4, ?5)"),
      delete_response_(connection.get(), "DELETE FROM responses WHERE id = ?1"),
      get_response_(connection.get(),
                    "SELECT response FROM responses WHERE id = ?1 AND created_at >= ?2"),
      output_items_(connection.get(),
                    "SELECT item FROM items WHERE response_id = ?1 AND is_output = 1 ORDER BY seq"),
      chain_(connection.get(), kChainSql),
      turn_items_(connection.get(), "SELECT item FROM items WHERE response_id = ?1 ORDER BY seq"),
      item_by_id_(connection.get(),
                  "SELECT i.item FROM items AS i JOIN responses AS r ON r.id = i.response_id "
                  "WHERE i.item_id = ?1 AND r.created_at >= ?2 "
                  "ORDER BY r.rowid DESC, i.seq DESC LIMIT 1"),
      exists_(connection.get(), "SELECT 1 FROM responses WHERE id = ?1 AND created_at >= ?2"),
      input_seq_(connection.get(),
                 "SELECT seq FROM items WHERE response_id = ?1 AND is_output = 0 AND item_id = ?2 "
                 "ORDER BY seq LIMIT 1"),
      inputs_ascending_(connection.get(),
                        "SELECT item FROM items WHERE response_id = ?1 AND is_output = 0 "
                        "AND seq > ?2 ORDER BY seq ASC LIMIT ?3"),
      inputs_descending_(connection.get(),
                         "SELECT item FROM items WHERE response_id = ?1 AND is_output = 0 "
                         "AND seq < ?2 ORDER BY seq DESC LIMIT ?3") {}

std::int64_t ResponseQueries::Insert(const StoredResponse& turn, std::int64_t created_at) {
  Delete(turn.id);  // saving a turn again replaces it
  // `output` is kept once, as item rows; Get() puts it back.
  nlohmann::json response = turn.response;
  nlohmann::json output = nlohmann::json::array();
  if (response.is_object()) {
    if (auto it = response.find("output"); it != response.end()) {
      if (it->is_array()) {
        output = std::move(*it);
      }
      response.erase(it);
    }
  }
  // Serialised once, before the parent row, whose byte count (pruning's estimate) needs them.
  struct Row {
    bool is_output;
    std::optional<std::string> item_id;
    std::string text;
  };
  std::vector<Row> rows;
  const std::string response_text = response.dump();
  std::int64_t bytes = static_cast<std::int64_t>(response_text.size());
  for (const nlohmann::json* items :
       std::array<const nlohmann::json*, 2>{&turn.input_items, &output}) {
    if (!items->is_array()) {
      continue;
    }
    for (const auto& item : *items) {
      Row row{items == &output, std::nullopt, item.dump()};
      if (item.is_object()) {
        if (auto it = item.find("id"); it != item.end() && it->is_string()) {
          row.item_id = it->get<std::string>();
        }
      }
      bytes += static_cast<std::int64_t>(row.text.size());
      rows.push_back(std::move(row));
    }
  }
  {
    StatementUse use(insert_response_);
    use->Bind(1, turn.id);
    if (turn.previous_id) {
      use->Bind(2, *turn.previous_id);
    } else {
      use->BindNull(2);
    }
    use->Bind(3, created_at);
    use->Bind(4, bytes);
    use->Bind(5, response_text);
    use->Step();
  }
  std::int64_t seq = 0;
  for (const auto& row : rows) {
    StatementUse use(insert_item_);
    use->Bind(1, turn.id);
    use->Bind(2, seq++);
    use->Bind(3, std::int64_t{row.is_output ? 1 : 0});
    if (row.item_id) {
      use->Bind(4, *row.item_id);
    } else {
      use->BindNull(4);
    }
    use->Bind(5, row.text);
    use->Step();
  }
  return bytes;
}

std::optional<nlohmann::json> ResponseQueries::Get(const std::string& id, std::int64_t cutoff) {
  nlohmann::json response;
  {
    StatementUse use(get_response_);
    use->Bind(1, id);
    use->Bind(2, cutoff);
    if (!use->Step()) {
      return std::nullopt;
    }
    response = Parse(use->Text(0));
  }
  nlohmann::json output = nlohmann::json::array();
  StatementUse use(output_items_);
  use->Bind(1, id);
  while (use->Step()) {
    output.push_back(Parse(use->Text(0)));
  }
  response["output"] = std::move(output);
  return response;
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
    if (const auto* items = cache.Find(turn)) {
      result.value.insert(result.value.end(), items->begin(), items->end());
      continue;
    }
    std::vector<nlohmann::json> loaded;
    std::size_t bytes = 0;
    {
      StatementUse use(turn_items_);
      use->Bind(1, turn);
      while (use->Step()) {
        bytes += use->Text(0).size();
        loaded.push_back(Parse(use->Text(0)));
      }
    }
    result.value.insert(result.value.end(), loaded.begin(), loaded.end());
    cache.Put(turn, std::move(loaded), bytes);
  }
  result.status = LookupStatus::kFound;
  return result;
}

Lookup<std::vector<nlohmann::json>> ResponseQueries::Items(const std::vector<std::string>& ids,
                                                           std::int64_t cutoff) {
  Lookup<std::vector<nlohmann::json>> result;
  for (const auto& id : ids) {
    StatementUse use(item_by_id_);
    use->Bind(1, id);
    use->Bind(2, cutoff);
    if (!use->Step()) {
      result.value.clear();
      return result;
    }
    result.value.push_back(Parse(use->Text(0)));
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
  if (!Exists(id, cutoff)) {
    return result;
  }
  result.status = LookupStatus::kFound;
  const bool ascending = order == ListOrder::kAscending;
  std::int64_t from = ascending ? -1 : std::numeric_limits<std::int64_t>::max();
  if (after) {
    StatementUse use(input_seq_);
    use->Bind(1, id);
    use->Bind(2, *after);
    if (!use->Step()) {
      return result;  // not one of this turn's input items: nothing after it
    }
    from = use->Int(0);
  }
  // OpenAI's list bounds (1..100, https://platform.openai.com/docs/api-reference/responses);
  // one more row than asked tells whether there is a next page.
  limit = std::clamp<std::size_t>(limit, 1, 100);
  StatementUse use(ascending ? inputs_ascending_ : inputs_descending_);
  use->Bind(1, id);
  use->Bind(2, from);
  use->Bind(3, static_cast<std::int64_t>(limit + 1));
  while (use->Step()) {
    if (result.value.items.size() == limit) {
      result.value.has_more = true;
      break;
    }
    result.value.items.push_back(Parse(use->Text(0)));
  }
  return result;
}

bool ResponseQueries::Delete(const std::string& id) {
  StatementUse use(delete_response_);
  use->Bind(1, id);
  use->Step();
  return connection_.Changes() > 0;
}

}  // namespace claudegate::store::sqlite
