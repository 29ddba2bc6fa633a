#include "http/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "http/log.hpp"
#include "http/middleware.hpp"
#include "http/session.hpp"

namespace streamgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string client_ip(std::string_view peer, std::string_view xff, std::size_t hops) {
  if (hops == 0 || xff.empty()) return std::string(peer);
  std::vector<std::string_view> parts;
  while (!xff.empty()) {
    const auto comma = xff.find(',');
    std::string_view p = xff.substr(0, comma);
    while (!p.empty() && (p.front() == ' ' || p.front() == '\t')) p.remove_prefix(1);
    while (!p.empty() && (p.back() == ' ' || p.back() == '\t')) p.remove_suffix(1);
    parts.push_back(p);
    if (comma == std::string_view::npos) break;
    xff.remove_prefix(comma + 1);
  }
  const std::string_view chosen = parts.size() >= hops ? parts[parts.size() - hops] : parts.front();
  if (chosen.empty() || chosen.size() > 64) return std::string(peer);
  return std::string(chosen);
}

namespace {

struct Worker {
  asio::io_context ctx{1};
  std::optional<tcp::acceptor> acceptor;
  // Connections waiting for their next request, and all of them; touched only on this
  // worker's thread.
  IdleSet idle;
  IdleSet all;
  std::thread thread;
  // The connections' deadlines (http/conn_stream.hpp): checked every `sweep_interval` while
  // the worker has connections, and not at all while it has none.
  asio::steady_timer sweeper{ctx};
  std::chrono::milliseconds sweep_interval{250};
  bool sweeping = false;
  // The wait between requests of plain connections (http/read_watch.hpp). Last: it lets go of
  // the connections before the sets above are destroyed.
  ReadWatch watch{ctx};

  // A connection joins the worker: the sweeper runs from then on.
  void add(ConnStream& c) {
    all.insert(&c);
    if (!sweeping) arm_sweeper();
  }

  void arm_sweeper() {
    sweeping = true;
    sweeper.expires_after(sweep_interval);
    sweeper.async_wait([this](const boost::system::error_code& ec) {
      sweeping = false;
      if (ec) return;
      const auto now = std::chrono::steady_clock::now();
      for (auto* c : all) c->expire_if_due(now);
      if (!all.empty()) arm_sweeper();
    });
  }
};

// How often the deadlines are checked: an eighth of the shortest timeout, so that a deadline is
// honoured within 12.5 % of it, between 10 ms and 250 ms.
std::chrono::milliseconds sweep_interval_for(const ServerOptions& o) {
  const auto shortest =
      std::min({o.header_timeout, o.body_timeout, o.idle_timeout, o.write_timeout});
  return std::clamp(shortest / 8, std::chrono::milliseconds(10), std::chrono::milliseconds(250));
}

// Descriptors kept back from the connection limit for the store, Stream, Redis, logs and the
// answer that refuses a connection over the limit.
std::size_t descriptor_reserve(std::size_t soft_limit) {
  return std::clamp<std::size_t>(soft_limit / 4, 32, 256);
}

std::shared_ptr<ssl::context> make_tls_context(const std::string& cert, const std::string& key) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use | ssl::context::no_compression);
  SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION);
  // TLS 1.2: forward-secret AEAD suites only (TLS 1.3 suites are all of that kind).
  SSL_CTX_set_cipher_list(
      ctx->native_handle(),
      "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
      "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305");
  boost::system::error_code ec;
  ctx->use_certificate_chain_file(cert, ec);
  if (ec) throw std::runtime_error("cannot load TLS certificate " + cert + ": " + ec.message());
  ctx->use_private_key_file(key, ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load TLS key " + key + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw std::runtime_error("TLS key " + key + " does not match certificate " + cert);
  return ctx;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Router router;
  std::vector<Middleware> global;
  Handler dispatch;
  std::vector<std::unique_ptr<Worker>> workers;
  std::uint16_t bound_port = 0;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> active{0};
  std::mutex drain_mutex;
  std::condition_variable drain_cv;
  std::thread drain_thread;
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;  // null: plain HTTP

  std::shared_ptr<ssl::context> current_tls() {
    std::lock_guard lock(tls_mutex);
    return tls;
  }

  Impl(ServerOptions o, Router r, std::vector<Middleware> g)
      : options(std::move(o)), router(std::move(r)), global(std::move(g)) {
    if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
    options.header_limit = bounded_header_limit(options.header_limit);
    cap_connections_to_descriptors();
    if (!options.tls_cert_file.empty() || !options.tls_key_file.empty())
      tls = make_tls_context(options.tls_cert_file, options.tls_key_file);
    dispatch = make_dispatch();
  }

  // HTTP_MAX_CONNECTIONS above what the process may open would end in EMFILE, with new clients
  // left in the kernel's backlog unanswered: cap it, so that they get a 503 instead.
  void cap_connections_to_descriptors() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    const auto soft = static_cast<std::size_t>(rl.rlim_cur);
    const std::size_t reserve = descriptor_reserve(soft);
    const std::size_t cap = soft > reserve + 16 ? soft - reserve : 16;
    if (options.max_connections > cap) {
      log(spdlog::level::warn,
          LogLine("connection limit capped to the descriptor limit")
              .add("configured", static_cast<std::int64_t>(options.max_connections))
              .add("capped", static_cast<std::int64_t>(cap))
              .add("rlimitNofile", static_cast<std::int64_t>(soft)));
      options.max_connections = cap;
    }
  }

  void connection_closed() {
    if (active.fetch_sub(1) == 1 && draining.load()) {
      std::lock_guard lock(drain_mutex);
      drain_cv.notify_all();
    }
  }

  SessionShared shared() const {
    return SessionShared{options, router, global, dispatch, draining};
  }
  Task<void> session(Worker& worker, tcp::socket socket);
  Task<void> accept_loop(Worker& worker);
};

Task<void> Server::Impl::session(Worker& worker, tcp::socket socket) {
  ConnStream tcp_layer(std::move(socket), &worker.watch);
  worker.add(tcp_layer);
  struct Cleanup {
    Impl* self;
    Worker* w;
    ConnStream* s;
    ~Cleanup() {
      w->idle.erase(s);
      w->all.erase(s);
      self->connection_closed();
    }
  } cleanup{this, &worker, &tcp_layer};

  boost::system::error_code ec;
  const auto peer = tcp_layer.socket().remote_endpoint(ec);
  const std::string peer_ip = ec ? std::string() : peer.address().to_string();
  if (auto tls_ctx = current_tls()) {
    TlsStream tls_stream(tcp_layer, *tls_ctx);
    // The handshake is part of the header's time: a slow or plain-HTTP client is dropped.
    tcp_layer.expires_after(options.header_timeout);
    auto [hec] = co_await tls_stream.async_handshake(ssl::stream_base::server, kTuple);
    tcp_layer.expires_never();
    if (!hec) co_await serve_connection(tls_stream, shared(), worker.idle, peer_ip);
  } else {
    co_await serve_connection(tcp_layer, shared(), worker.idle, peer_ip);
  }
  boost::system::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
  tcp_layer.close();
}

Task<void> Server::Impl::accept_loop(Worker& worker) {
  // Out of descriptors and the like: back off (doubling, up to a second) instead of spinning,
  // and warn at most every five seconds with the number of failures since the last warning.
  std::chrono::milliseconds backoff{0};
  std::int64_t failures = 0;
  auto last_warning = std::chrono::steady_clock::time_point{};
  for (;;) {
    auto [ec, socket] = co_await worker.acceptor->async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !worker.acceptor->is_open()) co_return;
      ++failures;
      const auto now = std::chrono::steady_clock::now();
      if (now - last_warning >= std::chrono::seconds(5)) {
        log(spdlog::level::warn,
            LogLine("accept failed").add("error", ec.message()).add("failures", failures));
        last_warning = now;
        failures = 0;
      }
      backoff =
          std::clamp(backoff * 2, std::chrono::milliseconds(10), std::chrono::milliseconds(1000));
      asio::steady_timer t(worker.ctx, backoff);
      co_await t.async_wait(kTuple);
      continue;
    }
    backoff = std::chrono::milliseconds(0);
    if (draining.load()) {
      socket.close(ec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    active.fetch_add(1);
    if (active.load() > options.max_connections) {
      asio::co_spawn(
          worker.ctx,
          [this, s = std::move(socket)]() mutable -> Task<void> {
            // Over the limit nothing lingers: this descriptor is beyond the budget. What the client
            // has already sent is dropped first, so that the close does not reset the answer.
            boost::system::error_code ignored;
            std::array<char, 4096> sink;
            s.non_blocking(true, ignored);
            while (s.available(ignored) > 0 && s.read_some(asio::buffer(sink), ignored) > 0) {
            }
            beast::tcp_stream stream(std::move(s));
            co_await write_error_and_close(stream, 503, "too_many_connections",
                                           "Server is at its connection limit", false);
          },
          [this](std::exception_ptr) { connection_closed(); });
      continue;
    }
    asio::co_spawn(worker.ctx, session(worker, std::move(socket)), [](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log(spdlog::level::err, LogLine("session failed").add("error", ex.what()));
      }
    });
  }
}

Server::Server(ServerOptions options, Router router, std::vector<Middleware> global)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(router), std::move(global))) {}

Server::~Server() {
  if (!impl_->workers.empty()) {
    drain(std::chrono::milliseconds(0));
    wait();
  }
}

std::uint16_t Server::listen() {
  auto& o = impl_->options;
  const auto address = asio::ip::make_address(o.address);
  std::uint16_t port = o.port;
  for (std::size_t i = 0; i < o.threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->sweep_interval = sweep_interval_for(o);
    tcp::endpoint ep(address, port);
    w->acceptor.emplace(w->ctx);
    w->acceptor->open(ep.protocol());
    w->acceptor->set_option(asio::socket_base::reuse_address(true));
    using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
    w->acceptor->set_option(reuse_port(true));
    w->acceptor->bind(ep);
    w->acceptor->listen(asio::socket_base::max_listen_connections);
    port = w->acceptor->local_endpoint().port();
    impl_->workers.push_back(std::move(w));
  }
  impl_->bound_port = port;
  return port;
}

std::uint16_t Server::port() const { return impl_->bound_port; }

void Server::start() {
  for (auto& wp : impl_->workers) {
    Worker* w = wp.get();
    asio::co_spawn(w->ctx, impl_->accept_loop(*w), [](std::exception_ptr e) {
      if (e) log(spdlog::level::critical, LogLine("accept loop failed"));
    });
    w->thread = std::thread([w] {
      for (;;) {
        try {
          w->ctx.run();
          return;
        } catch (const std::exception& e) {
          // A handler threw past everything: log, keep the thread serving.
          log(spdlog::level::err, LogLine("io thread exception").add("error", e.what()));
        }
      }
    });
  }
}

void Server::drain(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.draining.exchange(true)) return;
  log(spdlog::level::info, LogLine("draining")
                               .add("activeConnections", static_cast<std::int64_t>(s.active.load()))
                               .add("graceMs", static_cast<std::int64_t>(grace.count())));
  for (auto& wp : s.workers) {
    Worker* w = wp.get();
    asio::post(w->ctx, [w] {
      boost::system::error_code ec;
      if (w->acceptor) w->acceptor->close(ec);
      for (auto* stream : w->idle) stream->cancel();
    });
  }
  s.drain_thread = std::thread([&s, grace] {
    {
      std::unique_lock lock(s.drain_mutex);
      s.drain_cv.wait_for(lock, grace, [&s] { return s.active.load() == 0; });
    }
    // Whatever is left after the grace period is closed, then the threads return.
    for (auto& wp : s.workers) {
      Worker* w = wp.get();
      asio::post(w->ctx, [w] {
        for (auto* stream : w->all) stream->cancel();
      });
    }
    {
      std::unique_lock lock(s.drain_mutex);
      s.drain_cv.wait_for(lock, std::chrono::milliseconds(500),
                          [&s] { return s.active.load() == 0; });
    }
    for (auto& wp : s.workers) wp->ctx.stop();
  });
}

void Server::wait() {
  for (auto& wp : impl_->workers)
    if (wp->thread.joinable()) wp->thread.join();
  if (impl_->drain_thread.joinable()) impl_->drain_thread.join();
}

bool Server::draining() const { return impl_->draining.load(); }

void Server::reload_tls() {
  if (impl_->options.tls_cert_file.empty()) return;
  auto fresh = make_tls_context(impl_->options.tls_cert_file, impl_->options.tls_key_file);
  std::lock_guard lock(impl_->tls_mutex);
  impl_->tls = std::move(fresh);
}
std::size_t Server::active_connections() const { return impl_->active.load(); }

}  // namespace streamgate::http
