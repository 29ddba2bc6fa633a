#include "server/app/domain_errors.hpp"

#include <optional>

#include "http/log.hpp"
#include "server/clients/stream_client.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

http::Middleware domain_errors() {
  return [](http::Request& req, http::Context& ctx, http::Next next) -> http::Task<http::Response> {
    // No co_await inside a catch block: record the failure, answer after it.
    std::optional<http::HttpError> failure;
    try {
      co_return co_await next(req, ctx);
    } catch (const StoreUnavailable& e) {
      // The detail (a path, a database message) goes to the log, never to the client.
      http::log(spdlog::level::warn, http::LogLine("store unavailable")
                                         .add("route", ctx.route_pattern)
                                         .add("requestId", ctx.request_id)
                                         .add("error", std::string_view(e.what())));
      failure.emplace(503, "store_unavailable", "The store is unavailable; retry later");
      failure->with_header("Retry-After", "1");
    } catch (const StreamError& e) {
      failure = to_http_error(e);
    }
    throw *failure;
  };
}

}  // namespace streamgate::server
