// The background job loop: rounds run their jobs together and end even when a job throws; an
// empty round waits for the poll interval unless woken; stop() ends it.
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "http/job_loop.hpp"

using namespace streamgate;
using namespace std::chrono_literals;
using Jobs = std::vector<std::function<http::Task<void>()>>;

BOOST_AUTO_TEST_SUITE(job_loop)

BOOST_AUTO_TEST_CASE(rounds_run_every_job_even_when_one_throws) {
  boost::asio::io_context ctx;
  int claims = 0, ran = 0, rounds_after = 0;
  http::JobLoopOptions o;
  o.name = "test loop";
  o.poll = 10s;  // never reached: the loop is stopped first
  http::JobLoop* self = nullptr;
  o.claim = [&]() -> http::Task<Jobs> {
    Jobs jobs;
    if (++claims <= 2) {
      for (int i = 0; i < 3; ++i)
        jobs.push_back([&ran, i]() -> http::Task<void> {
          ++ran;
          if (i == 1) throw std::runtime_error("job failed on purpose");
          co_return;
        });
    } else {
      self->stop();
    }
    co_return jobs;
  };
  o.after_round = [&]() -> http::Task<void> {
    ++rounds_after;
    co_return;
  };
  http::JobLoop loop(std::move(o));
  self = &loop;
  loop.start(ctx);
  ctx.run_for(5s);
  BOOST_TEST(claims == 3);  // two rounds with work, then one that stops
  BOOST_TEST(ran == 6);
  BOOST_TEST(rounds_after == 3);
}

BOOST_AUTO_TEST_CASE(an_empty_round_waits_until_woken) {
  boost::asio::io_context ctx;
  std::atomic<int> claims{0};
  http::JobLoopOptions o;
  o.name = "test loop";
  o.poll = 60s;
  o.claim = [&]() -> http::Task<Jobs> {
    ++claims;
    co_return Jobs{};
  };
  http::JobLoop loop(std::move(o));
  loop.wake();  // before start: nothing to wake, no harm
  loop.start(ctx);
  std::thread runner([&] { ctx.run_for(3s); });
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(claims.load() == 1);  // waiting out the minute
  loop.wake();                     // from another thread
  std::this_thread::sleep_for(300ms);
  BOOST_TEST(claims.load() == 2);
  loop.stop();
  loop.wake();  // after stop: ignored
  ctx.stop();
  runner.join();
}

BOOST_AUTO_TEST_SUITE_END()
