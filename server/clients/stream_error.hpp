#pragma once
// Stream's failures (docs/stream-contract.md §4): its error bodies and rate-limit hints as this
// server reads them, and the answer our client gets. Pure (no I/O), so that the fuzz target
// reaches them.
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "http/https_client.hpp"
#include "http/types.hpp"

namespace streamgate::server {

struct StreamError : std::runtime_error {
  enum class Kind { rejected, unavailable, timeout };
  StreamError(Kind kind, int status, int code, std::string message, bool unrecoverable = false,
              std::int64_t retry_after = 0)
      : std::runtime_error(std::move(message)),
        kind(kind),
        status(status),
        code(code),
        unrecoverable(unrecoverable),
        retry_after_seconds(retry_after) {}
  Kind kind;
  int status;  // Stream's HTTP status, 0 for transport failures
  int code;    // Stream's error code, 0 when unknown
  bool unrecoverable;
  std::int64_t retry_after_seconds;
};

// Our answer for a Stream failure (docs/spec.md §1.3): 4xx → 400/404/409/422 upstream_rejected with
// error.upstreamCode; 5xx → 502, transport → 503, timeout → 504 upstream_unavailable.
http::HttpError to_http_error(const StreamError& e);

// How much of Stream's error message our client sees.
inline constexpr std::size_t kMaxUpstreamMessage = 256;

// How long a 429 asks us to wait, in milliseconds, if it says (Retry-After, or
// X-RateLimit-Reset against `now`, Unix seconds), clamped to a day.
std::optional<std::int64_t> server_wait_ms(const http::ClientResponse& r, std::int64_t now);

// The StreamError of an answer that is not 2xx.
StreamError error_from_response(const http::ClientResponse& r, std::int64_t now);

// Our answer for a Stream failure (docs/spec.md §1.3): 4xx → 400/404/409/422 upstream_rejected with
// error.upstreamCode; 5xx → 502, transport → 503, timeout → 504 upstream_unavailable.
http::HttpError to_http_error(const StreamError& e);

}  // namespace streamgate::server
