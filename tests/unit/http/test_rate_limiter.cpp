#include <boost/test/unit_test.hpp>

#include "http/rate_limiter.hpp"

using namespace streamgate::http;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(rate_limiter)

BOOST_AUTO_TEST_CASE(burst_then_refill) {
  LocalRateLimiter l(60);  // one per second, burst 60
  const auto t0 = LocalRateLimiter::Clock::now();
  for (int i = 0; i < 60; ++i) BOOST_TEST(l.take_now("u", t0).allowed);
  const auto denied = l.take_now("u", t0);
  BOOST_TEST(!denied.allowed);
  BOOST_TEST(denied.retry_after_seconds == 1);
  BOOST_TEST(!l.take_now("u", t0 + 500ms).allowed);
  BOOST_TEST(l.take_now("u", t0 + 1100ms).allowed);
}

BOOST_AUTO_TEST_CASE(keys_are_independent) {
  LocalRateLimiter l(1);
  const auto t0 = LocalRateLimiter::Clock::now();
  BOOST_TEST(l.take_now("a", t0).allowed);
  BOOST_TEST(!l.take_now("a", t0).allowed);
  BOOST_TEST(l.take_now("b", t0).allowed);
  const auto d = l.take_now("a", t0);
  BOOST_TEST(d.retry_after_seconds == 60);
}

BOOST_AUTO_TEST_CASE(many_keys_do_not_grow_without_bound) {
  LocalRateLimiter l(10);
  auto t = LocalRateLimiter::Clock::now();
  for (int i = 0; i < 200000; ++i) l.take_now("k" + std::to_string(i), t);
  // Full buckets are forgotten once a shard is crowded; a later key still works.
  t += 10min;
  for (int i = 0; i < 200000; ++i) l.take_now("z" + std::to_string(i), t);
  BOOST_TEST(l.take_now("fresh", t).allowed);
}

BOOST_AUTO_TEST_SUITE_END()
