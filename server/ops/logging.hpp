#pragma once
#include <cstdint>
#include <string>

namespace streamgate::server {
// Installs the default logger: JSON or text lines on stdout at `level`, written in batches by
// a background thread (BatchedFdSink), so a request never waits on stdout. Level names are
// LOG_LEVEL's own (`warn`, not `warning`); text lines read `06:01:58 WARN request POST ...`.
void setup_logging(const std::string& level, const std::string& format);
// Lines the sink dropped because stdout did not keep up (0 before setup_logging).
std::uint64_t dropped_log_lines();
}  // namespace streamgate::server
