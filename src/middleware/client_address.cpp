#include "claudegate/middleware/client_address.hpp"

#include <stdexcept>

namespace claudegate::middleware {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<net::ip::address> ParseAddress(std::string_view text) {
  error_code ec;
  auto address = net::ip::make_address(std::string(text), ec);
  if (ec) {
    return std::nullopt;
  }
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6());
  }
  return address;
}

// "1.2.3.4:5678" or "::1:5678" (Asio prints IPv6 endpoints without brackets here).
std::optional<net::ip::address> PeerAddress(std::string_view peer) {
  const auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) {
    return ParseAddress(peer);
  }
  return ParseAddress(peer.substr(0, colon));
}

std::string KeyOf(const net::ip::address& address) {
  if (address.is_v4()) {
    return address.to_string();
  }
  return net::ip::make_network_v6(address.to_v6(), 64).canonical().to_string();
}

}  // namespace

TrustedProxies::TrustedProxies(const std::vector<std::string>& entries) {
  for (const auto& entry : entries) {
    error_code ec;
    if (entry.find('/') == std::string::npos) {
      const auto address = ParseAddress(entry);
      if (!address) {
        throw std::invalid_argument("not an IP address or network: " + entry);
      }
      if (address->is_v4()) {
        v4_.emplace_back(address->to_v4(), 32);
      } else {
        v6_.emplace_back(address->to_v6(), 128);
      }
      continue;
    }
    if (entry.find(':') == std::string::npos) {
      auto network = net::ip::make_network_v4(entry, ec);
      if (!ec) {
        v4_.push_back(network.canonical());
        continue;
      }
    } else {
      auto network = net::ip::make_network_v6(entry, ec);
      if (!ec) {
        v6_.push_back(network.canonical());
        continue;
      }
    }
    throw std::invalid_argument("not an IP address or network: " + entry);
  }
}

bool TrustedProxies::Contains(const net::ip::address& address) const {
  if (address.is_v4()) {
    const auto v4 = address.to_v4();
    for (const auto& network : v4_) {
      if (net::ip::network_v4(v4, 32).is_subnet_of(network) || network.address() == v4) {
        return true;
      }
    }
    return false;
  }
  const auto v6 = address.to_v6();
  for (const auto& network : v6_) {
    if (net::ip::network_v6(v6, 128).is_subnet_of(network) || network.address() == v6) {
      return true;
    }
  }
  return false;
}

bool IsAddressOrNetwork(std::string_view entry) {
  try {
    TrustedProxies probe({std::string(entry)});
    return true;
  } catch (const std::invalid_argument&) {
    return false;
  }
}

std::string ForwardedFor(const http::fields& headers) {
  std::string joined;
  const auto [first, last] = headers.equal_range("x-forwarded-for");
  for (auto line = first; line != last; ++line) {
    if (line->value().empty()) {
      continue;
    }
    if (!joined.empty()) {
      joined += ", ";
    }
    joined.append(line->value());
  }
  return joined;
}

std::string ClientKey(std::string_view peer, const http::fields& headers,
                      const TrustedProxies& trusted) {
  return ClientKey(peer, ForwardedFor(headers), trusted);
}

std::string ClientKey(std::string_view peer, std::string_view forwarded_for,
                      const TrustedProxies& trusted) {
  auto client = PeerAddress(peer);
  if (!client) {
    return std::string(peer);
  }
  // Walk X-Forwarded-For right to left while the hop we believe is a trusted proxy.
  while (trusted.Contains(*client) && !forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const std::string_view hop =
        Trim(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for =
        comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    auto address = ParseAddress(hop);
    if (!address) {
      break;  // garbage from a client: keep the last address a trusted hop vouched for
    }
    client = address;
  }
  return KeyOf(*client);
}

}  // namespace claudegate::middleware
