#pragma once
// The application's lifecycle: its dependencies (deps.hpp), routes (routes.hpp), background
// work (background.hpp) and the HTTP server, from a Config.
#include <chrono>
#include <cstdint>
#include <memory>

#include "server/app/config.hpp"

namespace streamgate::server {

class App final {
 public:
  explicit App(Config config);  // throws ConfigError for unusable settings (e.g. key files)
  ~App();
  // Binds the public listener (returned) and the metrics listener (metrics_port()).
  std::uint16_t listen();
  std::uint16_t metrics_port() const;  // 0 with METRICS_ADDRESS=off or before listen()
  void start();
  // Readiness turns 503 (the load balancer stops sending), while requests are still served.
  void mark_not_ready();
  // TLS_CERT_FILE/TLS_KEY_FILE read again; throws (keeping the old ones) when unusable.
  void reload_tls();
  void drain();  // graceful, with SHUTDOWN_GRACE_SECONDS
  void drain(std::chrono::milliseconds grace);
  void wait();
  bool draining() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace streamgate::server
