#include "claudegate/store/sqlite/sqlite_key_store.hpp"

#include <future>

#include <spdlog/spdlog.h>

#include "../worker.hpp"
#include "connection.hpp"
#include "database_file.hpp"
#include "key_queries.hpp"
#include "schema.hpp"

namespace claudegate::store::sqlite {

struct SqliteKeyStore::Database {
  explicit Database(const std::string& path) : connection(path) {
    PrepareDatabase(connection);
    queries = std::make_unique<KeyQueries>(connection);
  }
  Connection connection;
  std::unique_ptr<KeyQueries> queries;
};

namespace {

// Every job ends here on a database failure: logged (code and SQLite's message, never a key),
// and reported as "unavailable" to the caller.
void LogFailure(const char* operation, const std::exception& e) {
  spdlog::error("key store: {} failed: {}", operation, e.what());
}

}  // namespace

SqliteKeyStore::SqliteKeyStore() : worker_(std::make_unique<Worker>()) {}

SqliteKeyStore::~SqliteKeyStore() {
  worker_->Stop();  // lets queued jobs finish; the connection closes after
}

std::shared_ptr<SqliteKeyStore> SqliteKeyStore::Open(const config::Store& settings,
                                                     std::string& error) {
  std::shared_ptr<SqliteKeyStore> store(new SqliteKeyStore());
  try {
    // At start-up, on the caller's thread; from then on only the worker uses the connection
    // (SQLite allows a connection to move between threads used one at a time:
    // https://www.sqlite.org/threadsafe.html).
    store->db_ = std::make_unique<Database>(CreateDatabaseFile(settings));
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
  return store;
}

std::vector<KeyRecord> SqliteKeyStore::AllNow() { return db_->queries->All(); }

Awaitable<Lookup<std::vector<KeyRecord>>> SqliteKeyStore::All() {
  return worker_->Run<Lookup<std::vector<KeyRecord>>>([this]() -> Lookup<std::vector<KeyRecord>> {
    try {
      return {LookupStatus::kFound, db_->queries->All()};
    } catch (const std::exception& e) {
      LogFailure("reading keys", e);
      return {LookupStatus::kUnavailable, {}};
    }
  });
}

Awaitable<KeyWrite> SqliteKeyStore::Put(KeyRecord record, bool create) {
  return worker_->Run<KeyWrite>([this, record = std::move(record), create]() -> KeyWrite {
    try {
      return db_->queries->Put(record, create);
    } catch (const std::exception& e) {
      LogFailure("writing a key", e);
      return KeyWrite::kUnavailable;
    }
  });
}

Awaitable<Lookup<std::vector<std::string>>> SqliteKeyStore::Delete(
    std::vector<std::string> tokens) {
  return worker_->Run<Lookup<std::vector<std::string>>>(
      [this, tokens = std::move(tokens)]() -> Lookup<std::vector<std::string>> {
        try {
          return {LookupStatus::kFound, db_->queries->Delete(tokens)};
        } catch (const std::exception& e) {
          LogFailure("deleting keys", e);
          return {LookupStatus::kUnavailable, {}};
        }
      });
}

Awaitable<bool> SqliteKeyStore::SaveSpends(std::vector<KeySpend> spends) {
  return worker_->Run<bool>([this, spends = std::move(spends)]() -> bool {
    try {
      db_->queries->SaveSpends(spends);
      return true;
    } catch (const std::exception& e) {
      LogFailure("writing spend", e);
      return false;
    }
  });
}

bool SqliteKeyStore::SaveSpendsNow(std::vector<KeySpend> spends) {
  std::promise<bool> written;
  auto result = written.get_future();
  net::post(worker_->executor(), [this, &spends, &written] {
    try {
      db_->queries->SaveSpends(spends);
      written.set_value(true);
    } catch (const std::exception& e) {
      LogFailure("writing spend", e);
      written.set_value(false);
    }
  });
  return result.get();
}

Awaitable<std::optional<std::int64_t>> SqliteKeyStore::Version() {
  return worker_->Run<std::optional<std::int64_t>>([this]() -> std::optional<std::int64_t> {
    try {
      return db_->queries->Version();
    } catch (const std::exception& e) {
      LogFailure("reading the key version", e);
      return std::nullopt;
    }
  });
}

}  // namespace claudegate::store::sqlite
