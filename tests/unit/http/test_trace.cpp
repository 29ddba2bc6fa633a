#include <boost/test/unit_test.hpp>

#include <fmt/format.h>

#include <limits>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "http/log.hpp"
#include "http/middleware.hpp"
#include "http/trace.hpp"
#include "tests/support/run_coro.hpp"

using namespace streamgate::http;
using streamgate::test::run_coro;

BOOST_AUTO_TEST_SUITE(trace_context)

BOOST_AUTO_TEST_CASE(traceparent_is_parsed_as_the_w3c_recommendation_says) {
  const auto ok = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
  BOOST_TEST(ok->parent_id == "00f067aa0ba902b7");
  BOOST_TEST(ok->flags == 1);
  // A later version may append fields after a '-'.
  BOOST_TEST(
      parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-x=y").has_value());
  for (const char* bad :
       {"",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",    // short
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // v00 longer
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",   // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",   // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",   // zero parent
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // version ff
        "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",   // not hex
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",   // separators
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",  // v01, no '-' after
        "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01"}) {
    BOOST_TEST(!parse_traceparent(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_CASE(outbound_traceparents_keep_the_trace_and_make_new_spans) {
  Trace t;
  t.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  t.request_id = "req-1";
  t.flags = 1;
  std::set<std::string> spans;
  for (int i = 0; i < 50; ++i) {
    const auto header = t.traceparent();
    const auto parsed = parse_traceparent(header);
    BOOST_TEST_REQUIRE(parsed.has_value(), header);
    BOOST_TEST(parsed->trace_id == t.trace_id);
    BOOST_TEST(parsed->flags == 1);
    spans.insert(parsed->parent_id);
  }
  BOOST_TEST(spans.size() == 50u);
  const auto fresh = Trace::fresh();
  BOOST_TEST(is_trace_id(fresh.trace_id));
  BOOST_TEST(fresh.request_id == fresh.trace_id);
  BOOST_TEST(fresh.trace_id != Trace::fresh().trace_id);
}

BOOST_AUTO_TEST_CASE(the_request_id_middleware_takes_the_trace_id) {
  const auto run_with = [](std::vector<std::pair<std::string, std::string>> headers) {
    Request req;
    for (auto& [k, v] : headers) req.headers.emplace_back(k, v);
    Context ctx;
    const Handler h = [](Request&, Context&) -> Task<Response> { co_return Response{}; };
    const Response res = run_coro(run_chain({request_id()}, h, req, ctx));
    return std::make_pair(ctx, std::string(res.header("X-Request-Id")));
  };
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto [a, a_header] =
      run_with({{"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}, {"x-request-id", "mine"}});
  BOOST_TEST(a.trace_id == trace);
  BOOST_TEST(a.request_id == trace);
  BOOST_TEST(a.trace_flags == 1);
  BOOST_TEST(a_header == trace);
  auto [b, b_header] = run_with({{"x-request-id", "mine"}});
  BOOST_TEST(b.request_id == "mine");
  BOOST_TEST(is_trace_id(b.trace_id));
  BOOST_TEST(b_header == "mine");
  auto [c, c_header] = run_with({{"x-request-id", "0af7651916cd43dd8448eb211c80319c"}});
  BOOST_TEST(c.trace_id == "0af7651916cd43dd8448eb211c80319c");
  auto [d, d_header] = run_with({{"x-request-id", "bad id with spaces"}, {"traceparent", "junk"}});
  BOOST_TEST(is_trace_id(d.trace_id));
  BOOST_TEST(d.request_id == d.trace_id);
  BOOST_TEST(trace_of(d).request_id == d.request_id);
}

BOOST_AUTO_TEST_CASE(log_lines_read_as_json_members_or_as_text) {
  set_text_logs(false);
  LogLine json("request");
  json.word("method", "POST")
      .word("status", 503)
      .word_ms("durationMs", 308.25)
      .add("user", "al ice");
  BOOST_TEST(
      json.str() ==
      R"("msg":"request","method":"POST","status":503,"durationMs":308.250,"user":"al ice")");
  set_text_logs(true);
  LogLine text("request");
  text.word("method", "POST")
      .word("route", "/api/v1/calls")
      .word("status", 503)
      .word_ms("durationMs", 308.25)
      .add("user", "alice")
      .add("note", "two words\nand=a line")
      .add("ok", true);
  BOOST_TEST(text.str() ==
             "request POST /api/v1/calls 503 308ms user=alice note=\"two words\\nand=a line\" "
             "ok=true");
  set_text_logs(false);
}

// Numbers are written without a format string now; they read exactly as fmt's "{}" and
// "{:.Nf}" wrote them, halfway cases and extremes included.
BOOST_AUTO_TEST_CASE(log_line_numbers_read_as_fmt_wrote_them) {
  std::mt19937_64 rng(7);
  std::vector<double> values = {0.0,  -0.0, 0.0005, 0.0015,         2.5,  9.95,    9.999,
                                10.0, 0.05, 1e-300, 123456789.0625, 1e17, -3.0005, 4.4999999};
  std::uniform_real_distribution<double> small(0, 20), wide(-1e9, 1e9);
  for (int i = 0; i < 20000; ++i) values.push_back(i % 2 ? small(rng) : wide(rng));
  for (int i = 0; i < 2000; ++i) values.push_back(static_cast<double>(i) / 1000 + 0.0005);
  const std::vector<std::int64_t> ints = {0, -1, 42, std::numeric_limits<std::int64_t>::min(),
                                          std::numeric_limits<std::int64_t>::max()};
  for (const bool text : {false, true}) {
    set_text_logs(text);
    for (const double v : values) {
      LogLine line("m");
      line.add("v", v).word_ms("d", v);
      const std::string want =
          text ? fmt::format("m v={:.3f} {}ms", v,
                             v < 10 ? fmt::format("{:.1f}", v) : fmt::format("{:.0f}", v))
               : fmt::format(R"("msg":"m","v":{:.3f},"d":{:.3f})", v, v);
      if (line.str() != want) BOOST_TEST(line.str() == want);
    }
    for (const auto n : ints) {
      LogLine line("m");
      line.add("n", n).word("w", n);
      const std::string want =
          text ? fmt::format("m n={} {}", n, n) : fmt::format(R"("msg":"m","n":{},"w":{})", n, n);
      BOOST_TEST(line.str() == want);
    }
  }
  set_text_logs(false);
}

// A thread reuses its line buffers: the next line writes into the last one's buffer; lines alive
// at once each have their own; a huge line's buffer is not kept; a line returned by value reads
// whole. Run on a fresh thread (its spares empty); checked on this one.
BOOST_AUTO_TEST_CASE(log_line_buffers_are_reused_per_thread) {
  set_text_logs(false);
  struct Seen {
    bool reused = false, nested_apart = false, small_after_huge = false;
    std::string second, nested_a, nested_b, returned;
  } seen;
  std::thread([&seen] {
    const char* first = nullptr;
    {
      LogLine a("first");
      a.add("k", "v");
      first = a.str().data();
    }
    {
      LogLine b("second");
      seen.reused = b.str().data() == first;
      seen.second = b.str();
    }
    {
      LogLine a("a");
      LogLine b("b");
      a.add("k", "1");
      b.add("k", "2");
      seen.nested_apart = a.str().data() != b.str().data();
      seen.nested_a = a.str();
      seen.nested_b = b.str();
    }
    for (int i = 0; i < 6; ++i) {  // more than the spares kept
      LogLine huge("huge");
      huge.add("big", std::string(10000, 'x'));
    }
    {
      LogLine n("n");
      seen.small_after_huge = n.str().capacity() <= 4096;
    }
    const auto make = [] {
      LogLine l("made");
      l.add("k", "v");
      return l;
    };
    seen.returned = make().str();
  }).join();
  BOOST_TEST(seen.reused);
  BOOST_TEST(seen.second == R"("msg":"second")");
  BOOST_TEST(seen.nested_apart);
  BOOST_TEST(seen.nested_a == R"("msg":"a","k":"1")");
  BOOST_TEST(seen.nested_b == R"("msg":"b","k":"2")");
  BOOST_TEST(seen.small_after_huge);
  BOOST_TEST(seen.returned == R"("msg":"made","k":"v")");
}

BOOST_AUTO_TEST_SUITE_END()
