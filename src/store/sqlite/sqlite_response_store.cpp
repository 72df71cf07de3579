#include "claudegate/store/sqlite/sqlite_response_store.hpp"

#include <future>

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include "claudegate/store/write_outcome.hpp"

#include "../worker.hpp"
#include "connection.hpp"
#include "database_file.hpp"
#include "pruning.hpp"
#include "response_queries.hpp"
#include "schema.hpp"
#include "turn_cache.hpp"

namespace claudegate::store::sqlite {
namespace {

// Expired turns are already invisible; pruning only gives their space back, so every 10 minutes
// is plenty. A batch that wrote more than 1/16 of the size limit prunes at once.
constexpr auto kPruneInterval = std::chrono::minutes(10);
constexpr std::int64_t kPruneAfterFraction = 16;
// Parsed items of the most recently read turns kept for Conversation and Items (turn_cache.hpp),
// counted in bytes of their JSON text.
constexpr std::size_t kTurnCacheBytes = 64U * 1024U * 1024U;
// Group commit: the first turn queued waits this long for others to join its transaction, so that
// under load a commit (its locks, WAL frames and syscalls) is shared by many turns
// (docs/performance.md, "Stored responses"). Reads drain the queue first, so a lookup never misses
// a turn saved before it; a kill -9 loses at most this window of turns, never a half-written one.
constexpr auto kWriteDelay = std::chrono::milliseconds(10);

}  // namespace

struct SqliteResponseStore::Database {
  Database(const std::string& path, const net::io_context::executor_type& executor)
      : connection(path), timer(executor), write_timer(executor) {
    PrepareDatabase(connection);
    queries = std::make_unique<ResponseQueries>(connection);
  }
  Connection connection;
  std::unique_ptr<ResponseQueries> queries;
  net::steady_timer timer;        ///< The periodic pruning pass.
  net::steady_timer write_timer;  ///< Group commit (kWriteDelay).
  TurnCache cache{kTurnCacheBytes};
};

SqliteResponseStore::SqliteResponseStore(const config::Store& settings,
                                         metrics::GatewayMetrics& metrics, UnixClock now)
    : settings_(settings),
      metrics_(metrics),
      now_(std::move(now)),
      worker_(std::make_unique<Worker>()) {}

std::shared_ptr<SqliteResponseStore> SqliteResponseStore::Open(const config::Store& settings,
                                                               metrics::GatewayMetrics& metrics,
                                                               UnixClock now, std::string& error) {
  std::shared_ptr<SqliteResponseStore> store(
      new SqliteResponseStore(settings, metrics, std::move(now)));
  // Start-up only: wait for the worker to open the file, so that a failure is known here.
  std::promise<std::optional<std::string>> opened;
  auto result = opened.get_future();
  net::post(store->worker_->executor(), [&store, &opened] {
    try {
      store->OpenDatabase();
      opened.set_value(std::nullopt);
    } catch (const std::exception& e) {
      store->db_.reset();
      opened.set_value(std::string(e.what()));
    }
  });
  if (auto failure = result.get()) {
    error = std::move(*failure);
    return nullptr;
  }
  return store;
}

SqliteResponseStore::~SqliteResponseStore() {
  net::post(worker_->executor(), [this] {
    stopping_ = true;
    if (db_) {
      DrainPending();
      db_->timer.cancel();
      db_->write_timer.cancel();
    }
  });
  worker_->Stop();
}

void SqliteResponseStore::OpenDatabase() {
  db_ = std::make_unique<Database>(CreateDatabaseFile(settings_), worker_->executor());
  PruneNow();
  SchedulePrune();
}

std::string_view SqliteResponseStore::Describe(Operation operation) {
  switch (operation) {
    case Operation::kWrite:
      return "writing stored responses";
    case Operation::kRead:
      return "reading stored responses";
    case Operation::kPrune:
      return "pruning stored responses";
  }
  return "using the database";
}

std::int64_t SqliteResponseStore::Cutoff() const {
  return now_() - settings_.responses_ttl.count();
}

void SqliteResponseStore::Save(StoredResponse response) {
  bool post = false;
  bool dropped = false;
  try {
    const std::lock_guard lock(mutex_);
    if (pending_.size() >= settings_.max_queued_writes) {
      dropped = true;
    } else {
      pending_.push_back(std::move(response));
      post = !drain_posted_;
      drain_posted_ = true;
    }
  } catch (const std::exception&) {
    dropped = true;  // out of memory: the reply still goes out
  }
  if (dropped) {
    metrics_.store_writes.Add({std::string(Label(WriteOutcome::kDropped))});
    if (!queue_full_logged_.exchange(true)) {
      spdlog::warn(
          "stored responses: {} turns are waiting to be written; further turns are dropped "
          "(counted in claudegate_store_writes_total) until the store catches up",
          settings_.max_queued_writes);
    }
    return;
  }
  if (post) {
    net::post(worker_->executor(), [this] { ScheduleDrain(); });
  }
}

void SqliteResponseStore::ScheduleDrain() {
  if (stopping_ || !db_) {
    return;
  }
  // Re-arming cancels a wait left over from a batch a read already drained.
  db_->write_timer.expires_after(kWriteDelay);
  db_->write_timer.async_wait([this](const error_code& ec) {
    if (!ec && !stopping_) {
      DrainPending();
    }
  });
}

void SqliteResponseStore::DrainPending() {
  std::vector<StoredResponse> batch;
  {
    const std::lock_guard lock(mutex_);
    batch.swap(pending_);
    drain_posted_ = false;
  }
  if (batch.empty()) {
    return;
  }
  queue_full_logged_ = false;
  std::int64_t saved = 0;
  std::int64_t failed = 0;
  std::int64_t bytes = 0;
  std::vector<const StoredResponse*> written;
  try {
    // One transaction per batch (one WAL append), a savepoint per turn: a turn that cannot be
    // written is rolled back whole and the others still commit.
    Transaction transaction(db_->connection);
    for (auto& turn : batch) {
      db_->connection.Exec("SAVEPOINT turn");
      try {
        const auto turn_bytes =
            db_->queries->Insert(turn, turn.created_at > 0 ? turn.created_at : now_());
        bytes += turn_bytes;
        db_->connection.Exec("RELEASE turn");
        ++saved;
        written.push_back(&turn);
      } catch (const std::exception& e) {
        db_->connection.Exec("ROLLBACK TO turn");
        db_->connection.Exec("RELEASE turn");
        ++failed;
        const auto* db_error = dynamic_cast<const DbError*>(&e);
        LogFailure(Operation::kWrite, db_error != nullptr ? db_error->code() : SQLITE_MISUSE,
                   e.what());
      }
    }
    transaction.Commit();
  } catch (const DbError& e) {
    failed += saved;
    saved = 0;
    bytes = 0;
    written.clear();
    LogFailure(Operation::kWrite, e.code(), e.what());
  }
  // A turn saved again replaces the stored one; the cache fills on its next read.
  for (const auto* turn : written) {
    db_->cache.Erase(turn->id);
  }
  if (saved > 0) {
    metrics_.store_writes.Add({std::string(Label(WriteOutcome::kSaved))},
                              static_cast<double>(saved));
    if (failed == 0) {
      LogSuccess(Operation::kWrite);
    }
  }
  if (failed > 0) {
    metrics_.store_writes.Add({std::string(Label(WriteOutcome::kFailed))},
                              static_cast<double>(failed));
  }
  bytes_since_prune_ += bytes;
  const auto max_bytes = static_cast<std::int64_t>(settings_.max_size_mb) * 1024 * 1024;
  if (bytes_since_prune_ > max_bytes / kPruneAfterFraction) {
    PruneNow();
  }
}

void SqliteResponseStore::PruneNow() {
  bytes_since_prune_ = 0;
  try {
    const auto expired = PruneExpired(db_->connection, Cutoff());
    const auto size = PruneToSize(db_->connection,
                                  static_cast<std::int64_t>(settings_.max_size_mb) * 1024 * 1024);
    if (expired > 0 || size > 0) {
      db_->cache.Clear();
    }
    if (expired > 0) {
      metrics_.store_pruned.Add({"expired"}, static_cast<double>(expired));
    }
    if (size > 0) {
      metrics_.store_pruned.Add({"size"}, static_cast<double>(size));
      spdlog::info("stored responses: pruned the {} oldest turns to stay under {} MB", size,
                   settings_.max_size_mb);
    }
    LogSuccess(Operation::kPrune);
  } catch (const DbError& e) {
    LogFailure(Operation::kPrune, e.code(), e.what());
  }
}

void SqliteResponseStore::SchedulePrune() {
  db_->timer.expires_after(kPruneInterval);
  db_->timer.async_wait([this](const error_code& ec) {
    if (ec || stopping_) {
      return;
    }
    DrainPending();
    PruneNow();
    SchedulePrune();
  });
}

void SqliteResponseStore::LogFailure(Operation operation, int code, const std::string& message) {
  // Once per kind of failure until that operation works again: a full disk under load must not
  // write one line per request. The message is SQLite's (or the OS's), never stored content.
  if (failures_logged_.emplace(operation, code).second) {
    spdlog::error(
        "stored responses: {} failed: {} (the daemon keeps serving; see "
        "claudegate_store_writes_total)",
        Describe(operation), message);
  }
}

void SqliteResponseStore::LogSuccess(Operation operation) {
  bool recovered = false;
  for (auto it = failures_logged_.begin(); it != failures_logged_.end();) {
    if (it->first == operation) {
      it = failures_logged_.erase(it);
      recovered = true;
    } else {
      ++it;
    }
  }
  if (recovered) {
    spdlog::info("stored responses: {} works again", Describe(operation));
  }
}

template <typename T, typename Query>
Awaitable<Lookup<T>> SqliteResponseStore::Read(Query query) {
  return worker_->Run<Lookup<T>>([this, query = std::move(query)]() mutable {
    Lookup<T> result;
    result.status = LookupStatus::kUnavailable;
    try {
      DrainPending();  // a turn saved before this lookup is visible to it
      result = query(*db_->queries, Cutoff());
      LogSuccess(Operation::kRead);
    } catch (const DbError& e) {
      LogFailure(Operation::kRead, e.code(), e.what());
    } catch (const std::exception& e) {
      LogFailure(Operation::kRead, SQLITE_CORRUPT, e.what());  // unparsable stored JSON
    }
    return result;
  });
}

Awaitable<Lookup<nlohmann::json>> SqliteResponseStore::Get(std::string id) {
  return Read<nlohmann::json>([id = std::move(id)](ResponseQueries& queries, std::int64_t cutoff) {
    Lookup<nlohmann::json> result;
    if (auto found = queries.Get(id, cutoff)) {
      result.status = LookupStatus::kFound;
      result.value = std::move(*found);
    }
    return result;
  });
}

Awaitable<Lookup<std::vector<nlohmann::json>>> SqliteResponseStore::Conversation(std::string id) {
  return Read<std::vector<nlohmann::json>>(
      [this, id = std::move(id)](ResponseQueries& queries, std::int64_t cutoff) {
        return queries.Conversation(id, cutoff, db_->cache);
      });
}

Awaitable<Lookup<std::vector<nlohmann::json>>> SqliteResponseStore::Items(
    std::vector<std::string> ids) {
  return Read<std::vector<nlohmann::json>>(
      [this, ids = std::move(ids)](ResponseQueries& queries, std::int64_t cutoff) {
        return queries.Items(ids, cutoff, db_->cache);
      });
}

Awaitable<Lookup<ItemPage>> SqliteResponseStore::InputItems(std::string id,
                                                            std::optional<std::string> after,
                                                            std::size_t limit, ListOrder order) {
  return Read<ItemPage>([id = std::move(id), after = std::move(after), limit, order](
                            ResponseQueries& queries, std::int64_t cutoff) {
    return queries.InputItems(id, after, limit, order, cutoff);
  });
}

Awaitable<LookupStatus> SqliteResponseStore::Delete(std::string id) {
  return worker_->Run<LookupStatus>([this, id = std::move(id)] {
    try {
      DrainPending();
      const bool visible = db_->queries->Exists(id, Cutoff());
      const bool deleted = db_->queries->Delete(id);
      db_->cache.Erase(id);
      LogSuccess(Operation::kWrite);
      return deleted && visible ? LookupStatus::kFound : LookupStatus::kNotFound;
    } catch (const std::exception& e) {
      const auto* db_error = dynamic_cast<const DbError*>(&e);
      LogFailure(Operation::kWrite, db_error != nullptr ? db_error->code() : SQLITE_CORRUPT,
                 e.what());
      return LookupStatus::kUnavailable;
    }
  });
}

Awaitable<void> SqliteResponseStore::Flush() {
  return worker_->Run<void>([this] { DrainPending(); });
}

Awaitable<void> SqliteResponseStore::Prune() {
  return worker_->Run<void>([this] { PruneNow(); });
}

}  // namespace claudegate::store::sqlite
