#pragma once
// A server connection's TCP stream: the socket, and a deadline that is only a time point.
// Setting the deadline (expires_after) writes a number; the worker's sweeper (server.cpp), which
// ticks a few times a second while the worker has connections, cancels the pending operations
// of every connection whose deadline has passed (`expire_if_due`). Beast's tcp_stream instead
// arms a timer for each read and each write, cancels it when the operation completes, and runs
// the cancelled wait's handler: a timer-queue insertion, a removal under the reactor's lock and
// an extra completion per operation, on every request of a keep-alive connection.
//
// The deadline covers what the session awaits between expires_after and expires_never, as
// tcp_stream's covers its pending operations: the session clears it after each wait, so a
// handler that takes long (an upstream call) is never cut off by the previous read's deadline.
// A deadline is honoured within one sweep interval after it passes; a passed deadline is
// enforced again at every sweep until the session clears it, so an operation that began just
// after a cancel (the next read of a composed header read) is ended at the next sweep. Internal
// to the http module.
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <utility>

namespace streamgate::http {

class ConnStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using clock = std::chrono::steady_clock;

  explicit ConnStream(socket_type socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  socket_type& socket() noexcept { return socket_; }
  // What asio::ssl::stream asks of its next layer.
  using lowest_layer_type = socket_type;
  lowest_layer_type& lowest_layer() noexcept { return socket_; }

  // The operations awaited from now on must complete within `d` (saturating: a duration that
  // would overflow the clock is no deadline at all).
  void expires_after(clock::duration d) {
    const auto now = clock::now();
    deadline_ = d >= clock::time_point::max() - now ? clock::time_point::max() : now + d;
  }
  void expires_never() noexcept { deadline_ = clock::time_point::max(); }

  // The sweeper's check: past the deadline, the pending operations end with operation_aborted
  // (a quiet end for the session, as tcp_stream's timeout is).
  void expire_if_due(clock::time_point now) {
    if (deadline_ <= now) cancel();
  }

  // Ends the pending operations (a drain, or the deadline).
  void cancel() {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
  }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

 private:
  socket_type socket_;
  clock::time_point deadline_ = clock::time_point::max();
};

}  // namespace streamgate::http
