#pragma once
// What the routes are built from, made once from the configuration: the store (instrumented),
// the HTTPS clients, the app-JWT verifier, the Stream client, the rate limiters and the metrics.
#include <functional>
#include <memory>
#include <vector>

#include "core/crypto.hpp"
#include "http/https_client.hpp"
#include "http/rate_limiter.hpp"
#include "server/app/config.hpp"
#include "server/app_events/dispatcher.hpp"
#include "server/auth/app_jwt.hpp"
#include "server/clients/redis_limiter.hpp"
#include "server/clients/stream_client.hpp"
#include "server/ops/metrics.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

struct Deps {
  std::shared_ptr<Metrics> metrics;
  std::shared_ptr<Store> store;
  std::shared_ptr<http::HttpsClient> stream_https;
  std::shared_ptr<http::HttpsClient> jwks_https;  // null without AUTH_JWKS_URL
  std::shared_ptr<AppJwtVerifier> verifier;
  std::shared_ptr<StreamClient> stream;
  std::shared_ptr<const core::HmacSha256Key> stream_secret;
  std::shared_ptr<http::Limiter> ip_limiter;    // null when RATE_LIMIT_IP_PER_MINUTE=0
  std::shared_ptr<http::Limiter> user_limiter;  // null when RATE_LIMIT_USER_PER_MINUTE=0
  std::vector<std::shared_ptr<RedisLimiter>> redis_limiters;
  std::shared_ptr<http::HttpsClient> app_https;         // null without APP_WEBHOOK_URL
  std::shared_ptr<AppEventWaker> app_waker;             // the store wakes the dispatcher with it
  std::shared_ptr<http::HttpsClient> transcript_https;  // null with TRANSCRIPTS=off

  // Pooled sockets belong to the I/O contexts: close them while those still exist.
  void close_pools();
};

// Throws ConfigError for settings that cannot be used (key files, CA files, URLs) and
// std::runtime_error when the store cannot be opened.
Deps make_deps(const Config& config);

// The app-JWT verifier of AUTH_JWT_SECRET / AUTH_JWT_PUBLIC_KEY_FILE / AUTH_JWKS_URL (`client`
// fetches the JWKS; `on_jwks_failure` counts its failed fetches). Throws ConfigError.
std::shared_ptr<AppJwtVerifier> make_verifier(
    const Config& config, std::shared_ptr<http::HttpsClient> client,
    std::function<void(const std::string&)> on_jwks_failure = {});

}  // namespace streamgate::server
