// The items of recently read turns, kept parsed in memory on the store's worker so that a
// `previous_response_id` lookup copies them instead of parsing JSON again (parsing is ~10 µs per
// 1 KB item, most of a 20-turn lookup; see bench/micro/store_bench.cpp). Filled on a turn's first
// read, never on save: saving stays cheap (docs/performance.md, "Stored responses"), and an agent
// loop reads each new turn once, then finds it here for every later turn of its conversation.
// Least recently used turns are evicted beyond a byte budget. Private to src/store/sqlite; worker
// thread only.
#pragma once

#include <cstddef>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace claudegate::store::sqlite {

class TurnCache {
 public:
  explicit TurnCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  /// Keeps turn `id`'s items (inputs then outputs); `bytes` is their serialised size. Returns
  /// them, valid until the next change of the cache (a turn larger than the budget stays until
  /// then too).
  const std::vector<nlohmann::json>* Put(const std::string& id, std::vector<nlohmann::json> items,
                                         std::size_t bytes);
  /// The items of turn `id`, or nullptr; a hit makes the turn the most recently used.
  [[nodiscard]] const std::vector<nlohmann::json>* Find(const std::string& id);
  void Erase(const std::string& id);
  void Clear();

 private:
  struct Entry {
    std::string id;
    std::vector<nlohmann::json> items;
    std::size_t bytes;
  };
  void Evict();

  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::list<Entry> entries_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace claudegate::store::sqlite
