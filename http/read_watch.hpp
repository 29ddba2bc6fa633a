#pragma once
// A worker's watch over its plain connections' sockets, for the wait between requests.
//
// Asio's reactor cannot wait for a socket's next edge without a system call: a read it starts
// first tries the socket (after an answer, a recv that finds nothing: EAGAIN), and a wait for
// readiness re-arms the descriptor (epoll_ctl). Either costs about what the request's own read
// costs, on every request of a keep-alive connection. nginx instead keeps, per connection,
// whether its last read found the socket empty, and then only waits for the kernel's next edge.
//
// This does the same. A plain connection's socket is also registered, edge-triggered, in an epoll
// set of the worker's own, which Asio watches as one descriptor. A connection whose last read
// found its socket empty (ConnStream::read_ready() false) parks its wait here; an edge on any of
// them makes the set readable, and one epoll_wait collects the edges of all of them and resumes
// their waits. The system calls are one epoll_wait and one re-arm per batch of edges instead of
// a failed read per request. The edges are the kernel's, so none is missed: bytes that arrive
// after a read found the socket empty raise a new one.
//
// Used only on its worker's thread. Internal to the http module.
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <cstddef>

namespace streamgate::http {

class ConnStream;

class ReadWatch {
 public:
  explicit ReadWatch(boost::asio::io_context& io);
  ReadWatch(const ReadWatch&) = delete;
  ReadWatch& operator=(const ReadWatch&) = delete;
  // Every stream still registered is let go (it no longer refers to the watch), and waits still
  // parked (the worker stopped before they were cancelled) are handed back to Asio, which
  // destroys them with the io_context as it does its own pending operations.
  ~ReadWatch();

  // Registers `fd` for `stream` (edge-triggered input and the peer's close). False when there is
  // no set (out of descriptors at start) or the kernel refuses: the stream then waits Asio's way.
  bool add(int fd, ConnStream* stream);
  // Before `fd` is closed.
  void remove(int fd, ConnStream* stream);
  // A stream has parked its wait / its wait has ended (resumed, or cancelled).
  void parked(ConnStream* stream);
  void unparked(ConnStream* stream);

  // Parked waits now (for tests).
  std::size_t parked_count() const { return parked_; }

 private:
  void watch();
  void collect();

  boost::asio::posix::stream_descriptor set_;
  ConnStream* registered_head_ = nullptr;
  ConnStream* parked_head_ = nullptr;
  std::size_t parked_ = 0;
  bool watching_ = false;
};

}  // namespace streamgate::http
