/// @file key_registry.hpp
/// Every virtual key in memory, with what each has used (docs/keys.md): the hot path's view of
/// the key store. Lookups and limit checks never wait on the store; the store is the source of
/// truth, fed by the key routes (write, then Put here) and read back by KeepKeysInSync
/// (key_sync.hpp) when someone else changed it.
///
/// Safe on any thread: one mutex, held for a hash lookup and a few additions.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "claudegate/keys/key_limits.hpp"
#include "claudegate/keys/price_table.hpp"
#include "claudegate/store/key_record.hpp"

namespace claudegate::keys {

/// Unix seconds now; injected so the tests of limits never sleep.
using Clock = std::function<std::int64_t()>;

class KeyRegistry {
 public:
  explicit KeyRegistry(Clock now);

  /// The token of `presented` when it is a known key, whatever its standing.
  [[nodiscard]] std::optional<std::string> Find(std::string_view presented) const;

  /// The key's alias, or its key_name when it has none (for logs and metrics).
  [[nodiscard]] std::string Label(const std::string& token) const;

  /// Blocked or expired: a refusal decided from the header. An unknown token (deleted since)
  /// is refused as invalid.
  [[nodiscard]] std::optional<KeyRefusal> CheckStanding(const std::string& token) const;

  /// True when the key may call only some models: then Admit() needs the model asked for.
  [[nodiscard]] bool RestrictsModels(const std::string& token) const;

  /// Model (unless `requested_model` is empty) and limits; when nullopt the request is counted
  /// as in flight until Finish().
  [[nodiscard]] std::optional<KeyRefusal> Admit(const std::string& token,
                                                std::string_view requested_model,
                                                std::string_view resolved_model);

  /// The admitted request ended; `model` is the Anthropic id it used (for the price).
  void Finish(const std::string& token, std::string_view model, const TokenCounts& tokens);

  /// A copy of the key as it stands now (spend included).
  [[nodiscard]] std::optional<store::KeyRecord> Get(const std::string& token) const;
  [[nodiscard]] std::vector<store::KeyRecord> List() const;

  /// Adds a key or replaces its definition (what the store now holds). Its usage and the spend
  /// counted here are kept.
  void Put(store::KeyRecord record);
  void Remove(const std::vector<std::string>& tokens);

  /// The store's keys replace the definitions held here; keys gone from the store go. Spends
  /// this process counted are kept (it writes them; the store's may be a second older).
  void ReplaceAll(std::vector<store::KeyRecord> records);

  /// The spends changed since the last call (KeepKeysInSync writes them).
  [[nodiscard]] std::vector<store::KeySpend> TakeChangedSpends();
  /// Marks `spends` changed again (their write failed).
  void RestoreChangedSpends(const std::vector<store::KeySpend>& spends);

  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    store::KeyRecord record;
    KeyUsage usage;
    bool spend_changed = false;
  };

  Clock now_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace claudegate::keys
