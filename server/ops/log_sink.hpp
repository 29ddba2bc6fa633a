#pragma once
// A spdlog sink that never wakes another thread per line: each thread formats into its own
// buffer, and one flusher thread writes all buffers to the file descriptor every few
// milliseconds (sooner when a buffer passes a high-water mark). A buffer that a stuck reader
// lets grow past its cap drops lines and counts them, rather than block a request.
#include <spdlog/sinks/sink.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace streamgate::server {

class BatchedFdSink final : public spdlog::sinks::sink {
 public:
  explicit BatchedFdSink(int fd, std::chrono::milliseconds interval = std::chrono::milliseconds(20),
                         std::size_t high_water = 64 * 1024, std::size_t cap = 8 * 1024 * 1024);
  ~BatchedFdSink() override;

  void log(const spdlog::details::log_msg& msg) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;
  std::uint64_t dropped() const { return dropped_.load(); }

 private:
  struct ThreadBuffer {
    std::mutex mutex;
    std::string data;
    std::unique_ptr<spdlog::formatter> formatter;
    std::uint64_t formatter_generation = 0;
    spdlog::memory_buf_t scratch;
  };
  ThreadBuffer& local();
  void write_all(const std::string& bytes);
  void drain_buffers();
  void run();

  int fd_;
  std::chrono::milliseconds interval_;
  std::size_t high_water_;
  std::size_t cap_;
  std::mutex registry_mutex_;  // guards buffers_ and formatter_
  std::vector<std::shared_ptr<ThreadBuffer>> buffers_;
  std::unique_ptr<spdlog::formatter> formatter_;
  std::atomic<std::uint64_t> generation_{1};
  std::atomic<std::uint64_t> dropped_{0};
  std::mutex flush_mutex_;  // one writer at a time
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool urgent_ = false;
  std::thread flusher_;
};

}  // namespace streamgate::server
