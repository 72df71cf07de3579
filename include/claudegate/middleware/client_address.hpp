/// @file client_address.hpp
/// Which client a request comes from, for per-client decisions such as the auth throttle.
///
/// The TCP peer is the client unless it is one of the configured trusted proxies; then the
/// client is the right-most `X-Forwarded-For` entry that is not itself a trusted proxy (entries
/// to the left of it were written by the client and cannot be believed). A request may carry the
/// header on several field lines (HAProxy's `option forwardfor` appends its own line after the
/// client's): they are one list, joined in order (RFC 9110 §5.3), so the proxy's entry stays the
/// right-most one. IPv6 clients are
/// grouped by their /64: one subscriber usually holds a whole /64 and can rotate through it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "claudegate/net.hpp"

namespace claudegate::middleware {

/// A set of addresses and networks (`10.0.0.5`, `10.0.0.0/8`, `fd00::/8`).
class TrustedProxies {
 public:
  TrustedProxies() = default;
  /// @throws std::invalid_argument naming the entry that is neither an address nor a network.
  explicit TrustedProxies(const std::vector<std::string>& entries);

  [[nodiscard]] bool Contains(const net::ip::address& address) const;
  [[nodiscard]] bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  std::vector<net::ip::network_v4> v4_;
  std::vector<net::ip::network_v6> v6_;
};

/// True when `entry` is an IP address or a network in CIDR notation.
[[nodiscard]] bool IsAddressOrNetwork(std::string_view entry);

/// Every `X-Forwarded-For` field line of `headers`, joined with ", " in the order received
/// (RFC 9110 §5.3). Empty when there is none.
[[nodiscard]] std::string ForwardedFor(const http::fields& headers);

/// The key one client is known by: an IPv4 address, or an IPv6 /64 as `2001:db8:1:2::/64`.
/// `peer` is the connection's "address:port"; `forwarded_for` is the X-Forwarded-For header
/// (used only when the peer is trusted). Returns `peer` unchanged when it cannot be parsed.
[[nodiscard]] std::string ClientKey(std::string_view peer, std::string_view forwarded_for,
                                    const TrustedProxies& trusted);

/// ClientKey() for a request: reads all of its `X-Forwarded-For` lines (see ForwardedFor()).
/// Use this one wherever a request is at hand; the string form is for tests.
[[nodiscard]] std::string ClientKey(std::string_view peer, const http::fields& headers,
                                    const TrustedProxies& trusted);

}  // namespace claudegate::middleware
