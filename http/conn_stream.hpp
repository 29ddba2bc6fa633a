#pragma once
// A server connection's TCP stream: the socket, and a deadline that is only a time point.
// Setting the deadline (expires_after) writes a number; the worker's sweeper (server.cpp), which
// ticks a few times a second while the worker has connections, cancels the pending operations
// of every connection whose deadline has passed (`expire_if_due`). Beast's tcp_stream instead
// arms a timer for each read and each write, cancels it when the operation completes, and runs
// the cancelled wait's handler: a timer-queue insertion, a removal under the reactor's lock and
// an extra completion per operation, on every request of a keep-alive connection.
//
// Its synchronous read_some and write_some never block: they move what the socket holds (or has
// room for) now, and end with asio::error::would_block when that is nothing. The session tries
// them first on a plain connection (a request already buffered is parsed, an answer that fits
// the socket's send buffer is sent, without a round through the scheduler), and awaits only
// for what remains; Beast's synchronous read and write algorithms drive them. They change
// nothing Asio keeps about the socket (its non-blocking mode as Asio's synchronous calls see it
// is untouched), and Asio's edge-triggered reactor tries a read or write before it waits, so bytes
// moved here are never waited for there.
//
// Between requests a plain connection waits through its worker's ReadWatch (read_watch.hpp):
// `read_ready()` is false only after a read of ours found the socket empty, and then
// `async_wait_readable` parks until the kernel's next edge on it, with no system call of its own.
// Any read Asio makes (a header or body awaited through async_read_some) leaves it true, since
// what that read left behind is not known here.
//
// The deadline covers what the session awaits between expires_after and expires_never, as
// tcp_stream's covers its pending operations: the session clears it after each wait, so a
// handler that takes long (an upstream call) is never cut off by the previous read's deadline.
// A deadline is honoured within one sweep interval after it passes; a passed deadline is
// enforced again at every sweep until the session clears it, so an operation that began just
// after a cancel (the next read of a composed header read) is ended at the next sweep. Internal
// to the http module.
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/system_error.hpp>

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <memory>
#include <utility>

#include "http/read_watch.hpp"

namespace streamgate::http {

// A parked wait's completion handler, type-erased. (Boost 1.81's any_completion_handler wraps
// itself again when moved, without end.)
struct ParkedWait {
  virtual ~ParkedWait() = default;
  virtual void complete(boost::system::error_code ec) = 0;
};
template <typename Handler>
struct ParkedWaitOf final : ParkedWait {
  explicit ParkedWaitOf(Handler h) : handler(std::move(h)) {}
  void complete(boost::system::error_code ec) override { std::move(handler)(ec); }
  Handler handler;
};

class ConnStream {
 public:
  using socket_type = boost::asio::ip::tcp::socket;
  using executor_type = socket_type::executor_type;
  using clock = std::chrono::steady_clock;

  // `watch`: the worker's, for the wait between requests (none: Asio's reads only). A stream
  // that has waited through it stays where it is (it is registered by address).
  explicit ConnStream(socket_type socket, ReadWatch* watch = nullptr)
      : socket_(std::move(socket)), watch_(watch) {}
  // A registered stream leaves the watch when moved (never while a wait is parked); the moved-to
  // one registers again when it first waits.
  ConnStream(ConnStream&& other) noexcept
      : socket_(unregistered_socket(other)),
        deadline_(other.deadline_),
        watch_(other.watch_),
        read_ready_(other.read_ready_) {}
  ConnStream& operator=(ConnStream&& other) noexcept {
    if (this != &other) {
      unregister();
      other.unregister();
      socket_ = std::move(other.socket_);
      deadline_ = other.deadline_;
      watch_ = other.watch_;
      read_ready_ = other.read_ready_;
    }
    return *this;
  }
  ~ConnStream() {
    if (waiter_) watch_->unparked(this);  // a wait dropped unfinished (its handler goes with it)
    unregister();
  }

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

  // Ends the pending operations (a drain, or the deadline), a parked wait included.
  void cancel() {
    boost::system::error_code ignored;
    socket_.cancel(ignored);
    if (waiter_) finish_wait(boost::asio::error::operation_aborted);
  }

  // Closes the socket, leaving the worker's watch first.
  void close() {
    unregister();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  // Whether the wait between requests can go through the worker's watch (registering the
  // socket there the first time). False: wait with async_read_some.
  bool can_park() {
    if (registered_) return true;
    if (watch_ == nullptr || !socket_.is_open()) return false;
    registered_ = watch_->add(socket_.native_handle(), this);
    if (!registered_) watch_ = nullptr;  // refused: Asio's way from now on
    return registered_;
  }
  // False only when a read of ours found the socket empty and no edge has come since.
  bool read_ready() const noexcept { return read_ready_; }
  // Parks until the socket's next edge (bytes, or the peer's close); operation_aborted when
  // cancelled. Only after can_park() and with read_ready() false; one wait at a time. The
  // completion is posted, never run inside this call.
  template <typename Token>
  auto async_wait_readable(Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this](auto handler) {
          waiter_ = std::make_unique<ParkedWaitOf<decltype(handler)>>(std::move(handler));
          watch_->parked(this);
        },
        token);
  }
  // From the watch: an edge on the socket; `closing` when the peer has closed its side (or the
  // socket failed), which no later edge would announce again.
  void edge(bool closing) {
    read_ready_ = true;
    if (closing) peer_closed_ = true;
    if (waiter_) finish_wait({});
  }
  // From the watch, when the worker ends with this wait still parked: the handler (and with it
  // the waiting coroutine) is handed back to Asio to destroy.
  std::unique_ptr<ParkedWait> take_waiter() { return std::move(waiter_); }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    read_ready_ = true;  // what this read leaves behind is not known here
    return socket_.async_read_some(buffers, std::forward<Token>(token));
  }
  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return socket_.async_write_some(buffers, std::forward<Token>(token));
  }

  // Reads into the first non-empty buffer what the socket holds now: asio::error::eof when the
  // peer has closed, would_block when there is nothing yet.
  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers, boost::system::error_code& ec) {
    const boost::asio::mutable_buffer b = first_non_empty<boost::asio::mutable_buffer>(buffers);
    if (b.size() == 0) {
      ec = {};
      return 0;
    }
    for (;;) {
      const ssize_t n = ::recv(socket_.native_handle(), b.data(), b.size(), MSG_DONTWAIT);
      if (n > 0) {
        ec = {};
        // Less than there was room for: the socket was emptied (TCP hands over all it has),
        // unless the peer's close is still to be read (its edge has come and gone).
        read_ready_ = static_cast<std::size_t>(n) == b.size() || peer_closed_;
        return static_cast<std::size_t>(n);
      }
      if (n == 0) {
        ec = boost::asio::error::eof;
        return 0;
      }
      if (errno != EINTR) {
        fail(ec);
        if (ec == boost::asio::error::would_block) read_ready_ = false;
        return 0;
      }
    }
  }
  // Sends from the first non-empty buffer what the socket has room for now.
  template <typename ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers, boost::system::error_code& ec) {
    const boost::asio::const_buffer b = first_non_empty<boost::asio::const_buffer>(buffers);
    if (b.size() == 0) {
      ec = {};
      return 0;
    }
    for (;;) {
      const ssize_t n =
          ::send(socket_.native_handle(), b.data(), b.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n >= 0) {
        ec = {};
        return static_cast<std::size_t>(n);
      }
      if (errno != EINTR) return fail(ec);
    }
  }
  // The throwing forms Beast's stream concepts ask for.
  template <typename MutableBuffers>
  std::size_t read_some(const MutableBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
  template <typename ConstBuffers>
  std::size_t write_some(const ConstBuffers& buffers) {
    boost::system::error_code ec;
    const std::size_t n = write_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }

 private:
  void finish_wait(boost::system::error_code ec) {
    auto handler = std::move(waiter_);
    watch_->unparked(this);
    // The waiting coroutine runs on this connection's executor (its worker), never inline here.
    boost::asio::post(socket_.get_executor(),
                      [handler = std::move(handler), ec] { handler->complete(ec); });
  }
  static socket_type&& unregistered_socket(ConnStream& s) noexcept {
    s.unregister();
    return std::move(s.socket_);
  }
  void unregister() {
    if (!registered_) return;
    registered_ = false;
    // A socket closed behind our back has left the set already (the kernel drops a closed
    // descriptor's registrations), and its number may be another connection's by now.
    watch_->remove(socket_.is_open() ? socket_.native_handle() : -1, this);
  }

  template <typename Buffer, typename Buffers>
  static Buffer first_non_empty(const Buffers& buffers) {
    const auto end = boost::asio::buffer_sequence_end(buffers);
    for (auto it = boost::asio::buffer_sequence_begin(buffers); it != end; ++it) {
      const Buffer b(*it);
      if (b.size() != 0) return b;
    }
    return Buffer();
  }
  static std::size_t fail(boost::system::error_code& ec) {
    const int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK)
      ec = boost::asio::error::would_block;
    else
      ec.assign(e, boost::system::system_category());
    return 0;
  }

  socket_type socket_;
  clock::time_point deadline_ = clock::time_point::max();
  ReadWatch* watch_ = nullptr;
  bool registered_ = false;
  bool read_ready_ = true;
  bool peer_closed_ = false;
  std::unique_ptr<ParkedWait> waiter_;
  // The watch's lists of registered and of parked streams (for the worker's end).
  friend class ReadWatch;
  ConnStream* registered_prev_ = nullptr;
  ConnStream* registered_next_ = nullptr;
  ConnStream* parked_prev_ = nullptr;
  ConnStream* parked_next_ = nullptr;
};

}  // namespace streamgate::http
