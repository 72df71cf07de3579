// The database's settings and its schema, built by numbered migrations. Private to
// src/store/sqlite.
//
// The schema version is SQLite's `PRAGMA user_version`
// (https://www.sqlite.org/pragma.html#pragma_user_version), set in the same transaction as the
// migration it records, so a crash leaves either the old schema or the new one. The next issues
// append their migrations to the list in schema.cpp (3: API keys, 4: the usage ledger) in this same
// database file.
#pragma once

#include <cstdint>

#include "connection.hpp"

namespace claudegate::store::sqlite {

/// The version this build writes; a database with a higher one (a newer claudegate) is refused.
[[nodiscard]] std::int64_t LatestSchemaVersion();

/// Applies the connection settings (WAL, synchronous, busy timeout, foreign keys) and every
/// migration the database lacks. Idempotent; throws DbError.
void PrepareDatabase(Connection& connection);

}  // namespace claudegate::store::sqlite
