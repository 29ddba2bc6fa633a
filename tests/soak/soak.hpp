#pragma once
// The soak driver (docs/testing.md, "Soak"): mixed traffic against one running binary for a set
// time, sampling its RSS, open descriptors and threads every second. Used by the 60-second CTest
// (test_soak) and by the long run (tests/soak/run.sh, figures in docs/benchmarks.md).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace streamgate::test {

struct SoakSample {
  double seconds = 0;
  std::int64_t rss_kb = 0;
  int fds = 0;
  int threads = 0;
  std::uint64_t requests = 0;
};

struct SoakReport {
  std::map<std::string, std::map<int, std::uint64_t>> statuses;  // kind → status → count
  std::vector<std::string> unexpected;  // "kind: status" for answers outside the expected set
  std::vector<SoakSample> samples;
  int baseline_fds = 0;  // after warm-up, between requests
  int final_fds = 0;     // after the traffic stopped and idle connections closed
  // Both without the HTTPS client's idle connections to the fake Stream, counted here (at the end).
  int pooled_stream_connections = 0;
  std::vector<std::string> baseline_fd_targets, final_fd_targets;
  double warmup_seconds = 0;
  std::int64_t rss_after_warmup_kb = 0;
  std::int64_t rss_end_kb = 0;
  double slope_kb_per_minute = 0;  // least squares over the samples after warm-up
  std::uint64_t total() const;
  std::string summary() const;
};

struct SoakOptions {
  double seconds = 60;
  int clients = 4;
  std::string csv_path;  // one line per sample, when set
};

// Starts the binary (STREAMGATE_BINARY) against a fake Stream and a fresh SQLite file, drives
// it, stops it, and reports.
SoakReport run_soak(const SoakOptions& options);

}  // namespace streamgate::test
