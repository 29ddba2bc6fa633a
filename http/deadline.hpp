#pragma once
// A deadline for an operation that has no timeout of its own (a DNS lookup, a raw socket), safe
// by construction: its action runs only while the deadline is armed. The action and the armed
// flag live in state that the timer's handler shares, and the deadline disarms it when its scope
// ends (or on disarm()). So when the timer fires in the same turn as the guarded operation
// completes — its handler already queued, past cancelling — the handler finds the deadline
// disarmed and touches nothing: not the coroutine's locals, and not a connection that has
// meanwhile gone back to a pool.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>

namespace streamgate::http {

class ScopedDeadline final {
 public:
  ScopedDeadline(boost::asio::any_io_executor ex, std::chrono::steady_clock::time_point at,
                 std::function<void()> on_expiry);
  ~ScopedDeadline();
  ScopedDeadline(const ScopedDeadline&) = delete;
  ScopedDeadline& operator=(const ScopedDeadline&) = delete;

  // From now on the action never runs; call it before handing the guarded object elsewhere.
  void disarm();
  // The action ran (the deadline passed while armed).
  bool expired() const;

 private:
  struct State {
    bool armed = true;
    bool expired = false;
    std::function<void()> on_expiry;
  };
  std::shared_ptr<State> state_;
  boost::asio::steady_timer timer_;
};

}  // namespace streamgate::http
