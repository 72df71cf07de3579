#include "connection.hpp"

#include <sqlite3.h>

namespace claudegate::store::sqlite {

void Check(sqlite3* db, int code) {
  if (code == SQLITE_OK || code == SQLITE_ROW || code == SQLITE_DONE) {
    return;
  }
  // The message names the failure (disk full, malformed image, ...), never a bound value.
  const std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  throw DbError(code & 0xff, message);
}

Statement::Statement(sqlite3* db, std::string_view sql) : db_(db) {
  // PERSISTENT: these statements live as long as the connection
  // (https://www.sqlite.org/c3ref/c_prepare_normalize.html).
  Check(db_, sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr));
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::Bind(int index, std::string_view text) {
  // A null pointer would bind SQL NULL, not the empty text.
  const char* data = text.data() != nullptr ? text.data() : "";
  Check(db_, sqlite3_bind_text(stmt_, index, data, static_cast<int>(text.size()), SQLITE_STATIC));
}

void Statement::Bind(int index, std::int64_t value) {
  Check(db_, sqlite3_bind_int64(stmt_, index, value));
}

void Statement::BindDouble(int index, double value) {
  Check(db_, sqlite3_bind_double(stmt_, index, value));
}

void Statement::BindNull(int index) { Check(db_, sqlite3_bind_null(stmt_, index)); }

bool Statement::Step() {
  const int code = sqlite3_step(stmt_);
  Check(db_, code);
  return code == SQLITE_ROW;
}

std::int64_t Statement::Int(int column) const { return sqlite3_column_int64(stmt_, column); }

double Statement::Double(int column) const { return sqlite3_column_double(stmt_, column); }

std::string_view Statement::Text(int column) const {
  const auto* text = sqlite3_column_text(stmt_, column);
  const int size = sqlite3_column_bytes(stmt_, column);
  if (text == nullptr) {
    return {};
  }
  return {reinterpret_cast<const char*>(text), static_cast<std::size_t>(size)};
}

bool Statement::IsNull(int column) const {
  return sqlite3_column_type(stmt_, column) == SQLITE_NULL;
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Connection::Connection(const std::string& path) {
  // NOMUTEX: the connection is used by one thread only (the store's worker).
  const int code =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (code != SQLITE_OK) {
    const std::string message = db_ != nullptr ? sqlite3_errmsg(db_) : sqlite3_errstr(code);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    throw DbError(code & 0xff, message);
  }
  sqlite3_extended_result_codes(db_, 1);
}

Connection::~Connection() { sqlite3_close_v2(db_); }

void Connection::Exec(const std::string& sql) {
  Check(db_, sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr));
}

std::int64_t Connection::QueryInt(const std::string& sql) {
  Statement statement(db_, sql);
  return statement.Step() ? statement.Int(0) : 0;
}

std::string Connection::QueryText(const std::string& sql) {
  Statement statement(db_, sql);
  return statement.Step() ? std::string(statement.Text(0)) : std::string();
}

std::int64_t Connection::LastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }

std::int64_t Connection::Changes() const { return sqlite3_changes64(db_); }

Transaction::Transaction(Connection& connection) : connection_(connection) {
  connection_.Exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction() {
  if (open_) {
    sqlite3_exec(connection_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void Transaction::Commit() {
  connection_.Exec("COMMIT");
  open_ = false;
}

}  // namespace claudegate::store::sqlite
