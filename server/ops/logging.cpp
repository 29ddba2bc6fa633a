#include "server/ops/logging.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "http/log.hpp"
#include "server/ops/log_sink.hpp"

namespace streamgate::server {

namespace {

std::atomic<BatchedFdSink*> the_sink{nullptr};

// LOG_LEVEL's names for the levels: spdlog's own say "warning".
std::string_view level_name(spdlog::level::level_enum level) {
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

// %J: the level as LOG_LEVEL names it; %K: the same in capitals, padded to 5 (text lines).
class LevelFlag final : public spdlog::custom_flag_formatter {
 public:
  explicit LevelFlag(bool upper) : upper_(upper) {}
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    const auto name = level_name(msg.level);
    for (char c : name) dest.push_back(upper_ ? static_cast<char>(c - 'a' + 'A') : c);
    if (upper_)
      for (std::size_t i = name.size(); i < 5; ++i) dest.push_back(' ');
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<LevelFlag>(upper_);
  }

 private:
  bool upper_;
};

}  // namespace

void setup_logging(const std::string& level, const std::string& format) {
  static std::shared_ptr<spdlog::logger> logger;
  if (!logger) {
    // Synchronous logger over a batched sink: formatting happens on the calling thread,
    // writing on the sink's flusher thread, and nothing is signalled per line.
    auto sink = std::make_shared<BatchedFdSink>(1);
    the_sink.store(sink.get());
    logger = std::make_shared<spdlog::logger>("streamgate", std::move(sink));
    spdlog::set_default_logger(logger);
  }
  const bool text = format != "json";
  http::set_text_logs(text);
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  formatter->add_flag<LevelFlag>('J', false).add_flag<LevelFlag>('K', true);
  formatter->set_pattern(text ? "%H:%M:%S %K %v"
                              : "{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%J\",%v}");
  spdlog::set_formatter(std::move(formatter));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::err);
}

std::uint64_t dropped_log_lines() {
  const auto* sink = the_sink.load();
  return sink ? sink->dropped() : 0;
}

}  // namespace streamgate::server
