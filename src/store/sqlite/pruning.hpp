// Keeps the stored responses bounded: by age (the TTL) and by the space the database uses.
// Private to src/store/sqlite; runs on the store's worker thread, in small transactions so that
// lookups queued behind it wait little.
#pragma once

#include <cstdint>

#include "connection.hpp"

namespace claudegate::store::sqlite {

/// What one pruning pass removed.
struct PruneCounts {
  std::int64_t expired = 0;  ///< Turns older than the TTL.
  std::int64_t size = 0;     ///< Oldest turns removed to get under the size limit.
};

/// Bytes of the database's pages in use (the file less its free pages).
[[nodiscard]] std::int64_t UsedBytes(Connection& connection);

/// Runs `remove` (a DELETE whose ?1 is `cutoff` and ?2 a row count) in transactions of `chunk`
/// rows until it deletes fewer, then gives the freed pages back; the rows deleted. A lookup
/// queued behind it on the worker waits for one chunk at most. Throws DbError.
std::int64_t DeleteInChunks(Connection& connection, Statement& remove, std::int64_t cutoff,
                            std::int64_t chunk);

/// Deletes turns created before `cutoff` (unix seconds). Throws DbError.
std::int64_t PruneExpired(Connection& connection, std::int64_t cutoff);

/// Deletes the oldest turns while the database uses more than `max_bytes`, down to 90 % of it,
/// then gives the freed pages back to the file system. Throws DbError.
std::int64_t PruneToSize(Connection& connection, std::int64_t max_bytes);

}  // namespace claudegate::store::sqlite
