#include "http/middleware.hpp"

#include <chrono>
#include <exception>

#include "http/json_response.hpp"
#include "http/log.hpp"
#include "http/trace.hpp"

namespace streamgate::http {

bool is_sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

std::string generate_request_id() { return new_trace_id(); }

Trace trace_of(const Context& ctx) {
  Trace t;
  t.trace_id = ctx.trace_id;
  t.request_id = ctx.request_id;
  t.flags = ctx.trace_flags;
  return t;
}

Middleware request_id() {
  return [](Request& req, Context& ctx, Next next) -> Task<Response> {
    // A valid traceparent names the trace, and its trace id is the request id. Without one, a
    // sane X-Request-Id is the request id (and the trace id too when it has a trace id's form,
    // as nginx's $request_id has); otherwise both are one new id.
    if (auto parent = parse_traceparent(req.header("traceparent"))) {
      ctx.trace_id = std::move(parent->trace_id);
      ctx.trace_flags = parent->flags;
      ctx.request_id = ctx.trace_id;
    } else if (const auto given = req.header("x-request-id"); is_sane_request_id(given)) {
      ctx.request_id = std::string(given);
      ctx.trace_id = is_trace_id(given) ? ctx.request_id : new_trace_id();
    } else {
      ctx.trace_id = new_trace_id();
      ctx.request_id = ctx.trace_id;
    }
    Response res = co_await next(req, ctx);
    res.set_header("X-Request-Id", ctx.request_id);
    co_return res;
  };
}

Middleware access_log() {
  return [](Request& req, Context& ctx, Next next) -> Task<Response> {
    Response res = co_await next(req, ctx);
    const auto level = res.status >= 500 ? spdlog::level::warn : spdlog::level::info;
    if (log_enabled(level)) {
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.started)
              .count();
      LogLine line("request");
      line.word("method", req.method_name)
          .word("route",
                ctx.route_pattern.empty() ? std::string_view("(unmatched)") : ctx.route_pattern)
          .word("status", res.status)
          .word_ms("durationMs", ms)
          .add("bytes", static_cast<std::int64_t>(res.body.size()));
      if (ctx.principal) line.add("user", ctx.principal->subject);
      line.add("ip", ctx.client_ip).add("requestId", ctx.request_id).add("traceId", ctx.trace_id);
      log(level, line);
    }
    co_return res;
  };
}

Middleware error_envelope() {
  return [](Request& req, Context& ctx, Next next) -> Task<Response> {
    // No co_await inside a catch block: record what happened, answer after it.
    std::optional<HttpError> failure;
    try {
      co_return co_await next(req, ctx);
    } catch (const HttpError& e) {
      failure = e;
    } catch (const std::exception& e) {
      log(spdlog::level::err, LogLine("unhandled exception")
                                  .add("route", ctx.route_pattern)
                                  .add("requestId", ctx.request_id)
                                  .add("error", e.what()));
      failure.emplace(500, "internal_error", "Internal server error");
    }
    co_return json_error(*failure, ctx.request_id);
  };
}

Middleware cors(CorsOptions options) {
  return [options = std::move(options)](Request& req, Context& ctx, Next next) -> Task<Response> {
    const std::string_view origin = req.header("origin");
    bool allowed = false;
    if (!origin.empty()) {
      for (const auto& o : options.allowed_origins)
        if (o == "*" || o == origin) allowed = true;
    }
    const bool preflight = req.method == Method::options && !origin.empty() &&
                           !req.header("access-control-request-method").empty();
    if (preflight && ctx.path_known) {
      if (!allowed)
        co_return json_error(403, "cors_rejected", "Origin is not allowed", ctx.request_id);
      Response res;
      res.status = 204;
      res.content_type.clear();
      res.set_header("Access-Control-Allow-Origin", std::string(origin));
      res.set_header("Access-Control-Allow-Methods", ctx.allowed_methods);
      res.set_header("Access-Control-Allow-Headers", options.allowed_headers);
      res.set_header("Access-Control-Max-Age", std::to_string(options.max_age_seconds));
      res.set_header("Vary",
                     "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
      co_return res;
    }
    Response res = co_await next(req, ctx);
    if (allowed) {
      res.set_header("Access-Control-Allow-Origin", std::string(origin));
      res.set_header("Access-Control-Expose-Headers", options.exposed_headers);
    }
    if (!options.allowed_origins.empty()) res.set_header("Vary", "Origin");
    co_return res;
  };
}

}  // namespace streamgate::http
