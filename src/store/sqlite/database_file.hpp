// Where the store's database file is and how it is created: private to the daemon's user (a 0700
// directory, a 0600 file) before SQLite first opens it. Shared by the stores of src/store/sqlite
// and `claudegate key …`.
#pragma once

#include <string>

#include "claudegate/config/store.hpp"

namespace claudegate::store::sqlite {

/// Creates the data directory (mkdir -p, 0700 for what it creates) and the database file (0600)
/// when missing; returns the file's path. Throws DbError when either cannot be created.
std::string CreateDatabaseFile(const config::Store& settings);

}  // namespace claudegate::store::sqlite
