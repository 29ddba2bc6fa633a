#include "server/ops/log_sink.hpp"

#include <spdlog/pattern_formatter.h>
#include <unistd.h>

#include <cerrno>

namespace streamgate::server {

BatchedFdSink::BatchedFdSink(int fd, std::chrono::milliseconds interval, std::size_t high_water,
                             std::size_t cap)
    : fd_(fd),
      interval_(interval),
      high_water_(high_water),
      cap_(cap),
      formatter_(std::make_unique<spdlog::pattern_formatter>()) {
  flusher_ = std::thread([this] { run(); });
}

BatchedFdSink::~BatchedFdSink() {
  {
    std::lock_guard lock(wake_mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  flusher_.join();
  drain_buffers();
}

BatchedFdSink::ThreadBuffer& BatchedFdSink::local() {
  // Keyed by sink as well as thread, so two sinks (e.g. in tests) never share a buffer.
  thread_local std::vector<std::pair<const BatchedFdSink*, std::shared_ptr<ThreadBuffer>>> mine;
  for (auto& [sink, buf] : mine)
    if (sink == this) return *buf;
  auto buf = std::make_shared<ThreadBuffer>();
  {
    std::lock_guard lock(registry_mutex_);
    buffers_.push_back(buf);
  }
  mine.emplace_back(this, buf);
  return *buf;
}

void BatchedFdSink::log(const spdlog::details::log_msg& msg) {
  if (!should_log(msg.level)) return;
  ThreadBuffer& b = local();
  const std::uint64_t gen = generation_.load(std::memory_order_acquire);
  if (b.formatter_generation != gen || !b.formatter) {
    std::lock_guard lock(registry_mutex_);
    b.formatter = formatter_->clone();
    b.formatter_generation = generation_.load();
  }
  b.scratch.clear();
  b.formatter->format(msg, b.scratch);
  bool wake = false;
  {
    std::lock_guard lock(b.mutex);
    if (b.data.size() + b.scratch.size() > cap_) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    b.data.append(b.scratch.data(), b.scratch.size());
    wake = b.data.size() >= high_water_;
  }
  if (wake) {
    {
      std::lock_guard lock(wake_mutex_);
      urgent_ = true;
    }
    wake_.notify_one();
  }
}

void BatchedFdSink::flush() { drain_buffers(); }

void BatchedFdSink::set_pattern(const std::string& pattern) {
  set_formatter(
      std::make_unique<spdlog::pattern_formatter>(pattern, spdlog::pattern_time_type::utc));
}

void BatchedFdSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  std::lock_guard lock(registry_mutex_);
  formatter_ = std::move(formatter);
  generation_.fetch_add(1, std::memory_order_release);
}

void BatchedFdSink::write_all(const std::string& bytes) {
  std::size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to write: drop rather than spin
    off += static_cast<std::size_t>(n);
  }
}

void BatchedFdSink::drain_buffers() {
  std::lock_guard flush_lock(flush_mutex_);
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  {
    std::lock_guard lock(registry_mutex_);
    buffers = buffers_;
  }
  std::string out;
  for (auto& b : buffers) {
    std::lock_guard lock(b->mutex);
    if (b->data.empty()) continue;
    if (out.empty()) {
      out.swap(b->data);
    } else {
      out += b->data;
      b->data.clear();
    }
  }
  if (!out.empty()) write_all(out);
}

void BatchedFdSink::run() {
  std::unique_lock lock(wake_mutex_);
  while (!stop_) {
    wake_.wait_for(lock, interval_, [this] { return stop_ || urgent_; });
    urgent_ = false;
    lock.unlock();
    drain_buffers();
    lock.lock();
  }
}

}  // namespace streamgate::server
