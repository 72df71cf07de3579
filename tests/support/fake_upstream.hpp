// FakeUpstream: an in-process HTTP/1.1 server on 127.0.0.1:0 that plays Anthropic's API for
// integration tests, scripted by a lambda (userver's HttpServerMock), plus builders for
// Anthropic's wire format (SSE transcripts, message bodies, error bodies).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "claudegate/net.hpp"

#include "support/test_certs.hpp"

namespace claudegate::testing {

/// One request as the fake received it (after de-chunking; the body is the full payload).
struct RecordedRequest {
  std::string method;    ///< "POST", "GET", ...
  std::string target;    ///< "/v1/messages?beta=true"
  std::string body;      ///< The whole request body.
  http::fields headers;  ///< Case-insensitive lookup: `headers["x-api-key"]`.

  /// The value of header `name` (case-insensitive), or "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
  /// `body` parsed as JSON. @throws nlohmann::json::exception on a malformed body.
  [[nodiscard]] nlohmann::json JsonBody() const;
};

/// What the fake answers to one request.
///
/// `status`, `headers` and either `body` (sent with Content-Length) or `chunks` (sent with
/// `Transfer-Encoding: chunked`, one HTTP chunk per non-empty entry, in order). When `headers` has
/// no Content-Type, the fake adds `application/json` for a body and `text/event-stream` for chunks.
struct ScriptedResponse {
  enum class Fault {
    kNone,
    kCloseBeforeHeaders,  ///< Close the TCP connection (no TLS close_notify) instead of answering.
    kResetBeforeHeaders,  ///< Reset the connection (SO_LINGER 0) instead of answering.
    kCloseAfterHeaders,   ///< Send the status line and headers, then close.
    kResetAfterHeaders,   ///< Send the status line and headers, then reset.
    kResetMidStream,      ///< Send the headers and the first `chunks.size() / 2` chunks (or the
                          ///< first half of `body`), then reset the connection (SO_LINGER 0).
    kTruncateCleanly,     ///< Send the headers and the first half of the chunks (or of `body`),
                          ///< then close cleanly (TLS close_notify, FIN) without the last chunk.
    kNeverRespond,        ///< Send nothing; hold the connection until the client closes it.
  };

  unsigned status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  ///< e.g. request-id, retry-after.
  std::string body;
  std::vector<std::string> chunks;  ///< Non-empty: chunked response (SSE transcripts).
  std::chrono::milliseconds delay_before_headers{0};  ///< Slow first byte (an Asio timer).
  std::chrono::milliseconds delay_between_chunks{0};  ///< Slow stream: waited before chunk 2..n.
  Fault fault = Fault::kNone;
  bool close_connection = false;  ///< Send `Connection: close` and close after the response.
};

/// Builds the response for one request. Runs on the fake's own thread; an exception becomes a
/// 500 `api_error` response.
using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

/**
 * An HTTPS (default) or plain-HTTP server on 127.0.0.1:<ephemeral port> imitating Anthropic.
 *
 * The constructor binds, listens and starts an `io_context` on a private thread; every accepted
 * connection runs as one coroutine on its own strand and serves any number of keep-alive requests
 * in order. While a response is pending (delays, streaming, `kNeverRespond`) the fake keeps a read
 * outstanding on the socket, so it notices at once when the client closes and records that as a
 * client disconnect (`WaitForClientDisconnect`). A client half-close (shutdown of its write side)
 * during a response also counts as a disconnect.
 *
 * The destructor closes the listener and every connection, waits up to 2 s for the coroutines to
 * finish, then stops the `io_context` and joins the thread.
 *
 * @par Thread Safety
 * All public members are safe to call from any thread. The handler runs on the fake's thread.
 */
class FakeUpstream {
 public:
  /// What the fake does with new TCP connections, before any HTTP (see `SetConnectionFault`).
  enum class ConnectionFault {
    kNone,
    kRefuse,                ///< Stop listening, so connects fail with ECONNREFUSED.
    kTlsGarbage,            ///< Read the ClientHello, answer with bytes that are not TLS, close.
    kTlsCloseInHandshake,   ///< Read the ClientHello, then close without answering.
    kTlsSilentHandshake,    ///< Read the ClientHello, then say nothing (a handshake timeout).
    kUntrustedCertificate,  ///< Present a leaf from an unrelated CA (`UntrustedTestCerts()`).
    kWrongHostCertificate,  ///< Present a leaf from the trusted CA issued for another host name.
  };

  struct Options {
    bool tls = true;
    /// Server certificate and key; nullptr means `SharedTestCerts()`. Must outlive the fake.
    const TestCerts* certs = nullptr;
  };

  /// Starts serving at once. @throws boost::system::system_error if binding fails and
  /// boost::system::system_error / std::runtime_error if the certificates cannot be loaded.
  explicit FakeUpstream(Handler handler);
  FakeUpstream(Handler handler, Options options);
  ~FakeUpstream();
  FakeUpstream(const FakeUpstream&) = delete;
  FakeUpstream& operator=(const FakeUpstream&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] bool tls() const { return options_.tls; }
  /// "https://127.0.0.1:<port>" or "http://127.0.0.1:<port>" (no trailing slash).
  [[nodiscard]] std::string base_url() const;

  /// A copy of every request received so far, in arrival order.
  [[nodiscard]] std::vector<RecordedRequest> requests() const;
  /// TCP connections accepted so far (keep-alive reuse shows as fewer connections than requests).
  [[nodiscard]] std::size_t connections_accepted() const;
  /// Completed server-side TLS handshakes.
  [[nodiscard]] std::size_t tls_handshakes() const;
  /// Completed server-side TLS handshakes that resumed a session (SSL_session_reused).
  [[nodiscard]] std::size_t tls_resumed_handshakes() const;
  /// Failed server-side TLS handshakes (e.g. a client that rejected the certificate).
  [[nodiscard]] std::size_t tls_handshake_failures() const;
  /// Connections the client closed (or reset) while a response was pending or being written.
  [[nodiscard]] std::size_t client_disconnects() const;

  /// Blocks until at least `n` requests have arrived or `timeout` passes; true when they did.
  /// Woken by events (a condition variable), never by polling.
  bool WaitForRequests(std::size_t n, std::chrono::milliseconds timeout);
  /// Blocks until at least `n` connections were accepted or `timeout` passes.
  bool WaitForConnections(std::size_t n, std::chrono::milliseconds timeout);
  /// Blocks until at least `n` TLS handshakes failed or `timeout` passes.
  bool WaitForTlsHandshakeFailures(std::size_t n, std::chrono::milliseconds timeout);
  /// Blocks until a client closed a connection mid-response (`client_disconnects() >= n`) or
  /// `timeout` passes; used to assert that a downstream disconnect closes the upstream request.
  bool WaitForClientDisconnect(std::chrono::milliseconds timeout) {
    return WaitForClientDisconnects(1, timeout);
  }
  bool WaitForClientDisconnects(std::size_t n, std::chrono::milliseconds timeout);

  /// Applies `fault` to every connection accepted from now on; `kNone` heals the fake (listening
  /// again on the same port after `kRefuse`). Open connections are left alone: pair it with
  /// `DropConnections()` so that a client's pooled connection cannot bypass the fault. The TLS
  /// faults are ignored by a plain-HTTP fake. Blocks until applied on the fake's thread.
  /// @throws boost::system::system_error when listening again fails (the port was taken).
  void SetConnectionFault(ConnectionFault fault);
  /// Closes every open connection (no TLS close_notify) and waits up to `timeout` until they are
  /// all gone; true when they are. Clients see their idle pooled connections closed by the server.
  bool DropConnections(std::chrono::milliseconds timeout);

 private:
  struct Exchange;
  struct LiveConnection {
    net::any_io_executor executor;
    std::function<void()> close;
  };
  enum class Delivery { kComplete, kClosed, kFailed, kCloseCleanly };

  Awaitable<void> AcceptLoop();
  void Listen();
  void ApplyConnectionFault(ConnectionFault fault);
  Awaitable<void> ServePlain(tcp::socket socket);
  Awaitable<void> ServeTls(tcp::socket socket, ssl::context& context);
  // Plays a TLS server that breaks the handshake as `fault` says (fake_upstream_faults.cpp).
  Awaitable<void> ServeBrokenHandshake(tcp::socket socket, ConnectionFault fault);
  template <typename Stream>
  Awaitable<void> ServeRequests(Stream& stream);
  template <typename Stream>
  Awaitable<Delivery> Deliver(Stream& stream, const ScriptedResponse& response, bool keep_alive,
                              Exchange& exchange);
  template <typename Stream>
  Awaitable<void> WatchForPeerClose(Stream& stream, beast::flat_buffer& buffer, Exchange& exchange);

  ScriptedResponse CallHandler(const RecordedRequest& request);
  std::uint64_t Register(net::any_io_executor executor, std::function<void()> close);
  void Unregister(std::uint64_t id);
  void CloseAll();
  template <typename Predicate>
  bool WaitUntil(std::chrono::milliseconds timeout, Predicate predicate);
  void Bump(std::size_t& counter);

  // Declaration order matters: everything the coroutines touch is declared before `io_`, so it
  // outlives the coroutine frames that `io_`'s destructor destroys.
  Handler handler_;
  Options options_;
  ssl::context ssl_context_;
  ssl::context untrusted_context_;  // UntrustedTestCerts(): kUntrustedCertificate
  ssl::context
      wrong_host_context_;  // the trusted CA's leaf for another host: kWrongHostCertificate
  std::atomic<bool> stopping_{false};
  std::atomic<ConnectionFault> connection_fault_{ConnectionFault::kNone};

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<RecordedRequest> requests_;
  std::size_t connections_accepted_ = 0;
  std::size_t tls_handshakes_ = 0;
  std::size_t tls_resumed_handshakes_ = 0;
  std::size_t tls_handshake_failures_ = 0;
  std::size_t client_disconnects_ = 0;
  bool run_finished_ = false;
  std::uint64_t next_connection_id_ = 0;
  std::map<std::uint64_t, LiveConnection> live_;

  net::io_context io_;
  // Keeps io_.run() going while nothing is pending (kRefuse with no open connection); released
  // by the destructor.
  net::executor_work_guard<net::io_context::executor_type> work_{io_.get_executor()};
  Acceptor acceptor_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

// ---- Anthropic wire format -------------------------------------------------------------------

/// One SSE event as Anthropic frames it: "event: <event>\ndata: <compact json>\n\n".
std::string SseEvent(std::string_view event, const nlohmann::json& data);
/// Same, keeping the key order of `data` (Anthropic puts "type" first).
std::string SseEvent(std::string_view event, const nlohmann::ordered_json& data);

/// Anthropic's exact event sequence for a streamed text reply, one SSE event per entry:
/// message_start, content_block_start (index 0, empty text), ping, one content_block_delta
/// (text_delta) per piece, content_block_stop, message_delta (end_turn, usage.output_tokens) and
/// message_stop. Use as `ScriptedResponse::chunks`.
std::vector<std::string> TextStreamTranscript(std::string model,
                                              std::vector<std::string> text_pieces,
                                              int input_tokens, int output_tokens);

/// A non-streamed Messages API response body with one text block and stop_reason "end_turn".
nlohmann::json TextMessage(std::string model, std::string text, int input_tokens,
                           int output_tokens);

/// Anthropic's error body: {"type":"error","error":{"type":..,"message":..},"request_id":"req_.."}.
std::string AnthropicError(std::string type, std::string message);

/// A 200 (or `status`) response with `body.dump()` and Content-Type application/json.
ScriptedResponse JsonResponse(const nlohmann::json& body, unsigned status = 200);
/// A 200 chunked text/event-stream response, one chunk per entry of `chunks`.
ScriptedResponse SseResponse(std::vector<std::string> chunks);
/// An Anthropic error response, e.g. ErrorResponse(429, "rate_limit_error", "slow down").
ScriptedResponse ErrorResponse(unsigned status, std::string type, std::string message);

}  // namespace claudegate::testing
