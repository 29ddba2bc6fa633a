#pragma once
// The request, response, per-request context and typed error that handlers and middleware
// see. No Beast here: the session translates to and from the wire.
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace streamgate::http {

enum class Method : std::uint8_t { get, head, post, put, patch, del, options, other };
Method parse_method(std::string_view name);
std::string_view to_string(Method m);

bool iequals(std::string_view a, std::string_view b);

using HeaderView = std::pair<std::string_view, std::string_view>;
struct Route;

struct Request {
  Method method = Method::get;
  std::string_view method_name;
  std::string_view target;          // raw request target, e.g. "/api/v1/calls/x?type=default"
  std::string_view path;            // target before '?', still percent-encoded
  std::string_view query;           // after '?', without it
  std::vector<HeaderView> headers;  // views into the session's parsed message
  std::string body;
  std::string remote_address;

  // First header with this name (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  // A percent-decoded query parameter.
  std::optional<std::string> query_param(std::string_view name) const;
};

// Text that lives as long as the program: made from a string literal only, so a Response (which
// outlives the handler that made it) can hold it without a copy. "application/json" is one byte
// too long for std::string's inline buffer, so a std::string here cost every answer a malloc.
class StaticText {
 public:
  constexpr StaticText() = default;
  template <std::size_t N>
  constexpr StaticText(const char (&literal)[N]) : text_(literal, N - 1) {}  // NOLINT: implicit
  constexpr std::string_view view() const { return text_; }
  constexpr operator std::string_view() const { return text_; }  // NOLINT: implicit
  constexpr bool empty() const { return text_.empty(); }
  constexpr void clear() { text_ = {}; }

 private:
  std::string_view text_;
};

struct Response {
  int status = 200;
  StaticText content_type = "application/json";  // empty: no Content-Type
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close = false;  // close the connection after this response

  void set_header(std::string name, std::string value);
  std::string_view header(std::string_view name) const;
};

struct Principal {
  std::string subject;
  std::vector<std::string> roles;
  bool has_role(std::string_view role) const;
};

// The binding rate limit of a request: of every limiter it passed, the one with the fewest
// tokens left (it is the one that refuses first).
struct RateLimitState {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
};

struct Context {
  std::string request_id;
  std::string trace_id;  // W3C trace id (trace.hpp): the traceparent's, else a new one
  std::uint8_t trace_flags = 0;
  std::string client_ip;
  std::string_view route_pattern;  // the matched pattern, "" when none matched
  std::vector<std::pair<std::string_view, std::string>> params;  // decoded path parameters
  std::string allowed_methods;   // for 405 and CORS preflight, e.g. "GET, POST"
  bool path_known = false;       // some route has this path
  const Route* route = nullptr;  // the matched route, null for 404/405
  std::optional<Principal> principal;
  std::optional<RateLimitState> rate_limit;
  int rate_limiters_entered = 0;  // rate_limit middleware: how many the request is inside of
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  std::string_view param(std::string_view name) const;
};

// Thrown by handlers and middleware; the error middleware turns it into the JSON envelope.
struct HttpError : std::runtime_error {
  HttpError(int status, std::string code, std::string message)
      : std::runtime_error(message), status(status), code(std::move(code)) {}
  // Sets a header, replacing one of the same name.
  HttpError& with_header(std::string name, std::string value) {
    for (auto& [k, v] : headers) {
      if (k == name) {
        v = std::move(value);
        return *this;
      }
    }
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
  int status;
  std::string code;
  std::vector<std::pair<std::string, std::string>> headers;
  boost::json::object details;  // extra members of "error"
};

}  // namespace streamgate::http
