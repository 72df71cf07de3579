// A store's own SQLite connection on its own worker thread, for the stores that share the
// database file with the response store (keys, the usage ledger): opened (created, migrated) on
// the caller's thread at start-up, used only on the worker after that (SQLite allows a
// connection to move between threads used one at a time: https://www.sqlite.org/threadsafe.html).
// Every job catches its own database errors, logs them under the store's name (never a key or
// row content: SQLite's message only) and answers `failed`. Private to src/store/sqlite.
#pragma once

#include <exception>
#include <future>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

#include "claudegate/config/store.hpp"

#include "../worker.hpp"
#include "connection.hpp"
#include "database_file.hpp"
#include "schema.hpp"

namespace claudegate::store::sqlite {

template <typename Queries>
class OwnConnection {
 public:
  /// Opens the database file of `settings`; nullptr and `error` on failure. `name` labels logs.
  static std::unique_ptr<OwnConnection> Open(const config::Store& settings, const char* name,
                                             std::string& error) {
    std::unique_ptr<OwnConnection> own(new OwnConnection(name));
    try {
      own->connection_ = std::make_unique<Connection>(CreateDatabaseFile(settings));
      PrepareDatabase(*own->connection_);
      own->queries_ = std::make_unique<Queries>(*own->connection_);
    } catch (const std::exception& e) {
      error = e.what();
      return nullptr;
    }
    return own;
  }

  /// Lets queued jobs finish; the connection closes after.
  ~OwnConnection() { worker_.Stop(); }
  OwnConnection(const OwnConnection&) = delete;
  OwnConnection& operator=(const OwnConnection&) = delete;

  /// The queries on the caller's thread: start-up only, before any job.
  Queries& queries_at_start() { return *queries_; }

  /// Runs `job(queries)` on the worker; `failed` when it throws (logged as `operation`).
  template <typename R, typename F>
  Awaitable<R> Run(const char* operation, R failed, F job) {
    return worker_.Run<R>([this, operation, failed = std::move(failed), job = std::move(job)]() {
      try {
        return job(*queries_);
      } catch (const std::exception& e) {
        LogFailure(operation, e);
        return failed;
      }
    });
  }

  /// The same, blocking the calling thread (shutdown, when the io threads have stopped). Not
  /// from the worker itself.
  template <typename R, typename F>
  R RunNow(const char* operation, R failed, F job) {
    std::promise<R> done;
    auto result = done.get_future();
    net::post(worker_.executor(), [&] {
      try {
        done.set_value(job(*queries_));
      } catch (const std::exception& e) {
        LogFailure(operation, e);
        done.set_value(failed);
      }
    });
    return result.get();
  }

 private:
  explicit OwnConnection(const char* name) : name_(name) {}

  void LogFailure(const char* operation, const std::exception& e) const {
    spdlog::error("{}: {} failed: {}", name_, operation, e.what());
  }

  const char* name_;
  Worker worker_;
  std::unique_ptr<Connection> connection_;  // the worker's only, after Open
  std::unique_ptr<Queries> queries_;
};

}  // namespace claudegate::store::sqlite
