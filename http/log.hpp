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

inline void log(spdlog::level::level_enum level, const LogLine& line) {
  spdlog::default_logger_raw()->log(level, std::string_view(line.str()));
}
inline bool log_enabled(spdlog::level::level_enum level) {
  return spdlog::default_logger_raw()->should_log(level);
}

}  // namespace streamgate::http
