#pragma once
// Runs blocking work on dedicated threads and completes an awaiting coroutine on its own
// executor. Each worker owns a per-thread resource (a database connection), created lazily.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "http/pipeline.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

class BlockingPool final {
 public:
  using Job = std::function<void(std::size_t worker)>;
  // At most `queue_limit` jobs wait; run() fails at once with StoreUnavailable beyond that.
  BlockingPool(std::size_t threads, std::size_t queue_limit,
               std::function<void(std::size_t)> on_thread_exit = {});
  ~BlockingPool();
  bool try_push(Job job);  // false when the queue is full
  std::size_t size() const { return threads_.size(); }

  // Runs fn(worker) on a pool thread; the coroutine resumes on its own executor with the
  // result, or the exception fn threw.
  template <typename R>
  http::Task<R> run(std::function<R(std::size_t)> fn) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                       void(std::exception_ptr, R)>(
        [this, fn = std::move(fn)](auto handler) mutable {
          using Handler = decltype(handler);
          auto h = std::make_shared<Handler>(std::move(handler));
          const bool queued = try_push([h, fn = std::move(fn)](std::size_t worker) mutable {
            std::exception_ptr ep;
            R result{};
            try {
              result = fn(worker);
            } catch (...) {
              ep = std::current_exception();
            }
            // The exception moves into the completion: this thread keeps no reference to it, so
            // the I/O thread that reads it is the one that frees it.
            auto ex = boost::asio::get_associated_executor(*h);
            boost::asio::post(ex, [h, ep = std::move(ep), result = std::move(result)]() mutable {
              (*h)(std::move(ep), std::move(result));
            });
          });
          if (!queued) {
            auto ex = boost::asio::get_associated_executor(*h);
            boost::asio::post(ex, [h]() mutable {
              (*h)(std::make_exception_ptr(StoreUnavailable("store queue full")), R{});
            });
          }
        },
        boost::asio::use_awaitable);
  }

 private:
  void loop(std::size_t index);
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::size_t queue_limit_;
  bool stop_ = false;
  std::function<void(std::size_t)> on_thread_exit_;
  std::vector<std::thread> threads_;
};

}  // namespace streamgate::server
