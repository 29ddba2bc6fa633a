#include "server/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace streamgate::server {

void setup_logging(const std::string& level, const std::string& format) {
  static bool initialised = false;
  if (!initialised) {
    spdlog::init_thread_pool(16384, 1);
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    auto logger = std::make_shared<spdlog::async_logger>("streamgate", sink, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::overrun_oldest);
    spdlog::set_default_logger(logger);
    initialised = true;
  }
  if (format == "json")
    spdlog::set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}", spdlog::pattern_time_type::utc);
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::warn);
}

}  // namespace streamgate::server
