#include "server/ops/log_format.hpp"

#include <chrono>

#include "core/time.hpp"

namespace streamgate::server {

std::string_view log_level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

std::unique_ptr<spdlog::formatter> LineFormatter::clone() const {
  return std::make_unique<LineFormatter>(text_);
}

void LineFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using namespace std::chrono;
  // Milliseconds since the epoch, split by floor so that a time before 1970 still reads right.
  const std::int64_t ms_total = duration_cast<milliseconds>(msg.time.time_since_epoch()).count();
  std::int64_t second = ms_total / 1000;
  std::int64_t ms = ms_total % 1000;
  if (ms < 0) {
    ms += 1000;
    second -= 1;
  }
  if (second != cached_second_) {
    std::string full = core::format_rfc3339(second);  // "YYYY-MM-DDTHH:MM:SSZ"
    full.pop_back();
    // Text lines show the time of day only: the eight characters before the 'Z'.
    cached_ = text_ ? full.substr(full.size() - 8) : std::move(full);
    cached_second_ = second;
  }
  const auto append = [&dest](std::string_view s) { dest.append(s.data(), s.data() + s.size()); };
  const std::string_view level = log_level_name(msg.level);
  const std::string_view payload(msg.payload.data(), msg.payload.size());
  if (text_) {
    char upper[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
    std::size_t n = 0;
    for (; n < level.size() && n < sizeof upper; ++n)
      upper[n] = static_cast<char>(level[n] - 'a' + 'A');
    append(cached_);
    dest.push_back(' ');
    append(std::string_view(upper, n < 5 ? 5 : n));
    dest.push_back(' ');
    append(payload);
    dest.push_back('\n');
    return;
  }
  const char frac[4] = {'.', static_cast<char>('0' + ms / 100),
                        static_cast<char>('0' + ms / 10 % 10), static_cast<char>('0' + ms % 10)};
  append("{\"ts\":\"");
  append(cached_);
  append(std::string_view(frac, 4));
  append("Z\",\"level\":\"");
  append(level);
  append("\",");
  append(payload);
  append("}\n");
}

}  // namespace streamgate::server
