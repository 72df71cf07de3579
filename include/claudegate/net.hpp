/// @file net.hpp
/// The namespace aliases and the completion token every coroutine in claudegate uses.
///
/// Asio operations awaited with `Token` return their `error_code` as a value inside a tuple instead
/// of throwing: I/O errors such as `end_of_stream` are routine on a proxy and are handled where
/// they arise (see STYLE.md, "Errors").
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace claudegate {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = boost::asio::ip::tcp;
using error_code = boost::system::error_code;

/// Completion token: `auto [ec, n] = co_await op(..., Token{})`; never throws for I/O errors.
using Token = net::as_tuple_t<net::use_awaitable_t<>>;
/// A TCP stream with Beast's per-operation timeouts whose operations default to `Token`.
using TcpStream = Token::as_default_on_t<beast::tcp_stream>;
using Acceptor = Token::as_default_on_t<tcp::acceptor>;
using Timer = Token::as_default_on_t<net::steady_timer>;

template <typename T>
using Awaitable = net::awaitable<T>;

}  // namespace claudegate
