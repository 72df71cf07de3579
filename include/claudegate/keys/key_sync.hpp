/// @file key_sync.hpp
/// Keeps a KeyRegistry and its KeyStore in step (docs/keys.md): once a second writes the spends
/// that changed and reloads the keys when anyone else changed them (`claudegate key …` on the
/// host, another replica). A kill -9 loses at most the last second of spend; the keys themselves
/// are written before the route answers, and the last spends at shutdown (Gateway's destructor,
/// SaveSpendsNow).
#pragma once

#include <chrono>

#include "claudegate/keys/key_registry.hpp"
#include "claudegate/net.hpp"
#include "claudegate/store/key_store.hpp"

namespace claudegate::keys {

/// Reads every key into `registry`. False when the store failed (logged).
Awaitable<bool> LoadKeys(KeyRegistry& registry, store::KeyStore& store);

/// Writes the changed spends now (at shutdown, and in tests).
Awaitable<void> FlushSpends(KeyRegistry& registry, store::KeyStore& store);

/// Runs until `timer` is cancelled. All three must outlive the coroutine's last resumption (the
/// gateway owns them and stops its io threads before it is destroyed).
Awaitable<void> KeepKeysInSync(KeyRegistry& registry, store::KeyStore& store, Timer& timer,
                               std::chrono::milliseconds interval);

}  // namespace claudegate::keys
