/// @file tls_session_cache.hpp
/// The client-side TLS session cache of one upstream client: the newest resumable session per
/// upstream (host and port), so that a new connection resumes (an abbreviated handshake without
/// the certificate chain, its verification or a fresh key exchange's signature) instead of doing a
/// full handshake. nginx does the same with `proxy_ssl_session_reuse` (on by default):
/// https://nginx.org/en/docs/http/ngx_http_proxy_module.html#proxy_ssl_session_reuse
///
/// A session is only offered to the host:port it was made with, and only sessions of handshakes
/// that passed certificate and host-name verification reach the cache (OpenSSL calls the
/// new-session callback after a successful handshake, or when a TLS 1.3 ticket arrives on such a
/// connection). See https://www.openssl.org/docs/man3.0/man3/SSL_CTX_sess_set_new_cb.html.
///
/// Thread-safe: connections on every io thread share it (one short lock per new connection and
/// per session ticket received).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <openssl/ssl.h>

namespace claudegate::upstream {

class TlsSessionCache;

/// Which cache an SSL object offers sessions from and stores them into, and under which key
/// ("host:port"). Owned by the connection; must outlive its SSL object.
struct TlsSessionSlot {
  std::shared_ptr<TlsSessionCache> cache;
  std::string key;
};

class TlsSessionCache {
 public:
  TlsSessionCache() = default;
  ~TlsSessionCache();
  TlsSessionCache(const TlsSessionCache&) = delete;
  TlsSessionCache& operator=(const TlsSessionCache&) = delete;

  /// Puts `context` in client session-cache mode without OpenSSL's internal store and installs
  /// the new-session callback that files sessions through the SSL object's slot. Once per context.
  static void EnableOn(SSL_CTX* context);

  /// Offers the session cached under `slot.key` (if any) to `ssl`, and makes the sessions `ssl`
  /// receives land in `slot`. False when OpenSSL refused (out of memory).
  static bool Attach(SSL* ssl, TlsSessionSlot& slot);

  /// Sessions received and stored so far (for tests and metrics).
  [[nodiscard]] std::size_t stored() const;

 private:
  static int OnNewSession(SSL* ssl, SSL_SESSION* session);
  // An up-referenced session for `key`, or null.
  SSL_SESSION* Find(const std::string& key) const;
  void Store(const std::string& key, SSL_SESSION* session);

  mutable std::mutex mutex_;
  std::map<std::string, SSL_SESSION*, std::less<>> sessions_;  // owned references
  std::size_t stored_ = 0;
};

}  // namespace claudegate::upstream
