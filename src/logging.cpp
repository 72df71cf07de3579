#include "claudegate/logging.hpp"

#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace claudegate::logging {
namespace {

// `%*` in the JSON pattern: the message as a JSON value. nlohmann escapes quotes, backslashes and
// control characters and replaces invalid UTF-8 with U+FFFD, so every line parses (RFC 8259).
class JsonMessageFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm& /*time*/,
              spdlog::memory_buf_t& dest) override {
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    if (logger == kAccessLoggerName && payload.starts_with('{')) {
      // Built by nlohmann (with the same replace handler) in access_log.cpp: a valid object.
      dest.append(payload.data(), payload.data() + payload.size());
      return;
    }
    const std::string quoted = nlohmann::json(std::string(payload))
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }

  [[nodiscard]] std::unique_ptr<spdlog::custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

}  // namespace

std::unique_ptr<spdlog::formatter> MakeFormatter(bool json) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  if (json) {
    formatter->add_flag<JsonMessageFlag>('*').set_pattern(
        R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":%*})");
  } else {
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  }
  return formatter;
}

void Configure(const config::Logging& logging) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  sink->set_formatter(MakeFormatter(logging.json));
  const auto level = spdlog::level::from_str(logging.level == "warning" ? "warn" : logging.level);
  auto logger = std::make_shared<spdlog::logger>("claudegate", sink);
  auto access = std::make_shared<spdlog::logger>(std::string(kAccessLoggerName), sink);
  for (const auto& each : {logger, access}) {
    each->set_level(level);
    each->flush_on(spdlog::level::info);
    spdlog::register_logger(each);
  }
  spdlog::set_default_logger(logger);
}

std::shared_ptr<spdlog::logger> AccessLogger() {
  auto access = spdlog::get(std::string(kAccessLoggerName));
  return access ? access : spdlog::default_logger();
}

}  // namespace claudegate::logging
