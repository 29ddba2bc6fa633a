// The 60-second soak in CTest (test_soak): mixed traffic against the binary, then what must hold
// for memory and descriptors. It checks memory and descriptors, not time.
#define BOOST_TEST_MODULE streamgate soak
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "tests/soak/soak.hpp"

using namespace streamgate::test;

BOOST_AUTO_TEST_CASE(sixty_seconds_of_mixed_traffic_leave_no_leak) {
  SoakOptions o;
  const char* seconds = std::getenv("SOAK_SECONDS");
  o.seconds = seconds ? std::atof(seconds) : 60;
  const SoakReport r = run_soak(o);
  BOOST_TEST_MESSAGE(r.summary());
  BOOST_TEST(r.total() > 1000u);
  // Every answer is the one its request should get.
  BOOST_TEST(r.unexpected.empty(), r.unexpected.size()
                                       << " unexpected, first: "
                                       << (r.unexpected.empty() ? "" : r.unexpected[0]));
  // Descriptors back to where they were at rest after warm-up (outbound keep-alive connections to
  // Stream apart: the pool keeps at most 8 idle per host and I/O thread, and the soak runs 2).
  BOOST_TEST(r.pooled_stream_connections <= 16);
  BOOST_TEST(r.baseline_fds > 0);
  BOOST_TEST(r.final_fds <= r.baseline_fds,
             r.final_fds << " descriptors, " << r.baseline_fds << " at rest after warm-up");
  // Memory: after warm-up, growth under a fixed bound (an ASan build: allocator caches and a
  // small quarantine come and go). A leak of a few hundred bytes per request would exceed it.
  BOOST_TEST(r.rss_end_kb - r.rss_after_warmup_kb < 24 * 1024,
             "RSS grew " << (r.rss_end_kb - r.rss_after_warmup_kb) << " kB after warm-up");
}
