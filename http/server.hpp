#pragma once
// The HTTP/1.1 server: one io_context per thread, each with its own SO_REUSEPORT acceptor
// (shared-nothing), a coroutine per connection with keep-alive and pipelining, explicit limits,
// and a graceful drain. Beast and Asio stay inside server.cpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "http/router.hpp"

namespace streamgate::http {

struct ServerOptions {
  std::string address = "0.0.0.0";
  std::uint16_t port = 8000;  // 0: any free port (see Server::port())
  std::size_t threads = 0;    // 0: one per core
  std::size_t header_limit = 16 * 1024;
  std::size_t unmatched_body_limit = 16 * 1024;      // body allowed on 404/405 before closing
  std::chrono::milliseconds header_timeout{10'000};  // whole header must arrive within this
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};  // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::size_t max_connections = 10'000;
  std::size_t trusted_proxy_hops = 0;  // >0: client ip from X-Forwarded-For, this many hops in
  // Both set: terminate TLS (1.2 and 1.3 only, forward-secret AEAD ciphers) on this port.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server final {
 public:
  // `global` runs for every request, outermost first; routing and the route's own middleware
  // and handler run after it.
  Server(ServerOptions options, Router router, std::vector<Middleware> global);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the acceptors; returns the bound port. Throws std::system_error on failure.
  std::uint16_t listen();
  std::uint16_t port() const;
  // Runs the I/O threads in the background.
  void start();
  // Begins a graceful shutdown (thread-safe, idempotent): stop accepting, close idle
  // keep-alive connections, let in-flight requests finish (their connections then close),
  // and after `grace` close whatever is left. The I/O threads then return.
  void drain(std::chrono::milliseconds grace);
  // Waits for the I/O threads to return.
  void wait();
  bool draining() const;
  std::size_t active_connections() const;
  // Loads the certificate and key again (thread-safe); new connections use them, open ones
  // keep theirs. Throws std::runtime_error and keeps the old ones when the files are unusable.
  void reload_tls();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The client address for a request: the peer, or with `hops` trusted proxies in front, the
// entry `hops` from the right of X-Forwarded-For (falling back to the peer).
std::string client_ip(std::string_view peer, std::string_view forwarded_for, std::size_t hops);

}  // namespace streamgate::http
