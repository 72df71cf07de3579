#include "key_queries.hpp"

#include <nlohmann/json.hpp>

namespace claudegate::store::sqlite {
namespace {

constexpr const char* kColumns =
    "token, key_name, key_alias, models, rpm_limit, tpm_limit, max_parallel_requests, "
    "max_budget, budget_duration, budget_reset_at, spend, expires_at, blocked, metadata, "
    "created_at, updated_at";

std::string Select(const std::string& where) {
  return std::string("SELECT ") + kColumns + " FROM keys " + where;
}

std::optional<std::int64_t> OptionalInt(Statement& row, int column) {
  return row.IsNull(column) ? std::nullopt : std::optional<std::int64_t>(row.Int(column));
}

std::vector<std::string> ModelsFromText(std::string_view text) {
  std::vector<std::string> models;
  const auto parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_array()) {
    for (const auto& model : parsed) {
      if (model.is_string()) {
        models.push_back(model.get<std::string>());
      }
    }
  }
  return models;
}

KeyRecord ReadRecord(Statement& row) {
  KeyRecord record;
  record.token = row.Text(0);
  record.key_name = row.Text(1);
  if (!row.IsNull(2)) {
    record.alias = std::string(row.Text(2));
  }
  record.models = ModelsFromText(row.Text(3));
  record.rpm_limit = OptionalInt(row, 4);
  record.tpm_limit = OptionalInt(row, 5);
  record.max_parallel_requests = OptionalInt(row, 6);
  if (!row.IsNull(7)) {
    record.max_budget = row.Double(7);
  }
  record.budget_duration = OptionalInt(row, 8);
  record.budget_reset_at = OptionalInt(row, 9);
  record.spend = row.Double(10);
  record.expires_at = OptionalInt(row, 11);
  record.blocked = row.Int(12) != 0;
  record.metadata = row.Text(13);
  record.created_at = row.Int(14);
  record.updated_at = row.Int(15);
  return record;
}

void BindOptional(Statement& statement, int index, const std::optional<std::int64_t>& value) {
  if (value) {
    statement.Bind(index, *value);
  } else {
    statement.BindNull(index);
  }
}

// Binds ?1..?16 in kColumns' order; `models_text` must outlive the use (SQLITE_STATIC).
void BindRecord(Statement& statement, const KeyRecord& record, const std::string& models_text) {
  statement.Bind(1, record.token);
  statement.Bind(2, record.key_name);
  if (record.alias) {
    statement.Bind(3, *record.alias);
  } else {
    statement.BindNull(3);
  }
  statement.Bind(4, models_text);
  BindOptional(statement, 5, record.rpm_limit);
  BindOptional(statement, 6, record.tpm_limit);
  BindOptional(statement, 7, record.max_parallel_requests);
  if (record.max_budget) {
    statement.BindDouble(8, *record.max_budget);
  } else {
    statement.BindNull(8);
  }
  BindOptional(statement, 9, record.budget_duration);
  BindOptional(statement, 10, record.budget_reset_at);
  statement.BindDouble(11, record.spend);
  BindOptional(statement, 12, record.expires_at);
  statement.Bind(13, static_cast<std::int64_t>(record.blocked ? 1 : 0));
  statement.Bind(14, record.metadata);
  statement.Bind(15, record.created_at);
  statement.Bind(16, record.updated_at);
}

}  // namespace

KeyQueries::KeyQueries(Connection& connection)
    : connection_(connection),
      all_(connection.get(), Select("ORDER BY created_at, token")),
      find_(connection.get(), Select("WHERE token = ?1")),
      insert_(connection.get(),
              std::string("INSERT INTO keys (") + kColumns +
                  ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                  "?16)"),
      update_(connection.get(),
              "UPDATE keys SET key_name = ?2, key_alias = ?3, models = ?4, rpm_limit = ?5, "
              "tpm_limit = ?6, max_parallel_requests = ?7, max_budget = ?8, "
              "budget_duration = ?9, budget_reset_at = ?10, spend = ?11, expires_at = ?12, "
              "blocked = ?13, metadata = ?14, created_at = ?15, updated_at = ?16 "
              "WHERE token = ?1"),
      delete_(connection.get(), "DELETE FROM keys WHERE token = ?1"),
      spend_(connection.get(), "UPDATE keys SET spend = ?2, budget_reset_at = ?3 WHERE token = ?1"),
      version_(connection.get(), "SELECT n FROM key_version WHERE id = 1"),
      bump_(connection.get(), "UPDATE key_version SET n = n + 1 WHERE id = 1") {}

std::vector<KeyRecord> KeyQueries::All() {
  std::vector<KeyRecord> records;
  StatementUse use(all_);
  while (use->Step()) {
    records.push_back(ReadRecord(all_));
  }
  return records;
}

std::optional<KeyRecord> KeyQueries::Find(const std::string& token) {
  StatementUse use(find_);
  use->Bind(1, token);
  if (!use->Step()) {
    return std::nullopt;
  }
  return ReadRecord(find_);
}

KeyWrite KeyQueries::Put(const KeyRecord& record, bool create) {
  Transaction transaction(connection_);
  if (record.alias) {
    // The UNIQUE constraint would say so too, but as an error code shared with other failures.
    Statement taken(connection_.get(), "SELECT 1 FROM keys WHERE key_alias = ?1 AND token <> ?2");
    StatementUse use(taken);
    use->Bind(1, *record.alias);
    use->Bind(2, record.token);
    if (use->Step()) {
      return KeyWrite::kAliasTaken;
    }
  }
  const std::string models_text = nlohmann::json(record.models).dump();
  Statement& statement = create ? insert_ : update_;
  {
    StatementUse use(statement);
    BindRecord(statement, record, models_text);
    use->Step();
  }
  if (!create && connection_.Changes() == 0) {
    return KeyWrite::kNotFound;
  }
  BumpVersion();
  transaction.Commit();
  return KeyWrite::kDone;
}

std::vector<std::string> KeyQueries::Delete(const std::vector<std::string>& tokens) {
  Transaction transaction(connection_);
  std::vector<std::string> deleted;
  for (const auto& token : tokens) {
    StatementUse use(delete_);
    use->Bind(1, token);
    use->Step();
    if (connection_.Changes() > 0) {
      deleted.push_back(token);
    }
  }
  if (!deleted.empty()) {
    BumpVersion();
  }
  transaction.Commit();
  return deleted;
}

void KeyQueries::SaveSpends(const std::vector<KeySpend>& spends) {
  Transaction transaction(connection_);
  for (const auto& spend : spends) {
    StatementUse use(spend_);
    use->Bind(1, spend.token);
    use->BindDouble(2, spend.spend);
    BindOptional(spend_, 3, spend.budget_reset_at);
    use->Step();
  }
  transaction.Commit();
}

std::int64_t KeyQueries::Version() {
  StatementUse use(version_);
  return use->Step() ? version_.Int(0) : 0;
}

void KeyQueries::BumpVersion() {
  StatementUse use(bump_);
  use->Step();
}

}  // namespace claudegate::store::sqlite
