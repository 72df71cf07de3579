#include "claudegate/keys/key_sync.hpp"

#include <spdlog/spdlog.h>

namespace claudegate::keys {

Awaitable<bool> LoadKeys(KeyRegistry& registry, store::KeyStore& store) {
  auto loaded = co_await store.All();
  if (loaded.status != store::LookupStatus::kFound) {
    co_return false;  // the store logged why
  }
  registry.ReplaceAll(std::move(loaded.value));
  co_return true;
}

Awaitable<void> FlushSpends(KeyRegistry& registry, store::KeyStore& store) {
  auto spends = registry.TakeChangedSpends();
  if (spends.empty()) {
    co_return;
  }
  const bool written = co_await store.SaveSpends(spends);
  if (!written) {
    registry.RestoreChangedSpends(spends);  // the next pass tries again
  }
}

namespace {

// One pass: write the changed spends, then reload the keys if the store's version moved past
// `seen`. Every await is a statement of its own (GCC 12 mishandles co_await inside conditions).
Awaitable<void> SyncOnce(KeyRegistry& registry, store::KeyStore& store,
                         std::optional<std::int64_t>& seen) {
  co_await FlushSpends(registry, store);
  const std::optional<std::int64_t> version = co_await store.Version();
  if (!version || version == seen) {
    co_return;
  }
  const bool loaded = co_await LoadKeys(registry, store);
  if (loaded) {
    spdlog::info("keys: reloaded {} keys changed outside this process", registry.size());
    seen = version;
  }
}

}  // namespace

Awaitable<void> KeepKeysInSync(KeyRegistry& registry, store::KeyStore& store, Timer& timer,
                               std::chrono::milliseconds interval) {
  std::optional<std::int64_t> seen = co_await store.Version();
  for (;;) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait();
    if (ec) {
      co_return;  // cancelled: shutting down (the gateway writes the last spends itself)
    }
    co_await SyncOnce(registry, store, seen);
  }
}

}  // namespace claudegate::keys
