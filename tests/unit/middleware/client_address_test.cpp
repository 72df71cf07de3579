#include "claudegate/middleware/client_address.hpp"

#include <gtest/gtest.h>

namespace claudegate::middleware {
namespace {

struct ClientKeyCase {
  std::string name;
  std::string peer;
  std::string forwarded_for;
  std::vector<std::string> trusted;
  std::string expected;
};

TEST(ClientKey, TellsClientsApartAsDocumented) {
  const std::vector<ClientKeyCase> cases = {
      {"ipv4 peer", "203.0.113.7:51234", "", {}, "203.0.113.7"},
      {"port does not matter", "203.0.113.7:1", "", {}, "203.0.113.7"},
      {"ipv6 grouped by /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd:443", "", {}, "2001:db8:1:2::/64"},
      {"v4-mapped ipv6 is ipv4", "::ffff:198.51.100.4:5000", "", {}, "198.51.100.4"},
      {"untrusted peer: X-Forwarded-For ignored", "203.0.113.7:1", "1.2.3.4", {}, "203.0.113.7"},
      {"trusted proxy: right-most entry",
       "10.0.0.5:1",
       "6.6.6.6, 198.51.100.9",
       {"10.0.0.5"},
       "198.51.100.9"},
      {"chain of trusted proxies",
       "10.0.0.5:1",
       "198.51.100.9, 10.1.2.3",
       {"10.0.0.0/8"},
       "198.51.100.9"},
      {"spoofed left entries never win",
       "10.0.0.5:1",
       "10.9.9.9, 6.6.6.6",
       {"10.0.0.0/8"},
       "6.6.6.6"},
      {"trusted proxy without header", "10.0.0.5:1", "", {"10.0.0.5"}, "10.0.0.5"},
      {"garbage hop: last vouched address", "10.0.0.5:1", "not-an-ip", {"10.0.0.5"}, "10.0.0.5"},
      {"ipv6 proxy network", "fd00::1:80", "2001:db8::7", {"fd00::/8"}, "2001:db8::/64"},
      {"unparseable peer kept verbatim", "unknown", "", {}, "unknown"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(ClientKey(c.peer, c.forwarded_for, TrustedProxies(c.trusted)), c.expected) << c.name;
  }
}

TEST(ClientKey, JoinsEveryForwardedForLineInOrder) {
  // HAProxy's `option forwardfor` appends its own field line after the one the client wrote.
  http::fields headers;
  headers.insert("x-forwarded-for", "6.6.6.6, 10.9.9.9");  // written by the client
  headers.insert("x-forwarded-for", "");
  headers.insert("X-Forwarded-For", "198.51.100.9");  // appended by the trusted proxy
  EXPECT_EQ(ForwardedFor(headers), "6.6.6.6, 10.9.9.9, 198.51.100.9");
  EXPECT_EQ(ClientKey("10.0.0.5:1", headers, TrustedProxies({"10.0.0.5"})), "198.51.100.9");
  EXPECT_EQ(ForwardedFor(http::fields{}), "");
}

TEST(TrustedProxies, AcceptsAddressesAndNetworksOnly) {
  for (const char* good : {"10.0.0.5", "10.0.0.0/8", "::1", "fd00::/8", "0.0.0.0/0"}) {
    EXPECT_TRUE(IsAddressOrNetwork(good)) << good;
  }
  for (const char* bad : {"", "10.0.0.256", "10.0.0.0/33", "localhost", "fd00::/129", "1.2.3.4/"}) {
    EXPECT_FALSE(IsAddressOrNetwork(bad)) << bad;
  }
  const TrustedProxies trusted({"10.0.0.0/8", "192.168.1.1"});
  EXPECT_TRUE(trusted.Contains(net::ip::make_address("10.200.0.1")));
  EXPECT_TRUE(trusted.Contains(net::ip::make_address("192.168.1.1")));
  EXPECT_FALSE(trusted.Contains(net::ip::make_address("192.168.1.2")));
  EXPECT_FALSE(trusted.Contains(net::ip::make_address("11.0.0.1")));
}

}  // namespace
}  // namespace claudegate::middleware
