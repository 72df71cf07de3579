// The stored-Responses queries on one connection, each a statement prepared once and reused.
// Private to src/store/sqlite; runs on the store's worker thread only. Every lookup takes the
// expiry cutoff (unix seconds): a turn created before it is invisible even before it is pruned.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/store/response_store.hpp"

#include "connection.hpp"
#include "turn_cache.hpp"

namespace claudegate::store::sqlite {

class ResponseQueries {
 public:
  /// Prepares every statement; the schema must exist (PrepareDatabase). Throws DbError.
  explicit ResponseQueries(Connection& connection);

  /// Writes one turn (replacing a turn with the same id); the caller holds the transaction.
  /// Returns the bytes of JSON written. Throws DbError.
  /// The turn cache is not filled here: most saved turns are never read back through this
  /// process, and the one that is gets parsed once on its first read.
  std::int64_t Insert(const StoredResponse& turn, std::int64_t created_at);

  /// The Response object as stored.
  [[nodiscard]] std::optional<nlohmann::json> Get(const std::string& id, std::int64_t cutoff);
  /// Inputs then outputs of every turn from the first; kNotFound when any turn of the chain is
  /// missing (deleted or pruned) or expired. Turns' items come from `cache` when it has them,
  /// and go into it when it does not.
  [[nodiscard]] Lookup<std::vector<nlohmann::json>> Conversation(const std::string& id,
                                                                 std::int64_t cutoff,
                                                                 TurnCache& cache);
  /// The newest item with each id; kNotFound unless every id is found. The turns holding them
  /// come from `cache` like Conversation's.
  [[nodiscard]] Lookup<std::vector<nlohmann::json>> Items(const std::vector<std::string>& ids,
                                                          std::int64_t cutoff, TurnCache& cache);
  /// A page of turn `id`'s input items after the item `after` (exclusive) in `order`; an `after`
  /// that is not one of the turn's input items gives an empty page.
  [[nodiscard]] Lookup<ItemPage> InputItems(const std::string& id,
                                            const std::optional<std::string>& after,
                                            std::size_t limit, ListOrder order,
                                            std::int64_t cutoff);
  /// True when a turn was deleted (with its item ids, by the schema's trigger).
  bool Delete(const std::string& id);
  /// True when turn `id` is stored and not expired.
  [[nodiscard]] bool Exists(const std::string& id, std::int64_t cutoff);

 private:
  /// Turn `id`'s items (inputs, then outputs) from `cache`, or read, parsed and put there;
  /// nullptr when the turn is not stored. Valid until the cache changes.
  const std::vector<nlohmann::json>* TurnItems(const std::string& id, TurnCache& cache);

  Connection& connection_;
  Statement insert_turn_;
  Statement insert_item_id_;
  Statement delete_turn_;
  Statement get_response_;
  Statement chain_;
  Statement turn_texts_;
  Statement turn_of_item_;
  Statement exists_;
  Statement input_;
};

}  // namespace claudegate::store::sqlite
