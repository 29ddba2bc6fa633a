#pragma once
// Structured log lines. In JSON (the default) each message is a run of JSON members
// ("msg":"...","k":v) that the logger's pattern wraps in {"ts":...,"level":...,<members>}; in text
// (set_text_logs(true), LOG_FORMAT=text) it reads as a sentence: `request POST /x 503 308ms
// user=alice`. Never put a token or secret here.
#include <spdlog/spdlog.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace streamgate::http {

// The format of every LogLine made after the call (set once at start-up).
void set_text_logs(bool text);

class LogLine final {
 public:
  explicit LogLine(std::string_view msg);
  // The buffer goes back to its thread's few spare ones (a request writes two lines; neither
  // allocates once the thread has written a line or two).
  ~LogLine();
  LogLine(LogLine&&) noexcept = default;
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;
  LogLine& operator=(LogLine&&) = delete;
  // A member whose value alone is shown in text (`POST`, `503`), as `"key":value` in JSON.
  LogLine& word(std::string_view key, std::string_view value);
  LogLine& word(std::string_view key, std::int64_t value);
  // A duration in milliseconds: `308ms` in text, `"key":308.123` in JSON.
  LogLine& word_ms(std::string_view key, double ms);
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
  void text_value(std::string_view value);
  std::string buf_;
  bool text_;
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
