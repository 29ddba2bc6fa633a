#include "http/deadline.hpp"

namespace streamgate::http {

ScopedDeadline::ScopedDeadline(boost::asio::any_io_executor ex,
                               std::chrono::steady_clock::time_point at,
                               std::function<void()> on_expiry)
    : state_(std::make_shared<State>()), timer_(ex, at) {
  state_->on_expiry = std::move(on_expiry);
  timer_.async_wait([state = state_](boost::system::error_code ec) {
    if (ec || !state->armed) return;
    state->expired = true;
    state->armed = false;
    auto action = std::move(state->on_expiry);
    action();
  });
}

ScopedDeadline::~ScopedDeadline() { disarm(); }

void ScopedDeadline::disarm() {
  state_->armed = false;
  state_->on_expiry = nullptr;  // drops whatever the action refers to
  timer_.cancel();
}

bool ScopedDeadline::expired() const { return state_->expired; }

}  // namespace streamgate::http
