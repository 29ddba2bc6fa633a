#include "server/ops/logging.hpp"

#include <spdlog/spdlog.h>

#include <atomic>

#include "http/log.hpp"
#include "server/ops/log_format.hpp"
#include "server/ops/log_sink.hpp"

namespace streamgate::server {

namespace {

std::atomic<BatchedFdSink*> the_sink{nullptr};

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
  spdlog::set_formatter(std::make_unique<LineFormatter>(text));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::flush_on(spdlog::level::err);
}

std::uint64_t dropped_log_lines() {
  const auto* sink = the_sink.load();
  return sink ? sink->dropped() : 0;
}

}  // namespace streamgate::server
