#pragma once
// Structured log lines: each message is a run of JSON members ("msg":"...","k":v) that the
// logger's pattern wraps in {"ts":...,"level":...,<members>}. Never put a token or secret here.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace streamgate::http {

class LogLine final {
 public:
  explicit LogLine(std::string_view msg);
  LogLine& add(std::string_view key, std::string_view value);
  LogLine& add(std::string_view key, const char* value) {
    return add(key, std::string_view(value));
  }
  LogLine& add(std::string_view key, const std::string& value) {
    return add(key, std::string_view(value));
  }
  LogLine& add(std::string_view key, std::int64_t value);
  LogLine& add(std::string_view key, int value) {
    return add(key, static_cast<std::int64_t>(value));
  }
  LogLine& add(std::string_view key, double value);
  LogLine& add(std::string_view key, bool value);
  LogLine& add_raw(std::string_view key, std::string_view json);
  const std::string& str() const { return buf_; }

 private:
  std::string buf_;
};

// Both are no-ops once spdlog has shut down (the default logger is gone then), so that code
// running late in the process's exit can never log through a null logger.
inline void log(spdlog::level::level_enum level, const LogLine& line) {
  if (auto* logger = spdlog::default_logger_raw()) logger->log(level, std::string_view(line.str()));
}
inline bool log_enabled(spdlog::level::level_enum level) {
  auto* logger = spdlog::default_logger_raw();
  return logger != nullptr && logger->should_log(level);
}

}  // namespace streamgate::http
