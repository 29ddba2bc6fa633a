#pragma once
#include <string>

namespace streamgate::server {
// Installs the default logger: asynchronous (a request never waits on stdout), JSON or text
// lines on stdout, at `level`. Overflow drops the oldest queued line rather than block.
void setup_logging(const std::string& level, const std::string& format);
}  // namespace streamgate::server
