// The `keys` table's statements (migration 3 in schema.cpp), synchronous on one connection:
// SqliteKeyStore runs them on its worker thread, `claudegate key …` (src/keys/key_command.cpp)
// directly from the shell. Private to src/store and src/keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "claudegate/store/key_record.hpp"
#include "claudegate/store/key_store.hpp"

#include "connection.hpp"

namespace claudegate::store::sqlite {

class KeyQueries {
 public:
  explicit KeyQueries(Connection& connection);

  /// Every key, oldest first.
  [[nodiscard]] std::vector<KeyRecord> All();
  [[nodiscard]] std::optional<KeyRecord> Find(const std::string& token);
  /// Inserts a new key (`create`) or replaces the definition of a stored one (its spend and
  /// `created_at` are kept unless `record` sets them), and bumps the version. One transaction.
  KeyWrite Put(const KeyRecord& record, bool create);
  /// Deletes each token that is stored; returns those that were. Bumps the version.
  std::vector<std::string> Delete(const std::vector<std::string>& tokens);
  /// Writes spends (no version bump: a spend is not a definition change). One transaction.
  void SaveSpends(const std::vector<KeySpend>& spends);
  /// Counts definition changes by anyone sharing the database.
  [[nodiscard]] std::int64_t Version();

 private:
  void BumpVersion();

  Connection& connection_;
  Statement all_;
  Statement find_;
  Statement insert_;
  Statement update_;
  Statement delete_;
  Statement spend_;
  Statement version_;
  Statement bump_;
};

}  // namespace claudegate::store::sqlite
