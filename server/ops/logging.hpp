#pragma once
#include <string>

namespace streamgate::server {
// Installs the default logger: JSON or text lines on stdout at `level`, written in batches by
// a background thread (BatchedFdSink), so a request never waits on stdout.
void setup_logging(const std::string& level, const std::string& format);
}  // namespace streamgate::server
