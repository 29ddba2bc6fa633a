// The HTTP session: raw request bytes in, response bytes out, through the real session code
// (framing, limits, 100-continue, pipelining, keep-alive), the real router and the real global
// middleware, over a MemoryStream that hands the bytes over in reads of a size the input picks.
// The routes mirror the service's: a JSON route behind a rate limit and an auth guard, a route
// with a path parameter, a large-body route, and a small open one.
//
// Properties of every input:
// - nothing escapes the session;
// - the output is a sequence of well-framed HTTP responses and nothing else;
// - one final response per request that reached the middleware chain, plus at most one refusal
//   from the session itself, which closes the connection and comes last;
// - nothing after a response that said Connection: close;
// - no 5xx (nothing here depends on a store or on Stream), every error has the JSON envelope,
//   and every response carries X-Request-Id.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "http/middleware.hpp"
#include "http/rate_limiter.hpp"
#include "http/session.hpp"
#include "tests/fuzz/fuzz.hpp"

namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using namespace streamgate::http;

Task<Response> json_ok(std::string body) {
  Response r;
  r.status = 200;
  r.content_type = "application/json";
  r.body = std::move(body);
  co_return r;
}

struct Harness {
  ServerOptions options;
  Router router;
  std::vector<Middleware> global;
  Handler dispatch = make_dispatch();
  std::atomic<bool> draining{false};
  std::vector<Method> methods;  // of the requests that reached the chain, in order

  Harness() {
    options.header_limit = bounded_header_limit(8 * 1024);
    options.unmatched_body_limit = 1024;
    auto limiter = std::make_shared<LocalRateLimiter>(5);
    Middleware auth = [](Request& req, Context& ctx, Next next) -> Task<Response> {
      if (req.header("authorization") != "Bearer good")
        throw HttpError(401, "unauthenticated", "A valid bearer token is required");
      co_return co_await next(req, ctx);
    };
    const RouteOptions app{
        16 * 1024,
        {rate_limit(limiter,
                    [](const Request&, const Context& ctx) { return "ip:" + ctx.client_ip; }),
         auth}};
    router.add(
        Method::post, "/api/v1/stream/token",
        [](Request& req, Context&) -> Task<Response> {
          // A JSON body or a 400, as the real route's parser answers.
          boost::system::error_code ec;
          const auto v = boost::json::parse(req.body, ec);
          if (ec || !v.is_object()) throw HttpError(400, "invalid_request", "Body must be JSON");
          return json_ok(R"({"token":"t"})");
        },
        app);
    router.add(
        Method::get, "/api/v1/calls/{callId}",
        [](Request&, Context& ctx) -> Task<Response> {
          return json_ok(boost::json::serialize(
              boost::json::value{{"callId", std::string(ctx.param("callId"))}}));
        },
        app);
    router.add(
        Method::post, "/api/webhook/stream",
        [](Request& req, Context&) -> Task<Response> {
          return json_ok("{\"bytes\":" + std::to_string(req.body.size()) + "}");
        },
        RouteOptions{256 * 1024, {}});
    router.add(
        Method::get, "/healthz",
        [](Request&, Context&) -> Task<Response> { return json_ok(R"({"status":"ok"})"); },
        RouteOptions{1024, {}});
    Middleware count = [this](Request& req, Context& ctx, Next next) -> Task<Response> {
      methods.push_back(req.method);
      co_return co_await next(req, ctx);
    };
    CorsOptions cors;
    cors.allowed_origins = {"https://app.example"};
    global = {count, request_id(), access_log(), streamgate::http::cors(std::move(cors)),
              error_envelope()};
  }
};

bool has_json_envelope(const std::string& body) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(body, ec);
  return !ec && v.is_object() && v.as_object().contains("error");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the bytes arrive: 1..128 per read, or as much as the session asks.
  const std::size_t max_read = data[0] < 128 ? data[0] + 1u : 1u << 20;
  Harness h;
  asio::io_context ctx;
  MemoryStream stream(ctx.get_executor(), std::string(as_text(data + 1, size - 1)), max_read);
  IdleSet idle;
  const SessionShared shared{h.options, h.router, h.global, h.dispatch, h.draining};
  const std::string peer_ip = "203.0.113.7";  // outlives the coroutine, which keeps a reference
  std::exception_ptr escaped;
  bool finished = false;
  asio::co_spawn(ctx, serve_connection(stream, shared, idle, peer_ip), [&](std::exception_ptr e) {
    escaped = e;
    finished = true;
  });
  ctx.run();
  FUZZ_CHECK(finished);
  FUZZ_CHECK(!escaped);

  // Read the output back as responses, each to the request it answers.
  const std::string& out = stream.output();
  if (std::getenv("FUZZ_SHOW")) std::fwrite(out.data(), 1, out.size(), stderr);  // for a person
  std::size_t pos = 0, finals = 0;
  bool closed = false;
  while (pos < out.size()) {
    FUZZ_CHECK(!closed);  // nothing after Connection: close
    bhttp::response_parser<bhttp::string_body> p;
    p.body_limit(1u << 20);
    p.eager(true);
    const bool head = finals < h.methods.size() && h.methods[finals] == Method::head;
    p.skip(head);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!p.is_done() && !ec) {
      const std::size_t n =
          p.put(asio::buffer(out.data() + pos + used, out.size() - pos - used), ec);
      used += n;
      if (n == 0 && !ec && !p.is_done()) ec = bhttp::error::need_more;
    }
    FUZZ_CHECK(!ec);  // well-framed, and complete
    pos += used;
    const auto& res = p.get();
    const unsigned status = res.result_int();
    if (status == 100) continue;  // the interim answer to Expect: 100-continue
    ++finals;
    FUZZ_CHECK(status >= 200 && status < 500);
    FUZZ_CHECK(!res["X-Request-Id"].empty());
    if (status >= 400 && !head) FUZZ_CHECK(has_json_envelope(res.body()));
    closed = !res.keep_alive();
  }
  // One response per request that reached the chain, and at most one refusal by the session.
  FUZZ_CHECK(finals == h.methods.size() || (finals == h.methods.size() + 1 && closed));
  return 0;
}
