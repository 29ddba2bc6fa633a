#pragma once
// Prometheus metrics (prometheus-cpp core for the types and the text format; served by our own
// server at GET /metrics). Labels are bounded: route patterns, never raw paths; known event
// types or "other"; no tokens, user ids or secrets anywhere.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/pipeline.hpp"

namespace prometheus {
class Registry;
}

namespace streamgate::server {

class Metrics final {
 public:
  explicit Metrics(std::string version);
  ~Metrics();

  void observe_request(std::string_view route, std::string_view method, int status, double seconds);
  void token_issued(bool call_token);
  void webhook(std::string_view type, std::string_view outcome);
  // One attempt of a Stream call: count by operation and status, latency by operation.
  void stream_call(std::string_view operation, int status, bool retry, double seconds);
  // A rate-limit decision taken without Redis: let through (fail-open) or refused (closed).
  void rate_limiter_unavailable(bool let_through);
  void jwks_failure();
  // What /readyz answered last (streamgate_ready, for alerts on flapping).
  void readiness(bool ready);
  void store_call(std::string_view operation, double seconds, bool ok);
  // One delivery attempt of an app event: outcome delivered | retry | failed.
  void app_event_attempt(std::string_view type, std::string_view outcome, double seconds);
  // The outbox: pending events, and the age of the oldest (0 when none).
  void app_event_queue(std::int64_t pending, double oldest_pending_seconds);
  // One transcript fetch: outcome ready | retry | failed; the stored file's segment count.
  void transcript_fetch(std::string_view outcome, double seconds, std::int64_t segments);
  // Text exposition format; `open_connections`, the process_* metrics (from /proc/self) and the
  // dropped log lines are read at scrape time.
  std::string render(double open_connections);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Global middleware: request count and latency by route pattern, method and status.
http::Middleware metrics_middleware(std::shared_ptr<Metrics> metrics);

}  // namespace streamgate::server
