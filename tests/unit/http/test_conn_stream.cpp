// A plain connection's never-blocking read_some and write_some (http/conn_stream.hpp), and the
// session that tries them before it awaits: what is buffered is parsed at once, what does not
// fit the socket is awaited, and nothing is lost or reordered either way.
#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/test/unit_test.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/conn_stream.hpp"
#include "http/read_watch.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

using namespace streamgate::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// A connected pair on loopback: `server` wrapped in a ConnStream, `client` a plain socket.
struct Pair {
  asio::io_context io;
  tcp::socket client{io};
  ConnStream server{tcp::socket(io)};

  explicit Pair(int client_rcvbuf = 0) {
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.open(tcp::v4());
    if (client_rcvbuf > 0) client.set_option(asio::socket_base::receive_buffer_size(client_rcvbuf));
    client.connect(acceptor.local_endpoint());
    server = ConnStream(acceptor.accept());
  }
};

// A blocking client of the whole server: raw bytes out, Content-Length framed responses in.
class Client {
 public:
  explicit Client(std::uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect failed");
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void send(const std::string& bytes) {
    for (std::size_t off = 0; off < bytes.size();) {
      const ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }
  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }
  // True when the server closes the connection within `timeout` (bytes before that ignored).
  bool closed_within(std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) != 1) return false;
      std::array<char, 4096> buf;
      if (::recv(fd_, buf.data(), buf.size(), 0) <= 0) return true;
    }
  }
  // One response: the status code and the body (Content-Length framed).
  std::pair<int, std::string> response() {
    std::size_t head_end;
    while ((head_end = in_.find("\r\n\r\n")) == std::string::npos) fill();
    const std::string head = in_.substr(0, head_end);
    const int status = std::stoi(head.substr(9, 3));
    const auto cl = head.find("Content-Length: ");
    const std::size_t length = cl == std::string::npos ? 0 : std::stoul(head.substr(cl + 16));
    while (in_.size() < head_end + 4 + length) fill();
    std::string body = in_.substr(head_end + 4, length);
    in_.erase(0, head_end + 4 + length);
    return {status, std::move(body)};
  }

 private:
  void fill() {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 10'000) != 1) throw std::runtime_error("no response within 10 s");
    std::array<char, 65536> buf;
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n <= 0) throw std::runtime_error("connection closed");
    in_.append(buf.data(), static_cast<std::size_t>(n));
  }
  int fd_;
  std::string in_;
};

std::string big_body() {
  std::string body(8 << 20, '\0');
  for (std::size_t i = 0; i < body.size(); ++i)
    body[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  return body;
}

// A server on 127.0.0.1:0 with one I/O thread (every connection on one worker): GET /n/{n}
// answers n, POST /len the body's length and its last byte, GET /big eight MiB.
struct TestServer {
  Server server;
  std::uint16_t port = 0;

  TestServer() : server(options(), routes(), {}) {
    port = server.listen();
    server.start();
  }
  ~TestServer() {
    server.drain(1s);
    server.wait();
  }
  static ServerOptions options() {
    ServerOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.threads = 1;
    return o;
  }
  static Router routes() {
    Router r;
    r.add(Method::get, "/n/{n}", [](Request&, Context& ctx) -> Task<Response> {
      Response res;
      res.content_type = "text/plain";
      res.body = std::string(ctx.param("n"));
      co_return res;
    });
    r.add(
        Method::post, "/len",
        [](Request& req, Context&) -> Task<Response> {
          Response res;
          res.content_type = "text/plain";
          res.body = std::to_string(req.body.size()) + ":" +
                     (req.body.empty() ? "" : req.body.substr(req.body.size() - 1));
          co_return res;
        },
        RouteOptions{1 << 20, {}});
    r.add(Method::get, "/big", [](Request&, Context&) -> Task<Response> {
      Response res;
      res.content_type = "application/octet-stream";
      res.body = big_body();
      co_return res;
    });
    return r;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(conn_stream)

BOOST_AUTO_TEST_CASE(read_some_takes_what_is_there_and_never_blocks) {
  Pair p;
  std::array<char, 16> buf{};
  boost::system::error_code ec;
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST((ec == asio::error::would_block));

  asio::write(p.client, asio::buffer(std::string("hello")));
  std::this_thread::sleep_for(20ms);
  // An empty first buffer is skipped: the bytes go to the first that has room.
  std::array<asio::mutable_buffer, 2> seq{asio::mutable_buffer(), asio::buffer(buf)};
  BOOST_TEST(p.server.read_some(seq, ec) == 5u);
  BOOST_TEST(!ec);
  BOOST_TEST(std::string(buf.data(), 5) == "hello");
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST((ec == asio::error::would_block));
  // No room at all: nothing to do, no error.
  BOOST_TEST(p.server.read_some(asio::mutable_buffer(), ec) == 0u);
  BOOST_TEST(!ec);
  BOOST_CHECK_THROW(p.server.read_some(asio::buffer(buf)), boost::system::system_error);

  p.client.shutdown(tcp::socket::shutdown_send);
  std::this_thread::sleep_for(20ms);
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST((ec == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(read_ready_is_false_only_after_a_read_found_the_socket_empty) {
  Pair p;
  std::array<char, 50> buf{};
  boost::system::error_code ec;
  BOOST_TEST(p.server.read_ready());  // nothing known yet
  asio::write(p.client, asio::buffer(std::string(100, 'r')));
  std::this_thread::sleep_for(20ms);
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 50u);
  BOOST_TEST(p.server.read_ready());  // a full buffer: there may be more
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 50u);
  BOOST_TEST(p.server.read_ready());  // still full: not known to be empty
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST((ec == asio::error::would_block));
  BOOST_TEST(!p.server.read_ready());
  asio::write(p.client, asio::buffer(std::string(10, 's')));
  std::this_thread::sleep_for(20ms);
  BOOST_TEST(!p.server.read_ready());  // only an edge from the watch (or a read) says otherwise
  BOOST_TEST(p.server.read_some(asio::buffer(buf), ec) == 10u);
  BOOST_TEST(!p.server.read_ready());  // less than there was room for: emptied
}

BOOST_AUTO_TEST_CASE(a_parked_wait_resumes_on_the_next_edge_and_ends_when_cancelled) {
  asio::io_context io;
  ReadWatch watch(io);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  ConnStream server(acceptor.accept(), &watch);
  BOOST_REQUIRE(server.can_park());

  std::array<char, 64> buf{};
  boost::system::error_code ec;
  server.read_some(asio::buffer(buf), ec);
  BOOST_REQUIRE(!server.read_ready());
  std::optional<boost::system::error_code> result;
  server.async_wait_readable([&](boost::system::error_code e) { result = e; });
  BOOST_TEST(watch.parked_count() == 1u);
  io.run_for(100ms);
  BOOST_TEST(!result.has_value());  // nothing came: still parked

  asio::write(client, asio::buffer(std::string("next")));
  for (int i = 0; i < 100 && !result; ++i) io.run_for(10ms);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!*result);
  BOOST_TEST(server.read_ready());
  BOOST_TEST(watch.parked_count() == 0u);
  BOOST_TEST(server.read_some(asio::buffer(buf), ec) == 4u);

  // Bytes that come after a read found the socket empty but before the wait begins: their edge
  // waits in the set, and the wait ends at once.
  BOOST_TEST(server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST(!server.read_ready());
  asio::write(client, asio::buffer(std::string("late")));
  std::this_thread::sleep_for(20ms);
  result.reset();
  server.async_wait_readable([&](boost::system::error_code e) { result = e; });
  io.restart();
  for (int i = 0; i < 100 && !result; ++i) io.run_for(10ms);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(!*result);
  BOOST_TEST(server.read_some(asio::buffer(buf), ec) == 4u);
  BOOST_TEST(server.read_some(asio::buffer(buf), ec) == 0u);
  BOOST_TEST(!server.read_ready());

  result.reset();
  server.async_wait_readable([&](boost::system::error_code e) { result = e; });
  server.cancel();
  BOOST_TEST(!result.has_value());  // posted, never run inside cancel()
  io.restart();
  io.run_for(50ms);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST((*result == asio::error::operation_aborted));
  BOOST_TEST(watch.parked_count() == 0u);

  // Bytes and the peer's close in one edge: the read that takes the bytes leaves the stream
  // ready, so the close is read next instead of waited for.
  asio::write(client, asio::buffer(std::string("last")));
  client.shutdown(tcp::socket::shutdown_send);
  std::this_thread::sleep_for(20ms);
  result.reset();
  server.async_wait_readable([&](boost::system::error_code e) { result = e; });
  io.restart();
  for (int i = 0; i < 100 && !result; ++i) io.run_for(10ms);
  BOOST_REQUIRE(result.has_value());
  BOOST_TEST(server.read_some(asio::buffer(buf), ec) == 4u);
  BOOST_TEST(server.read_ready());
  server.read_some(asio::buffer(buf), ec);
  BOOST_TEST((ec == asio::error::eof));
}

BOOST_AUTO_TEST_CASE(a_stream_outliving_its_watch_lets_go_of_it) {
  asio::io_context io;
  auto watch = std::make_unique<ReadWatch>(io);
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(io);
  client.connect(acceptor.local_endpoint());
  auto registered = std::make_unique<ConnStream>(acceptor.accept(), watch.get());
  BOOST_REQUIRE(registered->can_park());
  // A registered stream moved: the moved-to one registers again when it first waits.
  ConnStream moved(std::move(*registered));
  registered.reset();
  BOOST_TEST(moved.can_park());
  watch.reset();  // the worker ends first (ASan checks that nothing touches it afterwards)
  BOOST_TEST(!moved.can_park());
  moved.close();
}

BOOST_AUTO_TEST_CASE(write_some_sends_what_fits_then_would_block) {
  Pair p(4096);  // a small receive window on the peer, which does not read yet
  const std::string chunk(64 * 1024, 'x');
  boost::system::error_code ec;
  std::size_t sent = 0;
  for (int i = 0; i < 10'000 && !ec; ++i) sent += p.server.write_some(asio::buffer(chunk), ec);
  BOOST_TEST((ec == asio::error::would_block));
  BOOST_TEST(sent > 0u);
  // The peer receives exactly what was reported sent.
  std::size_t received = 0;
  std::array<char, 65536> buf;
  p.client.non_blocking(true);
  for (int idle = 0; idle < 50;) {
    boost::system::error_code rec;
    const std::size_t n = p.client.read_some(asio::buffer(buf), rec);
    if (rec == asio::error::would_block) {
      ++idle;
      std::this_thread::sleep_for(5ms);
      continue;
    }
    BOOST_REQUIRE(!rec);
    for (std::size_t i = 0; i < n; ++i) BOOST_REQUIRE(buf[i] == 'x');
    received += n;
  }
  BOOST_TEST(received == sent);
}

BOOST_AUTO_TEST_CASE(write_some_to_a_closed_peer_is_an_error_not_a_signal) {
  Pair p;
  p.client.close();
  std::this_thread::sleep_for(20ms);
  boost::system::error_code ec;
  const std::string chunk(1024, 'x');
  // The first send may still be accepted (the reset comes back after it); a later one fails.
  for (int i = 0; i < 100 && !ec; ++i) {
    p.server.write_some(asio::buffer(chunk), ec);
    std::this_thread::sleep_for(2ms);
  }
  BOOST_TEST((ec == asio::error::broken_pipe || ec == asio::error::connection_reset));
}

BOOST_AUTO_TEST_CASE(an_answer_larger_than_the_socket_takes_is_sent_whole_to_a_late_reader) {
  TestServer s;
  Client c(s.port, 16 * 1024);
  c.send("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(300ms);  // the answer fills the socket; the rest is awaited
  const auto [status, body] = c.response();
  BOOST_TEST(status == 200);
  BOOST_TEST(body.size() == big_body().size());
  BOOST_TEST((body == big_body()));
  // The connection goes on.
  c.send("GET /n/7 HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(c.response().second == "7");
}

BOOST_AUTO_TEST_CASE(a_header_or_body_that_comes_later_is_awaited) {
  TestServer s;
  Client c(s.port);
  const std::string body(3000, 'b');
  const std::string head =
      "POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size() + 1) +
      "\r\n";
  c.send(head.substr(0, 20));  // half a header
  std::this_thread::sleep_for(100ms);
  c.send(head.substr(20) + "\r\n" + body.substr(0, 1000));  // the header and part of the body
  std::this_thread::sleep_for(100ms);
  c.send(body.substr(1000) + "z");
  const auto r1 = c.response();
  BOOST_TEST(r1.first == 200);
  BOOST_TEST(r1.second == "3001:z");
  // Header and body in one piece: read at once.
  c.send("POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
  BOOST_TEST(c.response().second == "3:c");
}

// A client that sends its request and closes its side at once ("printf ... | nc") gets the
// answer, and the connection ends then, not at the idle timeout.
BOOST_AUTO_TEST_CASE(a_request_followed_by_the_peers_close_is_answered_then_closed) {
  TestServer s;
  for (int round = 0; round < 2; ++round) {
    Client c(s.port);
    if (round == 1) {  // the second time, after a first request has parked the connection once
      c.send("GET /n/1 HTTP/1.1\r\nHost: x\r\n\r\n");
      BOOST_TEST(c.response().second == "1");
      std::this_thread::sleep_for(50ms);
    }
    c.send("GET /n/2 HTTP/1.1\r\nHost: x\r\n\r\n");
    c.shutdown_send();
    BOOST_TEST(c.response().second == "2");
    BOOST_TEST(c.closed_within(2s));
  }
}

BOOST_AUTO_TEST_CASE(a_long_pipeline_is_answered_whole_and_in_order_beside_another_client) {
  TestServer s;
  Client a(s.port);
  Client b(s.port);
  // More requests in one write than the session answers without waiting (16), so some headers
  // are read the awaited way too.
  std::string pipeline;
  for (int i = 0; i < 100; ++i)
    pipeline += i % 3 == 0 ? "POST /len HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n" +
                                 std::to_string(i % 10) + "!"
                           : "GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  a.send(pipeline);
  b.send("GET /n/500 HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(b.response().second == "500");
  for (int i = 0; i < 100; ++i) {
    const auto [status, body] = a.response();
    BOOST_TEST(status == 200);
    BOOST_TEST(body == (i % 3 == 0 ? std::string("2:!") : std::to_string(i)));
  }
}

// More connections than one collection takes (64) wait between requests on one worker; all
// get their next request answered, and each closed one is let go.
BOOST_AUTO_TEST_CASE(many_parked_connections_are_all_resumed_and_closed_ones_let_go) {
  TestServer s;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 150; ++i) {
    clients.push_back(std::make_unique<Client>(s.port));
    clients.back()->send("GET /n/" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_REQUIRE(clients.back()->response().second == std::to_string(i));
  }
  std::this_thread::sleep_for(50ms);  // all parked
  for (int i = 0; i < 150; ++i)
    clients[static_cast<std::size_t>(i)]->send("GET /n/" + std::to_string(1000 + i) +
                                               " HTTP/1.1\r\nHost: x\r\n\r\n");
  for (int i = 0; i < 150; ++i)
    BOOST_TEST(clients[static_cast<std::size_t>(i)]->response().second == std::to_string(1000 + i));
  BOOST_TEST(s.server.active_connections() == 150u);
  clients.resize(50);  // a hundred peers close while parked
  for (int i = 0; i < 200 && s.server.active_connections() != 50u; ++i)
    std::this_thread::sleep_for(10ms);
  BOOST_TEST(s.server.active_connections() == 50u);
  clients[7]->send("GET /n/7 HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(clients[7]->response().second == "7");
}

BOOST_AUTO_TEST_SUITE_END()
