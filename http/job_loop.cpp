#include "http/job_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <mutex>

#include "http/log.hpp"

namespace streamgate::http {
namespace asio = boost::asio;

namespace {
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using Job = std::function<Task<void>()>;
}  // namespace

struct JobLoop::Impl : std::enable_shared_from_this<Impl> {
  JobLoopOptions o;
  std::atomic<bool> stopping{false};
  std::atomic<bool> finished{true};  // false from start() until run() returns
  std::mutex mutex;                  // guards ctx (wake() comes from other threads)
  asio::io_context* ctx = nullptr;
  std::unique_ptr<asio::steady_timer> timer;  // the poll wait; only touched on ctx's thread
  bool woken = false;                         // likewise

  explicit Impl(JobLoopOptions options) : o(std::move(options)) {}

  void log_error(const char* what, const std::exception& e) const {
    http::log(spdlog::level::err, LogLine(o.name + ": " + what).add("error", e.what()));
  }

  Task<void> one(Job job, std::shared_ptr<std::size_t> left, asio::steady_timer* done) {
    try {
      auto run = job();  // [gcc12-co_await]
      co_await std::move(run);
    } catch (const std::exception& e) {
      log_error("job failed", e);
    }
    if (--*left == 0) done->cancel();
  }

  Task<void> run() {
    auto self = shared_from_this();
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer done(ex);
    while (!stopping.load()) {
      std::vector<Job> jobs;
      try {
        auto claim = o.claim();  // [gcc12-co_await]
        jobs = co_await std::move(claim);
      } catch (const std::exception& e) {
        log_error("claim failed", e);
      }
      if (!jobs.empty()) {
        auto left = std::make_shared<std::size_t>(jobs.size());
        done.expires_at(asio::steady_timer::time_point::max());
        // A job may run to its end inside co_spawn (it starts by dispatch): wait only for the
        // ones still running.
        for (auto& job : jobs) asio::co_spawn(ex, one(std::move(job), left, &done), asio::detached);
        if (*left > 0) co_await done.async_wait(kTuple);
      }
      if (o.after_round) {
        try {
          auto after = o.after_round();  // [gcc12-co_await]
          co_await std::move(after);
        } catch (const std::exception& e) {
          log_error("after a round", e);
        }
      }
      if (!jobs.empty()) continue;  // more may be due
      if (woken) {
        woken = false;
        continue;
      }
      if (stopping.load()) break;
      timer->expires_after(o.poll);
      co_await timer->async_wait(kTuple);
      woken = false;
    }
  }
};

JobLoop::JobLoop(JobLoopOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

JobLoop::~JobLoop() { stop(); }

void JobLoop::start(asio::io_context& ctx) {
  impl_->timer = std::make_unique<asio::steady_timer>(ctx);
  {
    std::lock_guard lock(impl_->mutex);
    impl_->ctx = &ctx;
  }
  impl_->finished.store(false);
  asio::co_spawn(ctx, impl_->run(), [impl = impl_](std::exception_ptr e) {
    impl->finished.store(true);
    const std::string& name = impl->o.name;
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      http::log(spdlog::level::err, LogLine(name + " stopped").add("error", ex.what()));
    }
  });
}

void JobLoop::stop() {
  if (!impl_) return;
  impl_->stopping.store(true);
  std::lock_guard lock(impl_->mutex);
  if (impl_->ctx != nullptr) {
    // A poll wait ends now, so that the loop returns without waiting out its interval.
    asio::post(*impl_->ctx, [weak = std::weak_ptr<Impl>(impl_)] {
      if (auto impl = weak.lock(); impl && impl->timer) impl->timer->cancel();
    });
  }
  impl_->ctx = nullptr;
}

bool JobLoop::finished() const { return !impl_ || impl_->finished.load(); }

void JobLoop::wake() {
  std::lock_guard lock(impl_->mutex);
  if (impl_->ctx == nullptr) return;
  asio::post(*impl_->ctx, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto impl = weak.lock()) {
      impl->woken = true;
      if (impl->timer) impl->timer->cancel();
    }
  });
}

}  // namespace streamgate::http
