#include "server/app/app.hpp"

#include <atomic>

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
  std::atomic<bool> not_ready{false};
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
  auto routes = make_routes(impl_->config, impl_->deps, std::move(hooks));
  auto global = global_middleware(impl_->config, impl_->deps);
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
  impl_->deps.close_pools();
  impl_->server.reset();
}

std::uint16_t App::listen() { return impl_->server->listen(); }

void App::start() {
  impl_->background.start(impl_->config, impl_->deps);
  impl_->server->start();
}

void App::reload_tls() { impl_->server->reload_tls(); }
void App::mark_not_ready() { impl_->not_ready.store(true); }
void App::drain() { drain(std::chrono::seconds(impl_->config.shutdown_grace_seconds)); }
void App::drain(std::chrono::milliseconds grace) { impl_->server->drain(grace); }

void App::wait() {
  impl_->server->wait();
  impl_->background.stop();
  impl_->deps.close_pools();
}

bool App::draining() const { return impl_->server->draining(); }

}  // namespace streamgate::server
