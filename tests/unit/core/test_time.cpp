#include <boost/test/unit_test.hpp>

#include <climits>

#include "core/time.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(rfc3339)

BOOST_AUTO_TEST_CASE(formats_whole_seconds_in_utc) {
  BOOST_TEST(format_rfc3339(0) == "1970-01-01T00:00:00Z");
  BOOST_TEST(format_rfc3339(1700003600) == "2023-11-14T23:13:20Z");
  BOOST_TEST(format_rfc3339(1767268800) == "2026-01-01T12:00:00Z");
  BOOST_TEST(format_rfc3339(951782400) == "2000-02-29T00:00:00Z");
  BOOST_TEST(format_rfc3339(-1) == "1969-12-31T23:59:59Z");
  // The four-digit years by hand, the others as before (more digits, or a sign).
  BOOST_TEST(format_rfc3339(253402300799) == "9999-12-31T23:59:59Z");
  BOOST_TEST(format_rfc3339(253402300800) == "10000-01-01T00:00:00Z");
  BOOST_TEST(format_rfc3339(-62167219200) == "0000-01-01T00:00:00Z");
  BOOST_TEST(format_rfc3339(-62167219201) == "-001-12-31T23:59:59Z");
}

BOOST_AUTO_TEST_CASE(formats_fractions) {
  const Nanos t = from_unix_nanos(1775658215879421674);
  BOOST_TEST(format_rfc3339(t, 9) == "2026-04-08T14:23:35.879421674Z");
  BOOST_TEST(format_rfc3339(t, 6) == "2026-04-08T14:23:35.879421Z");
  BOOST_TEST(format_rfc3339(t, 3) == "2026-04-08T14:23:35.879Z");
  BOOST_TEST(format_rfc3339(t, 0) == "2026-04-08T14:23:35Z");
}

BOOST_AUTO_TEST_CASE(parses_stream_forms) {
  struct Case {
    const char* text;
    std::int64_t ns;
  };
  const Case table[] = {
      {"2026-04-08T14:23:35.879421674Z", 1775658215879421674},  // captured webhook form
      {"2026-04-08T14:23:35Z", 1775658215000000000},
      {"2026-04-08T14:23:35.8Z", 1775658215800000000},
      {"2026-04-08t14:23:35z", 1775658215000000000},
      {"2026-04-08T16:23:35+02:00", 1775658215000000000},
      {"2026-04-08T09:53:35-04:30", 1775658215000000000},
      {"2026-04-08T14:23:35.1234567891Z", 1775658215123456789},  // beyond 9 digits truncated
      {"1970-01-01T00:00:00Z", 0},
      {"2016-12-31T23:59:60Z", 1483228799000000000},  // leap second clamped
  };
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.text) {
      const auto t = parse_rfc3339(c.text);
      BOOST_TEST_REQUIRE(t.has_value());
      BOOST_TEST(to_unix_nanos(*t) == c.ns);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_malformed) {
  for (const char* bad :
       {"", "2026-04-08", "2026-04-08T14:23:35", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2025-02-29T00:00:00Z", "2026-04-08T24:00:00Z", "2026-04-08T14:60:00Z",
        "2026-04-08T14:23:35.Z", "2026-04-08T14:23:35+0200", "2026-04-08T14:23:35Zjunk",
        "x026-04-08T14:23:35Z", "1775658215879421674"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_rfc3339(bad).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(times_outside_1970_to_2199_are_refused) {
  for (const char* bad : {"1000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                          "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
                          "1970-01-01T00:59:59+01:00", "2199-12-31T23:59:59-00:01"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_rfc3339(bad).has_value()); }
  }
  BOOST_TEST(to_unix_nanos(*parse_rfc3339("1970-01-01T00:00:00Z")) == kMinUnixNanos);
  BOOST_TEST(to_unix_nanos(*parse_rfc3339("2199-12-31T23:59:59.999999999Z")) == kMaxUnixNanos);
  BOOST_TEST(to_unix_nanos(*parse_rfc3339("1970-01-01T01:00:00+01:00")) == 0);
  BOOST_TEST(!checked_unix_nanos(-1).has_value());
  BOOST_TEST(!checked_unix_nanos(INT64_MIN).has_value());
  BOOST_TEST(!checked_unix_nanos(INT64_MAX).has_value());
  BOOST_TEST(!checked_unix_nanos(kMaxUnixNanos + 1).has_value());
  BOOST_TEST(checked_unix_nanos(kMaxUnixNanos).has_value());
  // Inside the range, the difference of any two times fits int64.
  BOOST_TEST(kMaxUnixNanos - kMinUnixNanos > 0);
}

BOOST_AUTO_TEST_CASE(formatting_never_overflows) {
  // Any int64, in seconds or nanoseconds, formats (years beyond 9999 print more digits).
  BOOST_TEST(format_rfc3339(from_unix_nanos(INT64_MIN), 9) == "1677-09-21T00:12:43.145224192Z");
  BOOST_TEST(format_rfc3339(from_unix_nanos(INT64_MAX), 3) == "2262-04-11T23:47:16.854Z");
  BOOST_TEST(!format_rfc3339(std::int64_t{INT64_MAX}).empty());
  BOOST_TEST(!format_rfc3339(std::int64_t{INT64_MIN}).empty());
  BOOST_TEST(format_rfc3339(std::int64_t{253402300800}) == "10000-01-01T00:00:00Z");
}

BOOST_AUTO_TEST_CASE(round_trips) {
  for (std::int64_t ns :
       {std::int64_t{0}, std::int64_t{1775658215879421674}, std::int64_t{4102444799999999999}}) {
    BOOST_TEST(to_unix_nanos(*parse_rfc3339(format_rfc3339(from_unix_nanos(ns), 9))) == ns);
  }
}

BOOST_AUTO_TEST_SUITE_END()
