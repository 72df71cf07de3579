#include "claudegate/upstream/tls_session_cache.hpp"

#include <utility>

namespace claudegate::upstream {
namespace {

// The SSL ex_data slot that points at the connection's TlsSessionSlot (CRYPTO_get_ex_new_index(3)).
int SlotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

TlsSessionCache::~TlsSessionCache() {
  for (auto& [key, session] : sessions_) {
    SSL_SESSION_free(session);
  }
}

void TlsSessionCache::EnableOn(SSL_CTX* context) {
  // The client side never looks sessions up by itself; the application offers one with
  // SSL_set_session. NO_INTERNAL_STORE keeps OpenSSL from holding a second copy of every session
  // (SSL_CTX_set_session_cache_mode(3)).
  SSL_CTX_set_session_cache_mode(context, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(context, &TlsSessionCache::OnNewSession);
}

bool TlsSessionCache::Attach(SSL* ssl, TlsSessionSlot& slot) {
  if (SSL_set_ex_data(ssl, SlotIndex(), &slot) != 1) {
    return false;
  }
  if (!slot.cache) {
    return true;
  }
  if (SSL_SESSION* session = slot.cache->Find(slot.key)) {
    // SSL_set_session takes its own reference. A session the server no longer accepts costs
    // nothing but a full handshake; verification then runs as for a new session.
    SSL_set_session(ssl, session);
    SSL_SESSION_free(session);
  }
  return true;
}

std::size_t TlsSessionCache::stored() const {
  const std::lock_guard lock(mutex_);
  return stored_;
}

int TlsSessionCache::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<TlsSessionSlot*>(SSL_get_ex_data(ssl, SlotIndex()));
  // A session that cannot be resumed (e.g. a TLS 1.3 server that sends no ticket data) is useless.
  if (slot == nullptr || !slot->cache || SSL_SESSION_is_resumable(session) != 1) {
    return 0;  // OpenSSL keeps (and frees) its reference
  }
  slot->cache->Store(slot->key, session);
  return 1;  // the cache now owns this reference
}

SSL_SESSION* TlsSessionCache::Find(const std::string& key) const {
  const std::lock_guard lock(mutex_);
  const auto it = sessions_.find(key);
  if (it == sessions_.end()) {
    return nullptr;
  }
  SSL_SESSION_up_ref(it->second);
  return it->second;
}

void TlsSessionCache::Store(const std::string& key, SSL_SESSION* session) {
  SSL_SESSION* previous = nullptr;
  {
    const std::lock_guard lock(mutex_);
    auto [it, inserted] = sessions_.try_emplace(key, session);
    if (!inserted) {
      previous = std::exchange(it->second, session);
    }
    ++stored_;
  }
  // The newest session replaces the older one (TLS 1.3 servers send fresh tickets on every
  // connection). Offering one ticket on several connections, as nginx does, lets the server link
  // them (RFC 8446, Appendix C.4): a privacy concern for browsers, not for a gateway that
  // presents the same credential on every request anyway.
  if (previous != nullptr) {
    SSL_SESSION_free(previous);
  }
}

}  // namespace claudegate::upstream
