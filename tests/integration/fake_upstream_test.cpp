// Proves FakeUpstream itself behaves before other tests lean on it: a Beast client with TLS
// verification on (trusting only the runtime test CA) talks to it on one io_context, bounded by
// run_for as a safety limit only.
#include "support/fake_upstream.hpp"

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include "claudegate/net.hpp"

#include "support/run_to_completion.hpp"
#include "support/test_certs.hpp"

namespace claudegate::testing {
namespace {

using namespace std::chrono_literals;
using Response = http::response<http::string_body>;
using TlsStream = ssl::stream<TcpStream>;

ssl::context VerifyingContext(const std::string& ca_file) {
  ssl::context context(ssl::context::tls_client);
  context.set_verify_mode(ssl::verify_peer);
  context.load_verify_file(ca_file);
  return context;
}

tcp::endpoint Loopback(std::uint16_t port) { return {net::ip::address_v4::loopback(), port}; }

// Connects and verifies the server certificate for `host` (SNI is sent only for a DNS name).
Awaitable<error_code> ConnectTls(TlsStream& stream, std::uint16_t port, std::string host) {
  auto& layer = beast::get_lowest_layer(stream);
  layer.expires_after(5s);
  auto [ec] = co_await layer.async_connect(Loopback(port));
  if (ec) {
    co_return ec;
  }
  error_code not_an_address;
  net::ip::make_address(host, not_an_address);
  if (not_an_address && SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) != 1) {
    co_return error_code(static_cast<int>(::ERR_get_error()), net::error::get_ssl_category());
  }
  stream.set_verify_callback(ssl::host_name_verification(host));
  auto [handshake_ec] = co_await stream.async_handshake(ssl::stream_base::client, Token{});
  layer.expires_never();
  co_return handshake_ec;
}

http::request<http::string_body> MessagesRequest(std::string body) {
  http::request<http::string_body> request(http::verb::post, "/v1/messages", 11);
  request.set(http::field::host, "127.0.0.1");
  request.set("x-api-key", "sk-ant-test");
  request.set("anthropic-version", "2023-06-01");
  request.set(http::field::content_type, "application/json");
  request.body() = std::move(body);
  request.prepare_payload();
  return request;
}

template <typename Stream>
Awaitable<std::tuple<error_code, Response>> RoundTrip(Stream& stream, beast::flat_buffer& buffer,
                                                      http::request<http::string_body> request,
                                                      std::chrono::milliseconds timeout = 5s) {
  Response response;
  beast::get_lowest_layer(stream).expires_after(timeout);
  auto [write_ec, written] = co_await http::async_write(stream, request, Token{});
  if (write_ec) {
    co_return std::make_tuple(write_ec, std::move(response));
  }
  auto [read_ec, read] = co_await http::async_read(stream, buffer, response, Token{});
  beast::get_lowest_layer(stream).expires_never();
  co_return std::make_tuple(read_ec, std::move(response));
}

std::string Concatenate(const std::vector<std::string>& pieces) {
  std::string all;
  for (const auto& piece : pieces) {
    all += piece;
  }
  return all;
}

TEST(FakeUpstream, AnswersScriptedJsonOverVerifiedTls) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    EXPECT_EQ(request.JsonBody().at("model"), "claude-test");
    return JsonResponse(TextMessage("claude-test", "Hello!", 10, 3));
  });
  EXPECT_EQ(upstream.base_url(), "https://127.0.0.1:" + std::to_string(upstream.port()));

  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  error_code exchange_ec;
  Response response;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "127.0.0.1");
    if (connect_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(exchange_ec, response) =
        co_await RoundTrip(stream, buffer, MessagesRequest(R"({"model":"claude-test"})"));
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  ASSERT_FALSE(exchange_ec) << exchange_ec.message();

  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_EQ(response[http::field::content_type], "application/json");
  const auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("content").at(0).at("text"), "Hello!");
  EXPECT_EQ(body.at("usage").at("output_tokens"), 3);

  const auto requests = upstream.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/messages");
  EXPECT_EQ(requests[0].header("X-Api-Key"), "sk-ant-test");
  EXPECT_EQ(requests[0].header("anthropic-version"), "2023-06-01");
  EXPECT_EQ(requests[0].header("absent"), "");
  EXPECT_EQ(upstream.tls_handshakes(), 1U);
}

TEST(FakeUpstream, StreamsSseTranscriptAsHttpChunks) {
  std::vector<std::string> pieces = {"Hel", "lo"};
  const std::vector<std::string> transcript = TextStreamTranscript("claude-test", pieces, 10, 2);
  ASSERT_EQ(transcript.size(), 8U);
  EXPECT_EQ(transcript[0].rfind("event: message_start\ndata: {\"type\":\"message_start\"", 0), 0U);
  EXPECT_EQ(transcript[2], "event: ping\ndata: {\"type\":\"ping\"}\n\n");
  EXPECT_EQ(transcript[3],
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,"
            "\"delta\":{\"type\":\"text_delta\",\"text\":\"Hel\"}}\n\n");
  EXPECT_EQ(transcript[6],
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
            "\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":2}}\n\n");
  EXPECT_EQ(transcript[7], "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");

  FakeUpstream upstream([&](const RecordedRequest&) { return SseResponse(transcript); });
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  error_code exchange_ec;
  Response response;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "localhost");
    if (connect_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(exchange_ec, response) =
        co_await RoundTrip(stream, buffer, MessagesRequest(R"({"stream":true})"));
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  ASSERT_FALSE(exchange_ec) << exchange_ec.message();
  EXPECT_EQ(response.result_int(), 200U);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response[http::field::content_type], "text/event-stream");
  EXPECT_EQ(response.body(), Concatenate(transcript));
}

TEST(FakeUpstream, KeepAliveServesTwoRequestsOnOneConnection) {
  FakeUpstream upstream([](const RecordedRequest& request) {
    return JsonResponse(TextMessage("claude-test", request.body, 1, 1));
  });
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  const std::vector<std::string> bodies = {"first", "second"};
  error_code connect_ec;
  std::vector<error_code> errors;
  std::vector<Response> responses;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "127.0.0.1");
    if (connect_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    for (const std::string& body : bodies) {
      auto [ec, response] = co_await RoundTrip(stream, buffer, MessagesRequest(body));
      errors.push_back(ec);
      responses.push_back(std::move(response));
    }
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  ASSERT_EQ(errors.size(), 2U);
  EXPECT_FALSE(errors[0]) << errors[0].message();
  EXPECT_FALSE(errors[1]) << errors[1].message();
  EXPECT_TRUE(responses[0].keep_alive());
  EXPECT_EQ(nlohmann::json::parse(responses[1].body()).at("content").at(0).at("text"), "second");
  EXPECT_EQ(upstream.requests().size(), 2U);
  EXPECT_EQ(upstream.connections_accepted(), 1U);
  EXPECT_EQ(upstream.tls_handshakes(), 1U);
}

TEST(FakeUpstream, VerifyingClientRejectsCertificateFromUntrustedCa) {
  FakeUpstream::Options options;
  options.certs = &UntrustedTestCerts();
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; }, options);
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "localhost");
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_TRUE(connect_ec);
  EXPECT_EQ(connect_ec.category(), net::error::get_ssl_category()) << connect_ec.message();
  EXPECT_EQ(ERR_GET_REASON(static_cast<unsigned long>(connect_ec.value())),
            SSL_R_CERTIFICATE_VERIFY_FAILED)
      << connect_ec.message();
  EXPECT_TRUE(upstream.WaitForTlsHandshakeFailures(1, 2s));
  EXPECT_TRUE(upstream.requests().empty());
}

TEST(FakeUpstream, VerifyingClientRejectsWrongHostName) {
  FakeUpstream upstream([](const RecordedRequest&) { return ScriptedResponse{}; });
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "api.anthropic.com");
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  EXPECT_TRUE(connect_ec);
  EXPECT_TRUE(upstream.WaitForTlsHandshakeFailures(1, 2s));
}

TEST(FakeUpstream, NoticesClientClosingDuringSlowStream) {
  FakeUpstream upstream([](const RecordedRequest&) {
    std::vector<std::string> pieces = {"a", "b", "c"};
    ScriptedResponse response = SseResponse(TextStreamTranscript("claude-test", pieces, 5, 3));
    response.delay_between_chunks = 60s;  // the stream stalls after its first event
    return response;
  });
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  error_code header_ec;
  unsigned status = 0;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "127.0.0.1");
    if (connect_ec) {
      co_return;
    }
    beast::get_lowest_layer(stream).expires_after(5s);
    auto [write_ec, written] = co_await http::async_write(stream, MessagesRequest("{}"), Token{});
    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser, Token{});
    header_ec = write_ec ? write_ec : read_ec;
    status = parser.get().result_int();
    beast::get_lowest_layer(stream).close();  // leave mid-stream, without close_notify
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  ASSERT_FALSE(header_ec) << header_ec.message();
  EXPECT_EQ(status, 200U);
  const auto closed_at = std::chrono::steady_clock::now();
  EXPECT_TRUE(upstream.WaitForClientDisconnect(2s));
  EXPECT_LT(std::chrono::steady_clock::now() - closed_at, 2s);
  EXPECT_EQ(upstream.client_disconnects(), 1U);
}

TEST(FakeUpstream, NeverRespondHoldsTheRequestUntilTheClientGivesUp) {
  FakeUpstream upstream([](const RecordedRequest&) {
    ScriptedResponse response;
    response.fault = ScriptedResponse::Fault::kNeverRespond;
    return response;
  });
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  error_code connect_ec;
  error_code read_ec;
  auto client = [&]() -> Awaitable<void> {
    TlsStream stream(io, context);
    connect_ec = co_await ConnectTls(stream, upstream.port(), "127.0.0.1");
    if (connect_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    // The client's first-byte timeout: Beast closes the socket when it fires.
    std::tie(read_ec, std::ignore) =
        co_await RoundTrip(stream, buffer, MessagesRequest("{}"), 300ms);
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  EXPECT_EQ(read_ec, beast::error::timeout) << read_ec.message();
  EXPECT_TRUE(upstream.WaitForRequests(1, 2s));
  EXPECT_TRUE(upstream.WaitForClientDisconnect(2s));
}

TEST(FakeUpstream, PlainHttpCanDropTheConnectionBeforeHeaders) {
  FakeUpstream::Options options;
  options.tls = false;
  FakeUpstream upstream(
      [](const RecordedRequest&) {
        ScriptedResponse response;
        response.fault = ScriptedResponse::Fault::kCloseBeforeHeaders;
        return response;
      },
      options);
  EXPECT_EQ(upstream.base_url(), "http://127.0.0.1:" + std::to_string(upstream.port()));
  net::io_context io;
  error_code connect_ec;
  error_code exchange_ec;
  auto client = [&]() -> Awaitable<void> {
    TcpStream stream(io);
    auto [ec] = co_await stream.async_connect(Loopback(upstream.port()));
    connect_ec = ec;
    if (connect_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(exchange_ec, std::ignore) = co_await RoundTrip(stream, buffer, MessagesRequest("{}"));
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(connect_ec) << connect_ec.message();
  EXPECT_EQ(exchange_ec, http::error::end_of_stream) << exchange_ec.message();
  EXPECT_EQ(upstream.requests().size(), 1U);
  EXPECT_EQ(upstream.client_disconnects(), 0U);
}

TEST(FakeUpstream, ResetMidStreamTruncatesTheChunkedBody) {
  FakeUpstream::Options options;
  options.tls = false;
  FakeUpstream upstream(
      [](const RecordedRequest&) {
        std::vector<std::string> pieces = {"a", "b"};
        ScriptedResponse response = SseResponse(TextStreamTranscript("claude-test", pieces, 5, 2));
        response.fault = ScriptedResponse::Fault::kResetMidStream;
        return response;
      },
      options);
  net::io_context io;
  error_code exchange_ec;
  auto client = [&]() -> Awaitable<void> {
    TcpStream stream(io);
    auto [ec] = co_await stream.async_connect(Loopback(upstream.port()));
    if (ec) {
      exchange_ec = ec;
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(exchange_ec, std::ignore) = co_await RoundTrip(stream, buffer, MessagesRequest("{}"));
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  EXPECT_TRUE(exchange_ec == net::error::connection_reset ||
              exchange_ec == http::error::partial_message)
      << exchange_ec.message();
}

TEST(FakeUpstream, ErrorResponseCarriesAnthropicErrorBodyAndCloses) {
  FakeUpstream::Options options;
  options.tls = false;
  FakeUpstream upstream(
      [](const RecordedRequest&) {
        ScriptedResponse response = ErrorResponse(429, "rate_limit_error", "slow down");
        response.headers.emplace_back("retry-after", "7");
        response.close_connection = true;
        return response;
      },
      options);
  net::io_context io;
  error_code exchange_ec;
  Response response;
  auto client = [&]() -> Awaitable<void> {
    TcpStream stream(io);
    auto [ec] = co_await stream.async_connect(Loopback(upstream.port()));
    if (ec) {
      exchange_ec = ec;
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(exchange_ec, response) = co_await RoundTrip(stream, buffer, MessagesRequest("{}"));
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(exchange_ec) << exchange_ec.message();
  EXPECT_EQ(response.result_int(), 429U);
  EXPECT_EQ(response["retry-after"], "7");
  EXPECT_FALSE(response.keep_alive());
  const auto body = nlohmann::json::parse(response.body());
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "rate_limit_error");
  EXPECT_EQ(body.at("error").at("message"), "slow down");
  EXPECT_EQ(body.at("request_id").get<std::string>().rfind("req_", 0), 0U);
}

TEST(FakeUpstream, DestructorClosesOpenConnectionsPromptly) {
  net::io_context io;
  ssl::context context = VerifyingContext(SharedTestCerts().ca_file);
  auto upstream = std::make_unique<FakeUpstream>([](const RecordedRequest& request) {
    ScriptedResponse response = JsonResponse(nlohmann::json::object());
    if (request.target == "/slow") {
      response.delay_before_headers = 60s;
    }
    return response;
  });
  // Two connections outlive the fake: one idle keep-alive, one waiting for a slow first byte.
  TlsStream idle(io, context);
  TlsStream waiting(io, context);
  error_code idle_ec;
  error_code waiting_ec;
  auto client = [&]() -> Awaitable<void> {
    idle_ec = co_await ConnectTls(idle, upstream->port(), "127.0.0.1");
    waiting_ec = co_await ConnectTls(waiting, upstream->port(), "127.0.0.1");
    if (idle_ec || waiting_ec) {
      co_return;
    }
    beast::flat_buffer buffer;
    std::tie(idle_ec, std::ignore) = co_await RoundTrip(idle, buffer, MessagesRequest("{}"));
    http::request<http::string_body> slow = MessagesRequest("{}");
    slow.target("/slow");
    auto [ec, n] = co_await http::async_write(waiting, slow, Token{});
    waiting_ec = ec;
  };
  ASSERT_TRUE(RunToCompletion(io, client()));
  ASSERT_FALSE(idle_ec) << idle_ec.message();
  ASSERT_FALSE(waiting_ec) << waiting_ec.message();
  ASSERT_TRUE(upstream->WaitForRequests(2, 2s));

  const auto start = std::chrono::steady_clock::now();
  upstream.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

}  // namespace
}  // namespace claudegate::testing
