/// @file sqlite_response_store.hpp
/// The ResponseStore in an embedded SQLite database in the data directory (docs/configuration.md,
/// "The store"). One worker thread owns the connection and runs every query; `Save` only queues
/// (bounded) and the worker writes what has queued within a few milliseconds in one transaction
/// (group commit), each turn whole or not at all. Expired turns are invisible at once and pruned in
/// the background with the oldest turns beyond the size limit. Use MakeResponseStore()
/// (make_store.hpp) rather than this directly.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "claudegate/config/store.hpp"
#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/store/make_store.hpp"
#include "claudegate/store/response_store.hpp"

namespace claudegate::store {
class Worker;
}

namespace claudegate::store::sqlite {

class SqliteResponseStore final : public ResponseStore {
 public:
  /// Opens (creating the directory 0700 and the file 0600 when missing) and migrates the
  /// database. On failure returns nullptr and sets `error` to a loggable reason (no content).
  [[nodiscard]] static std::shared_ptr<SqliteResponseStore> Open(const config::Store& settings,
                                                                 metrics::GatewayMetrics& metrics,
                                                                 UnixClock now, std::string& error);
  /// Writes what is queued, stops the worker and closes the database.
  ~SqliteResponseStore() override;
  SqliteResponseStore(const SqliteResponseStore&) = delete;
  SqliteResponseStore& operator=(const SqliteResponseStore&) = delete;

  void Save(StoredResponse response) override;
  Awaitable<Lookup<nlohmann::json>> Get(std::string id) override;
  Awaitable<Lookup<std::vector<nlohmann::json>>> Conversation(std::string id) override;
  Awaitable<Lookup<std::vector<nlohmann::json>>> Items(std::vector<std::string> ids) override;
  Awaitable<Lookup<ItemPage>> InputItems(std::string id, std::optional<std::string> after,
                                         std::size_t limit, ListOrder order) override;
  Awaitable<LookupStatus> Delete(std::string id) override;
  Awaitable<void> Flush() override;

  /// One pruning pass now (the worker also runs one every 10 minutes and after large batches).
  Awaitable<void> Prune();

 private:
  struct Database;
  enum class Operation { kWrite, kRead, kPrune };

  SqliteResponseStore(const config::Store& settings, metrics::GatewayMetrics& metrics,
                      UnixClock now);

  [[nodiscard]] static std::string_view Describe(Operation operation);

  // Worker thread only.
  void OpenDatabase();
  void ScheduleDrain();
  void DrainPending();
  void PruneNow();
  void SchedulePrune();
  [[nodiscard]] std::int64_t Cutoff() const;
  void LogFailure(Operation operation, int code, const std::string& message);
  void LogSuccess(Operation operation);
  template <typename T, typename Query>
  Awaitable<Lookup<T>> Read(Query query);

  config::Store settings_;
  metrics::GatewayMetrics& metrics_;
  UnixClock now_;
  std::unique_ptr<Worker> worker_;

  // Shared between the io threads (Save) and the worker.
  std::mutex mutex_;
  std::vector<StoredResponse> pending_;
  bool drain_posted_ = false;
  std::atomic<bool> queue_full_logged_{false};

  // Worker thread only.
  std::unique_ptr<Database> db_;
  std::int64_t bytes_since_prune_ = 0;
  std::set<std::pair<Operation, int>> failures_logged_;
  bool stopping_ = false;
};

}  // namespace claudegate::store::sqlite
