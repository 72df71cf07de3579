/// @file sqlite_key_store.hpp
/// The KeyStore in the same SQLite database as stored responses (docs/keys.md), on its own
/// connection and worker thread: key writes are rare (an administrator's calls, a spend flush a
/// second), and WAL lets them share the file with the response store's writer
/// (https://www.sqlite.org/wal.html). Use MakeKeyStore() (make_store.hpp).
#pragma once

#include <memory>
#include <string>

#include "claudegate/config/store.hpp"
#include "claudegate/store/key_store.hpp"

namespace claudegate::store::sqlite {

class SqliteKeyStore final : public KeyStore {
 public:
  /// Opens (creating and migrating when needed) the database; nullptr and `error` on failure.
  [[nodiscard]] static std::shared_ptr<SqliteKeyStore> Open(const config::Store& settings,
                                                            std::string& error);
  ~SqliteKeyStore() override;
  SqliteKeyStore(const SqliteKeyStore&) = delete;
  SqliteKeyStore& operator=(const SqliteKeyStore&) = delete;

  /// Every key, read on the caller's thread: start-up only, before any other call, so the
  /// daemon knows its keys before it accepts a connection.
  [[nodiscard]] std::vector<KeyRecord> AllNow();

  Awaitable<Lookup<std::vector<KeyRecord>>> All() override;
  Awaitable<KeyWrite> Put(KeyRecord record, bool create) override;
  Awaitable<Lookup<std::vector<std::string>>> Delete(std::vector<std::string> tokens) override;
  Awaitable<bool> SaveSpends(std::vector<KeySpend> spends) override;
  bool SaveSpendsNow(std::vector<KeySpend> spends) override;
  Awaitable<std::optional<std::int64_t>> Version() override;

 private:
  struct Database;
  SqliteKeyStore();

  std::unique_ptr<Database> db_;  // its connection and worker
};

}  // namespace claudegate::store::sqlite
