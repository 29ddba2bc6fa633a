#pragma once
// The app event dispatcher (docs/app-events.md): off the request threads, it claims due events
// from the outbox, POSTs each to its endpoint signed by the Standard Webhooks scheme, and
// records the outcome: 2xx delivered, anything else retried on the schedule, then failed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "http/https_client.hpp"
#include "server/store/store.hpp"

namespace boost::asio {
class io_context;
}

namespace streamgate::server {

// Wakes the dispatcher when this replica commits an event (the store calls it from its own
// threads). Made before the dispatcher exists, so the store can hold it; a no-op until then.
class AppEventWaker final {
 public:
  void operator()() const;
  void set(std::function<void()> wake);

 private:
  mutable std::mutex mutex_;
  std::function<void()> wake_;
};

struct DispatcherSettings {
  std::shared_ptr<Store> store;
  std::shared_ptr<http::HttpsClient> client;
  // Observers (may be empty): one attempt (type, outcome delivered|retry|failed, seconds), and
  // the outbox (pending events, age of the oldest in seconds).
  std::function<void(std::string_view, std::string_view, double)> on_attempt;
  std::function<void(std::int64_t, double)> on_queue;
  std::vector<std::shared_ptr<const core::HmacSha256Key>> keys;  // current first
  std::vector<std::string> endpoints;
  std::vector<std::int64_t> retry_schedule_seconds;
  std::chrono::milliseconds timeout{10000};
  std::chrono::milliseconds poll{1000};
  std::size_t concurrency = 16;
  std::string user_agent = "streamgate";
  std::shared_ptr<AppEventWaker> waker;  // may be null
};

class AppEventDispatcher final {
 public:
  explicit AppEventDispatcher(DispatcherSettings settings);
  ~AppEventDispatcher();
  AppEventDispatcher(const AppEventDispatcher&) = delete;
  AppEventDispatcher& operator=(const AppEventDispatcher&) = delete;

  // Runs its loop on `ctx` (one thread) until stop() or the context stops.
  void start(boost::asio::io_context& ctx);
  // Ends the loop after its current round; finished() once it has returned (http/job_loop.hpp).
  void stop();
  bool finished() const;

  // The delay before retry `step` (0-based), jittered by ±10 %; nullopt when the schedule is
  // exhausted (the event is then failed).
  static std::optional<std::chrono::milliseconds> retry_delay(
      const std::vector<std::int64_t>& schedule, std::int64_t step, double jitter01);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The endpoint as logs may show it: scheme, host and port, never the path or query (which may
// carry a token).
std::string endpoint_for_logs(std::string_view url);

}  // namespace streamgate::server
