/// @file logging.hpp
/// The daemon's log set-up: one stderr sink, text or JSON lines (`CLAUDEGATE_LOG_JSON`).
///
/// In JSON mode every line is one JSON object `{"time":…,"level":…,"msg":…}` that a log
/// shipper can parse without rules. spdlog's `%v` pastes the message verbatim, so a quote, a
/// newline or a non-UTF-8 byte in it (a path, a client-sent field) would break the line; the
/// message is written by JsonMessageFlag instead, as a JSON string. Access lines, which are JSON
/// objects already (access_log.hpp), go through their own logger and stay objects:
/// `"msg":{"type":…}`.
#pragma once

#include <memory>
#include <string_view>

#include <spdlog/formatter.h>
#include <spdlog/logger.h>

#include "claudegate/config/config.hpp"

namespace claudegate::logging {

/// The logger access lines go through; it shares the main logger's sink.
inline constexpr std::string_view kAccessLoggerName = "claudegate.access";

/// The formatter for one line: text, or a JSON object per line when `json`.
[[nodiscard]] std::unique_ptr<spdlog::formatter> MakeFormatter(bool json);

/// Creates the main logger (made spdlog's default) and the access logger on one stderr sink, at
/// the configured level. Call once, before any other thread logs.
void Configure(const config::Logging& logging);

/// The access logger when Configure() ran, otherwise spdlog's default logger (tests, tools).
[[nodiscard]] std::shared_ptr<spdlog::logger> AccessLogger();

}  // namespace claudegate::logging
