#include "claudegate/store/sqlite/sqlite_key_store.hpp"

#include "key_queries.hpp"
#include "own_connection.hpp"

namespace claudegate::store::sqlite {

struct SqliteKeyStore::Database {
  std::unique_ptr<OwnConnection<KeyQueries>> own;
};

SqliteKeyStore::SqliteKeyStore() : db_(std::make_unique<Database>()) {}

SqliteKeyStore::~SqliteKeyStore() = default;

std::shared_ptr<SqliteKeyStore> SqliteKeyStore::Open(const config::Store& settings,
                                                     std::string& error) {
  std::shared_ptr<SqliteKeyStore> store(new SqliteKeyStore());
  store->db_->own = OwnConnection<KeyQueries>::Open(settings, "key store", error);
  return store->db_->own ? store : nullptr;
}

std::vector<KeyRecord> SqliteKeyStore::AllNow() { return db_->own->queries_at_start().All(); }

Awaitable<Lookup<std::vector<KeyRecord>>> SqliteKeyStore::All() {
  using Answer = Lookup<std::vector<KeyRecord>>;
  return db_->own->Run("reading keys", Answer{LookupStatus::kUnavailable, {}},
                       [](KeyQueries& queries) {
                         return Answer{LookupStatus::kFound, queries.All()};
                       });
}

Awaitable<KeyWrite> SqliteKeyStore::Put(KeyRecord record, bool create) {
  return db_->own->Run("writing a key", KeyWrite::kUnavailable,
                       [record = std::move(record), create](KeyQueries& queries) {
                         return queries.Put(record, create);
                       });
}

Awaitable<Lookup<std::vector<std::string>>> SqliteKeyStore::Delete(
    std::vector<std::string> tokens) {
  using Answer = Lookup<std::vector<std::string>>;
  return db_->own->Run("deleting keys", Answer{LookupStatus::kUnavailable, {}},
                       [tokens = std::move(tokens)](KeyQueries& queries) {
                         return Answer{LookupStatus::kFound, queries.Delete(tokens)};
                       });
}

Awaitable<bool> SqliteKeyStore::SaveSpends(std::vector<KeySpend> spends) {
  return db_->own->Run("writing spend", false, [spends = std::move(spends)](KeyQueries& queries) {
    queries.SaveSpends(spends);
    return true;
  });
}

bool SqliteKeyStore::SaveSpendsNow(std::vector<KeySpend> spends) {
  return db_->own->RunNow("writing spend", false, [&spends](KeyQueries& queries) {
    queries.SaveSpends(spends);
    return true;
  });
}

Awaitable<std::optional<std::int64_t>> SqliteKeyStore::Version() {
  return db_->own->Run(
      "reading the key version", std::optional<std::int64_t>(),
      [](KeyQueries& queries) { return std::optional<std::int64_t>(queries.Version()); });
}

}  // namespace claudegate::store::sqlite
