#pragma once
// Generic middleware. Typical order, outermost first:
//   request_id → access_log → cors → error_envelope → (routing) → route guards → handler
// (cors outside error_envelope, so that error responses carry the CORS headers too).
#include <string>
#include <vector>

#include "http/pipeline.hpp"
#include "http/trace.hpp"

namespace streamgate::http {

// Sets the request id and trace id (Context): a valid W3C traceparent's trace id is both; else
// a sane X-Request-Id (1–128 of [A-Za-z0-9._:-]) is the request id; else one new id is both.
// The request id is echoed in X-Request-Id.
Middleware request_id();
// The request's trace, for its outbound calls.
Trace trace_of(const Context& ctx);
bool is_sane_request_id(std::string_view id);
std::string generate_request_id();

// One structured line per request: method, route pattern (never the raw path or query),
// status, duration, bytes, user, client ip, request id and trace id.
Middleware access_log();

// Turns HttpError and any other exception into the JSON envelope. Unknown exceptions become
// 500 internal_error without their text (which might carry internals).
Middleware error_envelope();

struct CorsOptions {
  std::vector<std::string> allowed_origins;  // exact origins, or "*" for any
  std::string allowed_headers = "Authorization, Content-Type, X-Request-Id, traceparent";
  std::string exposed_headers =
      "X-Request-Id, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining";
  int max_age_seconds = 600;
};
// Answers preflights (OPTIONS with Access-Control-Request-Method) for known paths and adds
// Access-Control-Allow-Origin for allowed origins. A preflight from another origin gets 403.
Middleware cors(CorsOptions options);

}  // namespace streamgate::http
