#include "claudegate/keys/key_registry.hpp"

#include <algorithm>

#include "claudegate/keys/key_text.hpp"

namespace claudegate::keys {

namespace {

// A token the registry no longer holds: the key was deleted after the header was checked.
KeyRefusal DeletedKey() {
  return KeyRefusal{
      Error(ErrorKind::kAuthentication, "Invalid API key: it was deleted.", {}, "invalid_api_key"),
      "key_deleted", std::nullopt};
}

}  // namespace

KeyRegistry::KeyRegistry(Clock now) : now_(std::move(now)) {}

std::optional<std::string> KeyRegistry::Find(std::string_view presented) const {
  // Hashing first and looking the digest up means the table never compares the secret itself;
  // timing can tell at most which digests exist, which reveals nothing about any key.
  std::string token = TokenOf(presented);
  const std::lock_guard lock(mutex_);
  if (!entries_.contains(token)) {
    return std::nullopt;
  }
  return token;
}

std::string KeyRegistry::Label(const std::string& token) const {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) {
    return {};
  }
  const auto& record = found->second.record;
  return record.alias ? *record.alias : record.key_name;
}

std::optional<KeyRefusal> KeyRegistry::CheckStanding(const std::string& token) const {
  const std::int64_t now = now_();
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) {
    return DeletedKey();
  }
  return keys::CheckStanding(found->second.record, now);
}

bool KeyRegistry::RestrictsModels(const std::string& token) const {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  return found != entries_.end() && !AllowsModel(found->second.record, "", "");
}

std::optional<KeyRefusal> KeyRegistry::Admit(const std::string& token,
                                             std::string_view requested_model,
                                             std::string_view resolved_model) {
  const std::int64_t now = now_();
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) {
    return DeletedKey();
  }
  Entry& entry = found->second;
  if (auto refusal = keys::CheckStanding(entry.record, now)) {
    return refusal;
  }
  if (!requested_model.empty() && !AllowsModel(entry.record, requested_model, resolved_model)) {
    return KeyRefusal{Error(
                          ErrorKind::kPermission,
                          "This API key may not use model '" + std::string(requested_model) +
                              "'. Its models are: " +
                              [&] {
                                std::string list;
                                for (const auto& model : entry.record.models) {
                                  list += (list.empty() ? "" : ", ") + model;
                                }
                                return list;
                              }() +
                              ".",
                          "model", "key_model_not_allowed"),
                      "key_model_not_allowed", std::nullopt};
  }
  const double spend_before = entry.record.spend;
  auto refusal = keys::Admit(entry.record, entry.usage, now);
  if (entry.record.spend != spend_before) {
    entry.spend_changed = true;  // a budget period ended
  }
  return refusal;
}

void KeyRegistry::Finish(const std::string& token, std::string_view model,
                         const TokenCounts& tokens) {
  const std::int64_t now = now_();
  const double cost = CostUsd(model, tokens);
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) {
    return;  // deleted while the request ran
  }
  Entry& entry = found->second;
  keys::Finish(entry.record, entry.usage,
               tokens.input + tokens.output + tokens.cache_read + tokens.cache_write, cost, now);
  entry.spend_changed = true;
}

std::optional<store::KeyRecord> KeyRegistry::Get(const std::string& token) const {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) {
    return std::nullopt;
  }
  return found->second.record;
}

std::vector<store::KeyRecord> KeyRegistry::List() const {
  std::vector<store::KeyRecord> records;
  {
    const std::lock_guard lock(mutex_);
    records.reserve(entries_.size());
    for (const auto& [token, entry] : entries_) {
      records.push_back(entry.record);
    }
  }
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) {
    return std::tie(a.created_at, a.token) < std::tie(b.created_at, b.token);
  });
  return records;
}

void KeyRegistry::Put(store::KeyRecord record) {
  const std::lock_guard lock(mutex_);
  const auto known = entries_.find(record.token);
  if (known != entries_.end()) {
    // Requests that ended since the caller read the key have added to this spend.
    record.spend = known->second.record.spend;
    known->second.record = std::move(record);
    return;
  }
  std::string token = record.token;
  entries_[std::move(token)].record = std::move(record);
}

void KeyRegistry::Remove(const std::vector<std::string>& tokens) {
  const std::lock_guard lock(mutex_);
  for (const auto& token : tokens) {
    entries_.erase(token);
  }
}

void KeyRegistry::ReplaceAll(std::vector<store::KeyRecord> records) {
  const std::lock_guard lock(mutex_);
  std::unordered_map<std::string, Entry> next;
  next.reserve(records.size());
  for (auto& record : records) {
    const auto known = entries_.find(record.token);
    Entry entry;
    if (known != entries_.end()) {
      entry.usage = known->second.usage;
      entry.spend_changed = known->second.spend_changed;
      // This process writes the spend it counts; the store's copy may be a flush behind.
      record.spend = known->second.record.spend;
      record.budget_reset_at = known->second.record.budget_reset_at;
    }
    entry.record = std::move(record);
    std::string token = entry.record.token;
    next.emplace(std::move(token), std::move(entry));
  }
  entries_ = std::move(next);
}

std::vector<store::KeySpend> KeyRegistry::TakeChangedSpends() {
  std::vector<store::KeySpend> spends;
  const std::lock_guard lock(mutex_);
  for (auto& [token, entry] : entries_) {
    if (entry.spend_changed) {
      spends.push_back({token, entry.record.spend, entry.record.budget_reset_at});
      entry.spend_changed = false;
    }
  }
  return spends;
}

void KeyRegistry::RestoreChangedSpends(const std::vector<store::KeySpend>& spends) {
  const std::lock_guard lock(mutex_);
  for (const auto& spend : spends) {
    const auto found = entries_.find(spend.token);
    if (found != entries_.end()) {
      found->second.spend_changed = true;
    }
  }
}

std::size_t KeyRegistry::size() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace claudegate::keys
