#pragma once
// An in-memory transport for a session: reads come from a fixed input (at most `max_read` bytes
// each, so that a test or fuzz target can split the bytes anywhere), writes go to a string, and
// the input's end is the client closing. No socket, no clock and no thread: the session's
// deadlines are accepted and ignored, since an input that ends cannot stall. serve_connection is
// instantiated for it (session.cpp), so the fuzz target drives the real session code.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <string>
#include <utility>

namespace streamgate::http {

class MemoryStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  MemoryStream(executor_type ex, std::string input, std::size_t max_read)
      : ex_(std::move(ex)),
        input_(std::move(input)),
        max_read_(std::max<std::size_t>(1, max_read)) {}

  executor_type get_executor() const { return ex_; }
  const std::string& output() const { return output_; }
  bool shut_down() const { return shut_down_; }

  // The session's lowest layer: its deadline and its socket are this stream.
  void expires_after(std::chrono::steady_clock::duration) {}
  void expires_never() {}
  MemoryStream& socket() { return *this; }
  void shutdown(boost::asio::socket_base::shutdown_type, boost::system::error_code& ec) {
    shut_down_ = true;
    ec = {};
  }

  template <typename MutableBuffers, typename Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const MutableBuffers& bufs) {
          boost::system::error_code ec;
          std::size_t n = 0;
          if (boost::asio::buffer_size(bufs) == 0) {
            // Asio's rule: an empty read completes at once.
          } else if (pos_ == input_.size()) {
            ec = boost::asio::error::eof;
          } else {
            const std::size_t take = std::min(max_read_, input_.size() - pos_);
            n = boost::asio::buffer_copy(bufs, boost::asio::buffer(input_.data() + pos_, take));
            pos_ += n;
          }
          complete(std::move(handler), ec, n);
        },
        token, buffers);
  }

  template <typename ConstBuffers, typename Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const ConstBuffers& bufs) {
          boost::system::error_code ec;
          std::size_t n = 0;
          if (shut_down_) {
            ec = boost::asio::error::broken_pipe;
          } else {
            n = boost::asio::buffer_size(bufs);
            const std::size_t at = output_.size();
            output_.resize(at + n);
            boost::asio::buffer_copy(boost::asio::buffer(output_.data() + at, n), bufs);
          }
          complete(std::move(handler), ec, n);
        },
        token, buffers);
  }

 private:
  template <typename Handler>
  void complete(Handler handler, boost::system::error_code ec, std::size_t n) {
    auto ex = boost::asio::get_associated_executor(handler, ex_);
    boost::asio::post(ex, [h = std::move(handler), ec, n]() mutable { std::move(h)(ec, n); });
  }

  executor_type ex_;
  std::string input_;
  std::size_t pos_ = 0;
  std::size_t max_read_;
  std::string output_;
  bool shut_down_ = false;
};

}  // namespace streamgate::http
