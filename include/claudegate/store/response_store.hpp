/// @file response_store.hpp
/// Stored Responses (OpenAI's `store: true`): what the Responses route keeps after each reply so
/// that `previous_response_id`, `item_reference` input items and `GET`/`DELETE
/// /v1/responses/{id}` work (docs/codex.md, docs/configuration.md "The store").
///
/// One interface, several backends (../shared DESIGN.md: `store/`): SQLite in the data directory
/// today, PostgreSQL behind `DATABASE_URL` for replicas later. Every call runs off the io threads
/// and resumes on the caller's executor; `Save` never makes the reply wait (a bounded queue that
/// counts and drops when full), so a slow or broken store never loses an answer.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/net.hpp"

namespace claudegate::store {

/// One Responses turn as the route hands it to the store: already serialised, so that the io
/// thread that made the Response pays for one dump and the store's worker receives a few strings
/// instead of a tree of JSON nodes to copy and free (docs/performance.md, "Stored responses").
/// Build it with MakeStoredResponse(). The conversation a later `previous_response_id` continues
/// is the chain's inputs and outputs in order.
struct StoredResponse {
  std::string id;                          ///< `resp_…`
  std::optional<std::string> previous_id;  ///< The turn this one continued, if any.
  std::int64_t created_at = 0;             ///< Unix seconds (the Response's `created_at`).
  std::string response;                    ///< The Response object as served (with `output`).
  std::string input_items = "[]";          ///< This turn's input items (ids assigned), an array.
  /// The `id` of every input item, then of every output item (for `item_reference`).
  std::vector<std::string> item_ids;
};

/// The turn of `response` (a Response object: `id`, `created_at`, `output`) with this turn's
/// `input_items` (an array of items with ids) continuing `previous_id`. Never throws for odd
/// JSON: invalid UTF-8 is replaced as in the served body, items without a string `id` are kept
/// but not indexed.
[[nodiscard]] StoredResponse MakeStoredResponse(const nlohmann::json& response,
                                                const nlohmann::json& input_items,
                                                std::optional<std::string> previous_id);

/// How a lookup ended. Internal outcomes are enums; the route turns them into OpenAI errors.
enum class LookupStatus {
  kFound,
  kNotFound,     ///< Never stored, deleted or expired: a 404 in OpenAI's shape.
  kUnavailable,  ///< The store failed (disk, corruption, closed): a 503; the daemon keeps serving.
};

template <typename T>
struct Lookup {
  LookupStatus status = LookupStatus::kNotFound;
  T value{};
};

/// A page of `GET /v1/responses/{id}/input_items` (OpenAI's list shape is built by the route).
struct ItemPage {
  std::vector<nlohmann::json> items;
  bool has_more = false;
};

enum class ListOrder { kAscending, kDescending };

class ResponseStore {
 public:
  virtual ~ResponseStore() = default;

  /// Queues the turn for writing and returns at once. Never blocks and never throws: when the
  /// queue is full or the store is broken the turn is dropped, logged and counted.
  virtual void Save(StoredResponse response) = 0;

  /// The stored Response object.
  virtual Awaitable<Lookup<nlohmann::json>> Get(std::string id) = 0;

  /// Every item of the conversation up to and including turn `id` (inputs, then outputs, turn by
  /// turn from the first), for `previous_response_id`. kNotFound also when an earlier turn of the
  /// chain was deleted, pruned or has expired: never a partial conversation.
  virtual Awaitable<Lookup<std::vector<nlohmann::json>>> Conversation(std::string id) = 0;

  /// Items by id (input or output of any stored turn), for `item_reference`. Found only when
  /// every id is; the value keeps the order of `ids`. An id stored in several turns (clients
  /// resend items) gives the most recently saved one.
  virtual Awaitable<Lookup<std::vector<nlohmann::json>>> Items(std::vector<std::string> ids) = 0;

  /// A page of turn `id`'s input items, OpenAI's cursor semantics (`after` is an item id, the
  /// page starts after it in `order`; `limit` is clamped to 1..100). An `after` that is not one
  /// of the turn's input items gives an empty page (kFound: the turn exists).
  virtual Awaitable<Lookup<ItemPage>> InputItems(std::string id, std::optional<std::string> after,
                                                 std::size_t limit, ListOrder order) = 0;

  /// Deletes turn `id` and its items. kNotFound when there was nothing to delete.
  virtual Awaitable<LookupStatus> Delete(std::string id) = 0;

  /// Waits until every `Save` queued before this call is on disk (tests, orderly shutdown).
  virtual Awaitable<void> Flush() = 0;
};

}  // namespace claudegate::store
