#include <spdlog/pattern_formatter.h>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <random>
#include <string>

#include "core/time.hpp"
#include "server/ops/log_format.hpp"

using namespace streamgate::server;
namespace chr = std::chrono;

namespace {

const spdlog::level::level_enum kLevels[] = {spdlog::level::trace, spdlog::level::debug,
                                             spdlog::level::info,  spdlog::level::warn,
                                             spdlog::level::err,   spdlog::level::critical};

std::string run(spdlog::formatter& f, spdlog::log_clock::time_point t,
                spdlog::level::level_enum level, std::string_view payload) {
  const spdlog::details::log_msg msg(t, spdlog::source_loc{}, "streamgate", level,
                                     spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t out;
  f.format(msg, out);
  return std::string(out.data(), out.size());
}

// The lines as spdlog's own pattern formatter wrote them before (the level given literally).
std::string by_pattern(bool text, spdlog::log_clock::time_point t, spdlog::level::level_enum level,
                       std::string_view payload) {
  std::string name(log_level_name(level));
  std::string pattern;
  if (text) {
    for (auto& c : name) c = static_cast<char>(c - 'a' + 'A');
    while (name.size() < 5) name += ' ';
    pattern = "%H:%M:%S " + name + " %v";
  } else {
    pattern = "{\"ts\":\"%Y-%m-%dT%H:%M:%S.%eZ\",\"level\":\"" + name + "\",%v}";
  }
  spdlog::pattern_formatter f(pattern, spdlog::pattern_time_type::utc);
  return run(f, t, level, payload);
}

spdlog::log_clock::time_point at_ms(std::int64_t ms) {
  return spdlog::log_clock::time_point(
      chr::duration_cast<spdlog::log_clock::duration>(chr::milliseconds(ms)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_lines)

BOOST_AUTO_TEST_CASE(a_json_line_reads_as_documented) {
  LineFormatter f(false);
  const auto t = at_ms(1795954029045);  // 2026-11-29T12:07:09.045Z
  BOOST_TEST(run(f, t, spdlog::level::warn, R"("msg":"request","status":503)") ==
             "{\"ts\":\"2026-11-29T12:07:09.045Z\",\"level\":\"warn\",\"msg\":\"request\","
             "\"status\":503}\n");
  LineFormatter text(true);
  BOOST_TEST(run(text, t, spdlog::level::info, "listening port=8080") ==
             "12:07:09 INFO  listening port=8080\n");
  BOOST_TEST(run(text, t, spdlog::level::critical, "x") == "12:07:09 CRITICAL x\n");
}

// Every level, and times from 1970 to 2199 in an order that both hits and misses the kept
// seconds (the same second again, the next, one back, far away), read byte for byte as spdlog's
// pattern formatter wrote them.
BOOST_AUTO_TEST_CASE(lines_are_byte_identical_to_the_pattern_formatters) {
  std::mt19937_64 rng(20261124);
  std::uniform_int_distribution<std::int64_t> any_ms(
      0, streamgate::core::kMaxUnixSeconds * 1000 + 999);
  // (Not the epoch's own second: spdlog's formatter starts with its kept second at 0 and an
  // empty date, and writes 1900-01-00 there; ours is checked on its own below.)
  std::vector<std::int64_t> times = {1000, 86'399'999,
                                     951'868'799'999,    // 2000-02-29T23:59:59.999
                                     4'107'542'400'000,  // 2100-03-01T00:00:00.000
                                     streamgate::core::kMaxUnixSeconds * 1000 + 999};
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t t = any_ms(rng);
    times.push_back(t);
    times.push_back(t + 1);  // most likely the same second
    times.push_back(t + 1000);
    times.push_back(t >= 2000 ? t - 1000 : 1000);
  }
  for (const bool text : {false, true}) {
    LineFormatter f(text);
    std::size_t n = 0;
    for (const auto ms : times) {
      const auto level = kLevels[n++ % std::size(kLevels)];
      const auto t = at_ms(ms);
      const std::string payload = text ? "request POST /x 201 1.2ms" : R"("msg":"request")";
      const auto ours = run(f, t, level, payload);
      const auto theirs = by_pattern(text, t, level, payload);
      if (ours != theirs)
        BOOST_TEST(ours == theirs, "at " << ms << " ms: " << ours << " vs " << theirs);
    }
  }
}

// The epoch's first second, and a time before 1970 (a clock set wrong), format as that time.
BOOST_AUTO_TEST_CASE(the_epoch_and_a_time_before_it_format_by_floor) {
  LineFormatter f(false);
  BOOST_TEST(run(f, at_ms(0), spdlog::level::info, "\"msg\":\"x\"") ==
             "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"level\":\"info\",\"msg\":\"x\"}\n");
  BOOST_TEST(run(f, at_ms(999), spdlog::level::info, "\"msg\":\"x\"") ==
             "{\"ts\":\"1970-01-01T00:00:00.999Z\",\"level\":\"info\",\"msg\":\"x\"}\n");
  BOOST_TEST(run(f, at_ms(-1), spdlog::level::info, "\"msg\":\"x\"") ==
             "{\"ts\":\"1969-12-31T23:59:59.999Z\",\"level\":\"info\",\"msg\":\"x\"}\n");
}

BOOST_AUTO_TEST_SUITE_END()
