#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include <memory>

#include "http/deadline.hpp"

using namespace streamgate;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// A coroutine guarding an operation with a deadline, as the HTTPS client and the Redis limiter
// do. Both timers are already due, the operation's first: one reactor pass makes both handlers
// ready in that order, so the operation completes, the coroutine ends and its frame (with the
// heap object the action points at) is gone before the deadline's handler runs — the race.
asio::awaitable<void> guarded_operation(int* expiries, std::chrono::milliseconds op_due,
                                        std::chrono::milliseconds deadline_due) {
  auto ex = co_await asio::this_coro::executor;
  auto local = std::make_unique<int>(0);  // ASan reports any touch after the frame is gone
  const auto now = Clock::now();
  http::ScopedDeadline deadline(ex, now + deadline_due, [expiries, p = local.get()] {
    ++*p;
    ++*expiries;
  });
  asio::steady_timer op(ex, now + op_due);
  co_await op.async_wait(asio::use_awaitable);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(deadline)

BOOST_AUTO_TEST_CASE(a_deadline_firing_in_the_same_turn_as_the_operation_touches_nothing) {
  for (int round = 0; round < 50; ++round) {
    asio::io_context ctx;
    int expiries = 0;
    asio::co_spawn(ctx, guarded_operation(&expiries, -2ms, -1ms), asio::detached);
    ctx.run();
    BOOST_TEST(expiries == 0);
  }
}

BOOST_AUTO_TEST_CASE(a_deadline_that_passes_first_runs_its_action_once) {
  asio::io_context ctx;
  int expiries = 0;
  asio::co_spawn(ctx, guarded_operation(&expiries, 50ms, 1ms), asio::detached);
  ctx.run();
  BOOST_TEST(expiries == 1);
}

BOOST_AUTO_TEST_SUITE_END()
