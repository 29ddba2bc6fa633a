#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "http/json_response.hpp"
#include "http/middleware.hpp"
#include "http/rate_limiter.hpp"
#include "tests/support/run_coro.hpp"

using namespace streamgate::http;
using streamgate::test::run_coro;
namespace json = boost::json;

namespace {

// A middleware that records its entry and exit in a shared trace.
Middleware tracer(std::vector<std::string>& trace, std::string name) {
  return [&trace, name](Request& req, Context& ctx, Next next) -> Task<Response> {
    trace.push_back(name + ">");
    Response r = co_await next(req, ctx);
    trace.push_back("<" + name);
    co_return r;
  };
}

Task<Response> run(const std::vector<Middleware>& chain, const Handler& h, Request req = {}) {
  Context ctx;
  co_return co_await run_chain(chain, h, req, ctx);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(middleware)

BOOST_AUTO_TEST_CASE(onion_order) {
  std::vector<std::string> trace;
  const std::vector<Middleware> chain{tracer(trace, "a"), tracer(trace, "b"), tracer(trace, "c")};
  const Handler h = [&trace](Request&, Context&) -> Task<Response> {
    trace.push_back("handler");
    co_return Response{};
  };
  run_coro(run(chain, h));
  const std::vector<std::string> expected{"a>", "b>", "c>", "handler", "<c", "<b", "<a"};
  BOOST_TEST(trace == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_guard_short_circuits) {
  std::vector<std::string> trace;
  const Middleware guard = [](Request&, Context&, Next) -> Task<Response> {
    throw HttpError(401, "unauthenticated", "no");
    co_return Response{};
  };
  const std::vector<Middleware> chain{tracer(trace, "outer"), error_envelope(), guard,
                                      tracer(trace, "inner")};
  bool called = false;
  const Handler h = [&called](Request&, Context&) -> Task<Response> {
    called = true;
    co_return Response{};
  };
  const Response r = run_coro(run(chain, h));
  BOOST_TEST(!called);
  BOOST_TEST(r.status == 401);
  const auto body = json::parse(r.body).as_object();
  BOOST_TEST(body.at("success").as_bool() == false);
  BOOST_TEST(body.at("error").at("code").as_string() == "unauthenticated");
  const std::vector<std::string> expected{"outer>", "<outer"};
  BOOST_TEST(trace == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(unknown_exceptions_become_500_without_their_text) {
  const Handler h = [](Request&, Context&) -> Task<Response> {
    throw std::runtime_error("password=hunter2 leaked");
    co_return Response{};
  };
  const Response r = run_coro(run({error_envelope()}, h));
  BOOST_TEST(r.status == 500);
  BOOST_TEST(r.body.find("hunter2") == std::string::npos);
  BOOST_TEST(json::parse(r.body).at("error").at("code").as_string() == "internal_error");
}

BOOST_AUTO_TEST_CASE(request_id_is_echoed_when_sane_and_generated_otherwise) {
  const Handler h = [](Request&, Context& ctx) -> Task<Response> {
    Response r;
    r.body = ctx.request_id;
    co_return r;
  };
  Request sane;
  sane.headers = {{"X-Request-Id", "abc-123.X:y_z"}};
  Response r = run_coro(run({request_id()}, h, sane));
  BOOST_TEST(r.header("X-Request-Id") == "abc-123.X:y_z");
  BOOST_TEST(r.body == "abc-123.X:y_z");

  for (std::string bad : {std::string("has space"), std::string(200, 'a'),
                          std::string("inj\r\nX: y"), std::string("")}) {
    Request req;
    req.headers = {{"x-request-id", bad}};
    r = run_coro(run({request_id()}, h, req));
    BOOST_TEST(r.header("X-Request-Id") != bad);
    BOOST_TEST(r.header("X-Request-Id").size() == 32u);
  }
}

BOOST_AUTO_TEST_CASE(rate_limit_middleware_answers_429_with_retry_after) {
  auto limiter = std::make_shared<LocalRateLimiter>(2);
  const std::vector<Middleware> chain{
      error_envelope(),
      rate_limit(limiter, [](const Request&, const Context&) { return std::string("k"); })};
  const Handler h = [](Request&, Context&) -> Task<Response> { co_return Response{}; };
  BOOST_TEST(run_coro(run(chain, h)).status == 200);
  BOOST_TEST(run_coro(run(chain, h)).status == 200);
  const Response r = run_coro(run(chain, h));
  BOOST_TEST(r.status == 429);
  BOOST_TEST(std::stoi(std::string(r.header("Retry-After"))) >= 1);
  BOOST_TEST(json::parse(r.body).at("error").at("code").as_string() == "rate_limited");
}

namespace {

// A limiter that can only be awaited (as the Redis one): take_at_once says "ask take()".
class AwaitedLimiter final : public Limiter {
 public:
  explicit AwaitedLimiter(std::int64_t per_minute) : inner_(per_minute) {}
  Task<RateDecision> take(std::string key) override {
    ++awaited;
    co_return inner_.take_now(key, LocalRateLimiter::Clock::now());
  }
  int awaited = 0;

 private:
  LocalRateLimiter inner_;
};

}  // namespace

BOOST_AUTO_TEST_CASE(nested_rate_limits_write_the_binding_headers_once) {
  auto outer = std::make_shared<AwaitedLimiter>(5);
  auto inner = std::make_shared<LocalRateLimiter>(2);
  const auto key = [](const Request&, const Context&) { return std::string("k"); };
  const std::vector<Middleware> chain{error_envelope(), rate_limit(outer, key),
                                      rate_limit(inner, key)};
  int status = 200;
  const Handler h = [&status](Request&, Context&) -> Task<Response> {
    if (status != 200) throw HttpError(status, "bad_request", "no");
    co_return Response{};
  };
  const auto count = [](const Response& r, std::string_view name) {
    return std::count_if(r.headers.begin(), r.headers.end(),
                         [&](const auto& kv) { return iequals(kv.first, name); });
  };
  // The inner bucket (2) binds; each header once.
  Response r = run_coro(run(chain, h));
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("X-RateLimit-Limit") == "2");
  BOOST_TEST(r.header("X-RateLimit-Remaining") == "1");
  BOOST_TEST(count(r, "X-RateLimit-Limit") == 1);
  BOOST_TEST(count(r, "X-RateLimit-Remaining") == 1);
  // A handler's error carries them too.
  status = 400;
  r = run_coro(run(chain, h));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.header("X-RateLimit-Limit") == "2");
  BOOST_TEST(r.header("X-RateLimit-Remaining") == "0");
  BOOST_TEST(count(r, "X-RateLimit-Remaining") == 1);
  // The inner limiter's own 429 keeps its Retry-After and carries the binding headers.
  status = 200;
  r = run_coro(run(chain, h));
  BOOST_TEST(r.status == 429);
  BOOST_TEST(std::stoi(std::string(r.header("Retry-After"))) >= 1);
  BOOST_TEST(r.header("X-RateLimit-Limit") == "2");
  BOOST_TEST(r.header("X-RateLimit-Remaining") == "0");
  BOOST_TEST(count(r, "X-RateLimit-Limit") == 1);
  // The awaited limiter was asked through take() every time.
  BOOST_TEST(outer->awaited == 3);
}

BOOST_AUTO_TEST_CASE(cors_preflight_and_simple_requests) {
  CorsOptions o;
  o.allowed_origins = {"https://app.example"};
  const std::vector<Middleware> chain{cors(o), error_envelope()};
  const Handler h = [](Request&, Context&) -> Task<Response> { co_return Response{}; };
  auto call = [&](Method m, std::string origin, bool preflight) {
    return run_coro([&]() -> Task<Response> {
      Request req;
      req.method = m;
      req.headers.emplace_back("Origin", origin);
      if (preflight) req.headers.emplace_back("Access-Control-Request-Method", "POST");
      Context ctx;
      ctx.path_known = true;
      ctx.allowed_methods = "POST";
      co_return co_await run_chain(chain, h, req, ctx);
    }());
  };
  Response r = call(Method::options, "https://app.example", true);
  BOOST_TEST(r.status == 204);
  BOOST_TEST(r.header("Access-Control-Allow-Origin") == "https://app.example");
  BOOST_TEST(r.header("Access-Control-Allow-Methods") == "POST");
  BOOST_TEST(r.header("Access-Control-Allow-Headers").find("Authorization") !=
             std::string_view::npos);
  r = call(Method::options, "https://evil.example", true);
  BOOST_TEST(r.status == 403);
  BOOST_TEST(r.header("Access-Control-Allow-Origin").empty());
  r = call(Method::post, "https://app.example", false);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("Access-Control-Allow-Origin") == "https://app.example");
  r = call(Method::post, "https://evil.example", false);
  BOOST_TEST(r.header("Access-Control-Allow-Origin").empty());
}

BOOST_AUTO_TEST_CASE(envelope_shapes) {
  const Response ok = json_success(201, json::object{{"a", 1}}, "made");
  BOOST_TEST(ok.status == 201);
  BOOST_TEST(ok.body == R"({"success":true,"data":{"a":1},"message":"made"})");
  const Response err = json_error(404, "not_found", "gone", "rid");
  BOOST_TEST(
      err.body ==
      R"({"success":false,"message":"gone","error":{"code":"not_found","requestId":"rid"}})");
}

BOOST_AUTO_TEST_CASE(json_strings_are_escaped_at_every_length_and_position) {
  // Each byte value at every offset of strings of every length up to 40 (whole sixteen-byte
  // blocks, a partial last block, both), and a pseudo-random mix: Boost.JSON parses back exactly
  // the bytes that went in (UTF-8 is kept as it is, so the mix is ASCII with the characters
  // that must be escaped).
  std::vector<std::string> inputs;
  for (int c = 0; c < 0x80; ++c) {
    for (std::size_t len = 1; len <= 40; ++len) {
      for (std::size_t at = 0; at < len; ++at) {
        std::string s(len, 'x');
        s[at] = static_cast<char>(c);
        inputs.push_back(s);
      }
    }
  }
  // Bytes from 0x80 up are never escaped, wherever they are.
  for (int c = 0x80; c < 0x100; ++c) {
    for (std::size_t at = 0; at < 33; ++at) {
      std::string s(33, 'y');
      s[at] = static_cast<char>(c);
      std::string out;
      append_json_string(out, s);
      BOOST_TEST(out == "\"" + s + "\"");
    }
  }
  std::uint32_t seed = 12345;
  for (int i = 0; i < 2000; ++i) {
    std::string s;
    const std::size_t len = (seed = seed * 1103515245 + 12345) % 40;
    for (std::size_t k = 0; k < len; ++k) {
      seed = seed * 1103515245 + 12345;
      const unsigned r = (seed >> 16) % 10;
      s += r < 6 ? static_cast<char>('a' + (seed >> 8) % 26) : "\"\\\n\x01\x1f\t"[(seed >> 8) % 6];
    }
    inputs.push_back(s);
  }
  inputs.push_back("caf\xc3\xa9 \xe2\x82\xac tail");  // UTF-8 passes through unescaped
  for (const auto& s : inputs) {
    std::string out;
    append_json_string(out, s);
    BOOST_TEST_CONTEXT(out) {
      BOOST_TEST(boost::json::parse(out).as_string() == s);
      for (char c : out) BOOST_TEST(static_cast<unsigned char>(c) >= 0x20);
    }
  }
  std::string utf8;
  append_json_string(utf8, "caf\xc3\xa9");
  BOOST_TEST(utf8 == "\"caf\xc3\xa9\"");
}

BOOST_AUTO_TEST_CASE(string_member_answers_are_byte_identical_to_the_json_ones) {
  const std::string odd = "quote\" back\\ nl\n ctl\x01 bs\b ff\f tab\t caf\xc3\xa9";
  const auto direct =
      json_success_strings(201, {{"token", "a.b.c"}, {"odd", odd}, {"", ""}}, "Made \"it\"");
  const auto built = json_success(
      201, boost::json::object{{"token", "a.b.c"}, {"odd", odd}, {"", ""}}, "Made \"it\"");
  BOOST_TEST(direct.status == 201);
  BOOST_TEST(direct.body == built.body);
  BOOST_TEST(boost::json::parse(direct.body).at("data").at("odd").as_string() == odd);
  BOOST_TEST(json_success_strings(200, {}, "m").body ==
             json_success(200, boost::json::object{}, "m").body);
}

BOOST_AUTO_TEST_SUITE_END()
