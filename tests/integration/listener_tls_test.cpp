// HTTPS on the listener when a certificate and key are configured, verified by a real TLS client.
#include <gtest/gtest.h>

#include "support/fake_upstream.hpp"
#include "support/test_client.hpp"
#include "support/test_gateway.hpp"

namespace claudegate::testing {
namespace {

TEST(ListenerTls, ServesHttpsWithTheConfiguredCertificate) {
  auto config = TestConfig();
  config.tls.cert_file = SharedTestCerts().cert_file;
  config.tls.key_file = SharedTestCerts().key_file;
  TestGateway gw(std::move(config));

  net::io_context io;
  ssl::context tls(ssl::context::tls_client);
  tls.set_verify_mode(ssl::verify_peer);
  tls.load_verify_file(SharedTestCerts().ca_file);
  beast::ssl_stream<beast::tcp_stream> stream(io, tls);
  stream.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  beast::get_lowest_layer(stream).connect({net::ip::make_address("127.0.0.1"), gw.port()});
  stream.handshake(ssl::stream_base::client);

  http::request<http::empty_body> request{http::verb::get, "/v1/models", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::authorization, "Bearer " + kTestMasterKey);
  http::write(stream, request);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_NE(response.body().find("\"sonnet\""), std::string::npos);
}

TEST(ListenerTls, DropsPlainHttpOnATlsListener) {
  auto config = TestConfig();
  config.tls.cert_file = SharedTestCerts().cert_file;
  config.tls.key_file = SharedTestCerts().key_file;
  TestGateway gw(std::move(config));
  TestClient client(gw.port(), std::chrono::seconds(5));  // reads bounded by a timeout
  client.SendRaw("GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(client.WaitForClose());
}

}  // namespace
}  // namespace claudegate::testing
