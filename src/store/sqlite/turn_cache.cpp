#include "turn_cache.hpp"

namespace claudegate::store::sqlite {

const std::vector<nlohmann::json>* TurnCache::Put(const std::string& id,
                                                  std::vector<nlohmann::json> items,
                                                  std::size_t bytes) {
  Erase(id);
  entries_.push_front(Entry{id, std::move(items), bytes});
  index_[id] = entries_.begin();
  bytes_ += bytes;
  Evict();
  return &entries_.front().items;
}

const std::vector<nlohmann::json>* TurnCache::Find(const std::string& id) {
  const auto it = index_.find(id);
  if (it == index_.end()) {
    return nullptr;
  }
  entries_.splice(entries_.begin(), entries_, it->second);
  return &it->second->items;
}

void TurnCache::Erase(const std::string& id) {
  const auto it = index_.find(id);
  if (it == index_.end()) {
    return;
  }
  bytes_ -= it->second->bytes;
  entries_.erase(it->second);
  index_.erase(it);
}

void TurnCache::Clear() {
  entries_.clear();
  index_.clear();
  bytes_ = 0;
}

void TurnCache::Evict() {
  while (bytes_ > max_bytes_ && entries_.size() > 1) {  // never the turn just put
    bytes_ -= entries_.back().bytes;
    index_.erase(entries_.back().id);
    entries_.pop_back();
  }
}

}  // namespace claudegate::store::sqlite
