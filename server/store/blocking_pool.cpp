#include "server/store/blocking_pool.hpp"

namespace streamgate::server {

BlockingPool::BlockingPool(std::size_t threads, std::size_t queue_limit,
                           std::function<void(std::size_t)> on_thread_exit)
    : queue_limit_(queue_limit), on_thread_exit_(std::move(on_thread_exit)) {
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this, i] { loop(i); });
}

BlockingPool::~BlockingPool() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

bool BlockingPool::try_push(Job job) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= queue_limit_) return false;
    queue_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void BlockingPool::loop(std::size_t index) {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) break;  // stopping, and nothing left to do
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    job(index);
  }
  if (on_thread_exit_) on_thread_exit_(index);
}

}  // namespace streamgate::server
