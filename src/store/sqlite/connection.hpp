// A thin RAII wrapper over one SQLite connection and its prepared statements. Private to
// src/store/sqlite; used only on the store's worker thread (one connection, one thread, so
// SQLite's own locking never sees two of our threads: https://www.sqlite.org/threadsafe.html).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace claudegate::store::sqlite {

/// A failed SQLite call: its primary result code (SQLITE_FULL, SQLITE_CORRUPT, ...) and message.
/// Thrown only on the worker thread and caught at the edge of each job.
class DbError : public std::runtime_error {
 public:
  DbError(int code, const std::string& message) : std::runtime_error(message), code_(code) {}
  [[nodiscard]] int code() const { return code_; }

 private:
  int code_;
};

/// One prepared statement, kept for the connection's life and reused (sqlite3_reset between
/// uses, through StatementUse).
class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  /// Binds `text` without copying it (SQLITE_STATIC): it must stay alive and unchanged until
  /// the use ends (StatementUse clears the bindings), which every caller's locals do.
  void Bind(int index, std::string_view text);
  void Bind(int index, std::int64_t value);
  void BindDouble(int index, double value);
  void BindNull(int index);
  /// True when a row is ready, false when the statement is done.
  bool Step();
  [[nodiscard]] std::int64_t Int(int column) const;
  [[nodiscard]] double Double(int column) const;
  [[nodiscard]] std::string_view Text(int column) const;
  [[nodiscard]] bool IsNull(int column) const;
  /// Ends the current use: a statement left mid-way would hold its read transaction open and
  /// keep WAL checkpoints from completing.
  void Reset();

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

/// Scope of one use of a Statement: reset and unbound when it ends, whatever happened.
class StatementUse {
 public:
  explicit StatementUse(Statement& statement) : statement_(statement) {}
  ~StatementUse() { statement_.Reset(); }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  Statement* operator->() { return &statement_; }

 private:
  Statement& statement_;
};

/// One open database file.
class Connection {
 public:
  /// Opens (creating when missing) the database at `path`; throws DbError.
  explicit Connection(const std::string& path);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Runs one or more statements without results.
  void Exec(const std::string& sql);
  /// The first column of the first row of `sql` (PRAGMA values), 0 when there is no row.
  [[nodiscard]] std::int64_t QueryInt(const std::string& sql);
  /// The first column of the first row of `sql` as text, empty when there is no row.
  [[nodiscard]] std::string QueryText(const std::string& sql);
  /// The rowid of the last row inserted on this connection.
  [[nodiscard]] std::int64_t LastInsertRowid() const;
  /// Rows changed by the last INSERT, UPDATE or DELETE.
  [[nodiscard]] std::int64_t Changes() const;
  [[nodiscard]] sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

/// BEGIN IMMEDIATE ... COMMIT; rolled back when the scope ends without Commit(). IMMEDIATE takes
/// the write lock up front, so a busy database fails at BEGIN (after busy_timeout), not mid-way.
class Transaction {
 public:
  explicit Transaction(Connection& connection);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void Commit();

 private:
  Connection& connection_;
  bool open_ = true;
};

/// Throws DbError for a result code other than SQLITE_OK/ROW/DONE.
void Check(sqlite3* db, int code);

}  // namespace claudegate::store::sqlite
