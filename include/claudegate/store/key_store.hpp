/// @file key_store.hpp
/// Where virtual keys live (docs/keys.md): the source of truth behind keys::KeyRegistry, which
/// serves every lookup and limit from memory. One interface, several backends, as for stored
/// responses (response_store.hpp): SQLite in the data directory today, PostgreSQL for replicas
/// later. Every call runs off the io threads and resumes on the caller's executor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "claudegate/net.hpp"
#include "claudegate/store/key_record.hpp"
#include "claudegate/store/response_store.hpp"

namespace claudegate::store {

/// How a key write ended. Internal outcomes are enums; the route makes them LiteLLM's errors.
enum class KeyWrite {
  kDone,
  kNotFound,     ///< Update of a token that is not stored.
  kAliasTaken,   ///< Another key already has this `key_alias`.
  kUnavailable,  ///< The store failed; nothing changed.
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  /// Every key, oldest first.
  virtual Awaitable<Lookup<std::vector<KeyRecord>>> All() = 0;

  /// Stores a new key (`create`) or replaces a stored key's definition.
  virtual Awaitable<KeyWrite> Put(KeyRecord record, bool create) = 0;

  /// Deletes the stored ones of `tokens`; the value lists those that were deleted.
  virtual Awaitable<Lookup<std::vector<std::string>>> Delete(std::vector<std::string> tokens) = 0;

  /// Writes the spends; false when the store failed (the caller keeps them and tries again).
  virtual Awaitable<bool> SaveSpends(std::vector<KeySpend> spends) = 0;

  /// The same, blocking the calling thread until written: for the last spends at shutdown, when
  /// the io threads have stopped. Not from a store's own thread.
  virtual bool SaveSpendsNow(std::vector<KeySpend> spends) = 0;

  /// A number that changes whenever anyone sharing the store changes a key's definition (the
  /// `claudegate key` command, another replica), or nullopt when the store failed.
  virtual Awaitable<std::optional<std::int64_t>> Version() = 0;
};

}  // namespace claudegate::store
