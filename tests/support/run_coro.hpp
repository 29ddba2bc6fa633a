#pragma once
// Runs a coroutine to completion on a private io_context, with a deadline, and checks the
// context ended idle.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>

namespace streamgate::test {

// The context lives as long as the thread: a store or pool thread that posts a completion here
// may still be inside that post (signalling the context's condition variable) when the coroutine
// has already finished, so the context must outlive every call (ThreadSanitizer showed the race
// with a context per call).
template <typename T>
T run_coro(boost::asio::awaitable<T> coro,
           std::chrono::seconds deadline = std::chrono::seconds(10)) {
  static thread_local boost::asio::io_context ctx;
  ctx.restart();
  auto fut = boost::asio::co_spawn(ctx, std::move(coro), boost::asio::use_future);
  ctx.run_for(deadline);
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    throw std::runtime_error("coroutine did not finish before its deadline");
  return fut.get();
}

}  // namespace streamgate::test
