// Shared by the store tests: a store in a temporary data directory with a clock the test moves,
// and small builders for turns. The store runs on its own worker thread; RunSync awaits it.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <sqlite3.h>

#include "claudegate/metrics/gateway_metrics.hpp"
#include "claudegate/store/make_store.hpp"

#include "support/run_sync.hpp"
#include "support/temp_dir.hpp"

namespace claudegate::store::testing {

using claudegate::testing::RunSync;
using claudegate::testing::TempDir;

inline constexpr std::int64_t kStart = 1'800'000'000;  // unix seconds, 2027

/// `{"type":"message","id":id,"content":text}`.
inline nlohmann::json Item(const std::string& id, const std::string& text = "x") {
  return {{"type", "message"}, {"id", id}, {"content", text}};
}

/// A turn with the given input and output item ids, each item's content `text`.
inline StoredResponse Turn(const std::string& id, std::optional<std::string> previous,
                           const std::vector<std::string>& inputs,
                           const std::vector<std::string>& outputs,
                           std::int64_t created_at = kStart, const std::string& text = "x") {
  nlohmann::json response = {{"id", id},
                             {"object", "response"},
                             {"created_at", created_at},
                             {"output", nlohmann::json::array()}};
  for (const auto& output : outputs) {
    response["output"].push_back(Item(output, text));
  }
  nlohmann::json input_items = nlohmann::json::array();
  for (const auto& input : inputs) {
    input_items.push_back(Item(input, text));
  }
  return MakeStoredResponse(response, input_items, std::move(previous));
}

/// The ids of `items`, in order.
inline std::vector<std::string> Ids(const std::vector<nlohmann::json>& items) {
  std::vector<std::string> ids;
  for (const auto& item : items) {
    ids.push_back(item.value("id", ""));
  }
  return ids;
}

class StoreFixture {
 public:
  StoreFixture() { settings.data_dir = dir.path() + "/data"; }

  std::shared_ptr<ResponseStore> Open() {
    return MakeResponseStore(settings, metrics, [this] { return now.load(); });
  }

  [[nodiscard]] double Writes(const std::string& outcome) const {
    return metrics.store_writes.Value({outcome});
  }

  /// `sql`'s first column as text, on a connection of the test's own (the daemon's store may be
  /// open too: WAL lets both read).
  [[nodiscard]] std::string Query(const std::string& sql) const {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(DatabasePath(settings).c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) ==
        SQLITE_OK) {
      sqlite3_stmt* statement = nullptr;
      if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
          sqlite3_step(statement) == SQLITE_ROW) {
        const auto* text = sqlite3_column_text(statement, 0);
        out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
      }
      sqlite3_finalize(statement);
    }
    sqlite3_close(db);
    return out;
  }

  TempDir dir;
  config::Store settings;
  config::ModelCatalog catalog{config::ModelCatalog::DefaultAliases()};
  metrics::GatewayMetrics metrics{catalog};
  std::atomic<std::int64_t> now{kStart};
};

}  // namespace claudegate::store::testing
