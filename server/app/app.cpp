#include "server/app/app.hpp"

#include <atomic>
#include <system_error>

#include "http/middleware.hpp"
#include "http/server.hpp"
#include "server/app/background.hpp"
#include "server/app/deps.hpp"
#include "server/app/routes.hpp"

namespace streamgate::server {

namespace {

http::ServerOptions server_options(const Config& c) {
  http::ServerOptions o;
  o.address = c.listen_address;
  o.port = c.port;
  o.threads = static_cast<std::size_t>(c.http_threads);
  o.header_limit = static_cast<std::size_t>(c.header_limit_bytes);
  o.header_timeout = std::chrono::milliseconds(c.header_timeout_ms);
  o.body_timeout = std::chrono::milliseconds(c.body_timeout_ms);
  o.idle_timeout = std::chrono::milliseconds(c.idle_timeout_ms);
  o.max_connections = static_cast<std::size_t>(c.max_connections);
  o.trusted_proxy_hops = static_cast<std::size_t>(c.trusted_proxy_hops);
  o.tls_cert_file = c.tls_cert_file;
  o.tls_key_file = c.tls_key_file;
  return o;
}

}  // namespace

struct App::Impl {
  Config config;
  Deps deps;
  Background background;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<http::Server> metrics_server;  // null with METRICS_ADDRESS=off
  std::atomic<bool> not_ready{false};
  std::uint16_t metrics_port = 0;
};

App::App(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->deps = make_deps(impl_->config);
  Impl* impl = impl_.get();
  RouteHooks hooks{
      [impl] { return impl->not_ready.load() || (impl->server && impl->server->draining()); },
      [impl] {
        return impl->server ? static_cast<double>(impl->server->active_connections()) : 0.0;
      }};
  auto routes = make_routes(impl_->config, impl_->deps, hooks);
  auto global = global_middleware(impl_->config, impl_->deps);
  if (impl_->config.metrics_address != "off") {
    // Plain HTTP, one thread, nothing but GET /metrics: the scraper's port, never the public one.
    http::ServerOptions m;
    m.address = impl_->config.metrics_address;
    m.port = impl_->config.metrics_port;
    m.threads = 1;
    m.max_connections = 64;
    m.header_timeout = std::chrono::milliseconds(5000);
    m.idle_timeout = std::chrono::milliseconds(30'000);
    impl_->metrics_server = std::make_unique<http::Server>(
        m, make_metrics_routes(impl_->deps, hooks),
        std::vector<http::Middleware>{http::request_id(), http::error_envelope()});
  }
  try {
    impl_->server = std::make_unique<http::Server>(server_options(impl_->config), std::move(routes),
                                                   std::move(global));
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string("TLS_CERT_FILE/TLS_KEY_FILE: ") + e.what());
  }
}

App::~App() {
  impl_->background.stop();
  impl_->server->drain(std::chrono::milliseconds(0));
  impl_->server->wait();
  if (impl_->metrics_server) {
    impl_->metrics_server->drain(std::chrono::milliseconds(0));
    impl_->metrics_server->wait();
  }
  impl_->deps.close_pools();
  impl_->server.reset();
}

std::uint16_t App::listen() {
  const std::uint16_t port = impl_->server->listen();
  if (impl_->metrics_server) {
    try {
      impl_->metrics_port = impl_->metrics_server->listen();
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), "metrics listener (METRICS_ADDRESS/METRICS_PORT)");
    }
  }
  return port;
}

std::uint16_t App::metrics_port() const { return impl_->metrics_port; }

void App::start() {
  impl_->background.start(impl_->config, impl_->deps);
  impl_->server->start();
  if (impl_->metrics_server) impl_->metrics_server->start();
}

void App::reload_tls() { impl_->server->reload_tls(); }
void App::mark_not_ready() { impl_->not_ready.store(true); }
void App::drain() { drain(std::chrono::seconds(impl_->config.shutdown_grace_seconds)); }
void App::drain(std::chrono::milliseconds grace) {
  impl_->server->drain(grace);
  // Scrapes go on while requests drain; the metrics listener closes with the last of them.
}

void App::wait() {
  impl_->server->wait();
  if (impl_->metrics_server) {
    impl_->metrics_server->drain(std::chrono::milliseconds(0));
    impl_->metrics_server->wait();
  }
  impl_->background.stop();
  impl_->deps.close_pools();
}

bool App::draining() const { return impl_->server->draining(); }

}  // namespace streamgate::server
