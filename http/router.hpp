#pragma once
// Routes by method and path pattern ("/api/v1/calls/{callId}"); tells 404 from 405 and
// records the matched pattern for logs and metrics.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "http/pipeline.hpp"

namespace streamgate::http {

struct RouteOptions {
  std::size_t body_limit = 64 * 1024;
  std::vector<Middleware> middleware;  // run after the global chain, before the handler
};

struct Route {
  Method method = Method::get;
  std::string pattern;
  std::vector<std::string> segments;  // literal, or "{name}" for a parameter
  Handler handler;
  RouteOptions options;
};

struct RouteMatch {
  enum class Kind { found, not_found, method_not_allowed } kind = Kind::not_found;
  const Route* route = nullptr;
  std::vector<std::pair<std::string_view, std::string>> params;
  std::string allow;  // methods the path accepts, "GET, HEAD, POST" (for 405/OPTIONS)
};

class Router final {
 public:
  // Throws std::invalid_argument for a malformed pattern or a duplicate route.
  void add(Method method, std::string pattern, Handler handler, RouteOptions options = {});
  // `segments` are percent-decoded path segments. HEAD is served by a GET route.
  RouteMatch match(Method method, const std::vector<std::string>& segments) const;
  std::size_t max_body_limit() const { return max_body_limit_; }
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  std::size_t max_body_limit_ = 0;
};

// Splits and percent-decodes an origin-form target's path; false when it is not one.
bool split_target(std::string_view target, std::vector<std::string>& segments,
                  std::string_view& path, std::string_view& query);

}  // namespace streamgate::http
