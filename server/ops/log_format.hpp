#pragma once
// The line every log message becomes, written straight into spdlog's buffer (spdlog's pattern
// formatter walked a list of flag formatters per line, a fifth of a token request's logging):
//   JSON: {"ts":"2026-11-24T12:07:09.045Z","level":"info",<members>}\n
//   text: 12:07:09 INFO  <sentence>\n
// Level names are LOG_LEVEL's own ("warn", not spdlog's "warning"). Times are UTC; the date
// part is formatted once per second and kept.
#include <spdlog/formatter.h>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

namespace streamgate::server {

// LOG_LEVEL's name for a level.
std::string_view log_level_name(spdlog::level::level_enum level);

class LineFormatter final : public spdlog::formatter {
 public:
  explicit LineFormatter(bool text) : text_(text) {}
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;

 private:
  bool text_;
  std::int64_t cached_second_ = std::numeric_limits<std::int64_t>::min();
  std::string cached_;  // the time up to its seconds, for cached_second_
};

}  // namespace streamgate::server
