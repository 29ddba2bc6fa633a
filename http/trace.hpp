#pragma once
// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` header a request
// brings, and the one we send on each outbound call (same trace id, a new span id). The trace id
// is also the request id unless the client names its own with X-Request-Id (middleware.hpp).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamgate::http {

struct TraceParent {
  std::string trace_id;   // 32 lowercase hex, not all zero
  std::string parent_id;  // 16 lowercase hex, not all zero
  std::uint8_t flags = 0;
};

// Version 00 exactly; a later version's first four fields (more may follow after a '-').
// Anything else (upper-case hex, all-zero ids, version ff, wrong lengths) is nullopt.
std::optional<TraceParent> parse_traceparent(std::string_view header);
// True for 32 lowercase hex digits that are not all zero.
bool is_trace_id(std::string_view id);
std::string new_trace_id();  // 32 hex, random
std::string new_span_id();   // 16 hex, random

// What an outbound call carries: the trace id, the request id and the sampling flags.
struct Trace {
  std::string trace_id;
  std::string request_id;
  std::uint8_t flags = 0;
  // A new trace for work no request started (background jobs): its id is the request id too.
  static Trace fresh();
  // "00-<trace id>-<new span id>-<flags>"
  std::string traceparent() const;
};

}  // namespace streamgate::http
