#include "http/read_watch.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <memory>
#include <utility>
#include <vector>

#include "http/conn_stream.hpp"

namespace streamgate::http {

namespace {

// The set's descriptor, or -1 (then every stream waits Asio's way).
int make_set() { return ::epoll_create1(EPOLL_CLOEXEC); }

}  // namespace

ReadWatch::ReadWatch(boost::asio::io_context& io) : set_(io) {
  const int fd = make_set();
  if (fd < 0) return;
  boost::system::error_code ec;
  set_.assign(fd, ec);
  if (ec) ::close(fd);
}

ReadWatch::~ReadWatch() {
  std::vector<std::unique_ptr<ParkedWait>> orphans;
  while (parked_head_ != nullptr) {
    ConnStream* s = parked_head_;
    unparked(s);
    orphans.push_back(s->take_waiter());
  }
  while (registered_head_ != nullptr) {
    ConnStream* s = registered_head_;
    registered_head_ = s->registered_next_;
    s->registered_prev_ = s->registered_next_ = nullptr;
    s->registered_ = false;
    s->watch_ = nullptr;
  }
  boost::system::error_code ignored;
  set_.close(ignored);
  // Destroying a coroutine's handler hands its frame to its executor to destroy; with the worker
  // stopped that happens when the io_context is destroyed, as for Asio's own operations.
  orphans.clear();
}

bool ReadWatch::add(int fd, ConnStream* stream) {
  if (!set_.is_open()) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = stream;
  if (::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  stream->registered_prev_ = nullptr;
  stream->registered_next_ = registered_head_;
  if (registered_head_ != nullptr) registered_head_->registered_prev_ = stream;
  registered_head_ = stream;
  return true;
}

void ReadWatch::remove(int fd, ConnStream* stream) {
  if (fd >= 0) {
    epoll_event ev{};  // ignored, but kernels before 2.6.9 wanted one
    ::epoll_ctl(set_.native_handle(), EPOLL_CTL_DEL, fd, &ev);
  }
  if (stream->registered_prev_ != nullptr)
    stream->registered_prev_->registered_next_ = stream->registered_next_;
  else
    registered_head_ = stream->registered_next_;
  if (stream->registered_next_ != nullptr)
    stream->registered_next_->registered_prev_ = stream->registered_prev_;
  stream->registered_prev_ = stream->registered_next_ = nullptr;
}

void ReadWatch::parked(ConnStream* stream) {
  stream->parked_prev_ = nullptr;
  stream->parked_next_ = parked_head_;
  if (parked_head_ != nullptr) parked_head_->parked_prev_ = stream;
  parked_head_ = stream;
  ++parked_;
  watch();
}

void ReadWatch::unparked(ConnStream* stream) {
  if (stream->parked_prev_ != nullptr)
    stream->parked_prev_->parked_next_ = stream->parked_next_;
  else
    parked_head_ = stream->parked_next_;
  if (stream->parked_next_ != nullptr) stream->parked_next_->parked_prev_ = stream->parked_prev_;
  stream->parked_prev_ = stream->parked_next_ = nullptr;
  --parked_;
}

// While some stream is parked, Asio waits for the set to become readable (the set is readable
// while it holds edges not yet collected; starting the wait re-arms it, so edges that came
// while nobody watched are seen at once).
void ReadWatch::watch() {
  if (watching_ || parked_ == 0 || !set_.is_open()) return;
  watching_ = true;
  set_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this](const boost::system::error_code& ec) {
                    watching_ = false;
                    if (ec) return;  // the set was closed: the worker is ending
                    collect();
                    watch();
                  });
}

// Every edge since the last collection: the stream may read again, and a parked wait resumes
// (posted: nothing runs inside this loop but flag setting).
void ReadWatch::collect() {
  epoll_event events[64];
  for (;;) {
    const int n = ::epoll_wait(set_.native_handle(), events, 64, 0);
    for (int i = 0; i < n; ++i)
      static_cast<ConnStream*>(events[i].data.ptr)
          ->edge((events[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (n < 64) return;
  }
}

}  // namespace streamgate::http
