#include "server/ops/logging.hpp"

#include <spdlog/spdlog.h>

#include "server/ops/log_sink.hpp"

namespace streamgate::server {

void setup_logging(const std::string& level, const std::string& format) {
  static std::shared_ptr<spdlog::logger> logger;
  if (!logger) {
    // Synchronous logger over a batched sink: formatting happens on the calling thread,
    // writing on the sink's flusher thread, and nothing is signalled per line.
    logger = std::make_shared<spdlog::logger>("streamgate", std::make_shared<BatchedFdSink>(1));
    spdlog::set_default_logger(logger);
  }
  if (format == "json")
    spdlog::set_pattern("{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"%l\",%v}",
                        spdlog::pattern_time_type::utc);
  else
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::err);
}

}  // namespace streamgate::server
