#include "server/app/deps.hpp"

#include <fstream>
#include <sstream>

#include "server/ops/instrumented_store.hpp"

namespace streamgate::server {

namespace {

std::shared_ptr<http::HttpsClient> https_client(const std::string& ca_file,
                                                std::size_t max_response_bytes, const char* setting,
                                                std::size_t max_idle = 8) {
  http::ClientOptions options;
  options.max_idle_per_host = max_idle;
  options.ca_file = ca_file;
  if (max_response_bytes > 0) options.max_response_bytes = max_response_bytes;
  try {
    return std::make_shared<http::HttpsClient>(options);
  } catch (const std::exception& e) {
    throw ConfigError(std::string(setting) + ": " + e.what());
  }
}

// In process by default; in Redis, shared by every replica, with REDIS_URL. Null when off.
std::shared_ptr<http::Limiter> make_limiter(Deps& d, const Config& c, const char* name,
                                            std::int64_t per_minute) {
  if (per_minute <= 0) return nullptr;
  if (c.redis_url.empty()) return std::make_shared<http::LocalRateLimiter>(per_minute);
  RedisOptions ro;
  ro.url = c.redis_url;
  ro.ca_file = c.redis_ca_file;
  ro.timeout = std::chrono::milliseconds(c.redis_timeout_ms);
  ro.fail_open = c.rate_limit_fail_open;
  ro.on_unavailable = [metrics = d.metrics](bool let_through) {
    metrics->rate_limiter_unavailable(let_through);
  };
  std::shared_ptr<RedisLimiter> limiter;
  try {
    limiter = std::make_shared<RedisLimiter>(ro, name, per_minute);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(e.what());
  }
  d.redis_limiters.push_back(limiter);
  return limiter;
}

}  // namespace

std::shared_ptr<AppJwtVerifier> make_verifier(
    const Config& c, std::shared_ptr<http::HttpsClient> client,
    std::function<void(const std::string&)> on_jwks_failure) {
  core::JwtKeys keys;
  if (!c.auth_jwt_secret.empty())
    keys.hs256 = std::make_shared<const core::HmacSha256Key>(c.auth_jwt_secret);
  if (!c.auth_jwt_public_key_file.empty()) {
    std::ifstream in(c.auth_jwt_public_key_file);
    if (!in)
      throw ConfigError("AUTH_JWT_PUBLIC_KEY_FILE cannot be read: " + c.auth_jwt_public_key_file);
    std::stringstream pem;
    pem << in.rdbuf();
    try {
      keys.public_keys.push_back(core::PublicKey::from_pem(pem.str()));
    } catch (const std::exception& e) {
      throw ConfigError("AUTH_JWT_PUBLIC_KEY_FILE is not a usable public key: " +
                        std::string(e.what()));
    }
  }
  core::JwtRules rules;
  rules.issuer = c.auth_jwt_issuer;
  rules.audience = c.auth_jwt_audience;
  rules.leeway_seconds = c.auth_leeway_seconds;
  rules.require_exp = c.auth_require_exp;
  std::shared_ptr<JwksSource> jwks;
  if (!c.auth_jwks_url.empty()) {
    if (!client) throw ConfigError("AUTH_JWKS_URL needs an HTTPS client");
    jwks = std::make_shared<JwksSource>(c.auth_jwks_url, std::move(client),
                                        std::chrono::seconds(c.auth_jwks_cooldown_seconds),
                                        std::move(on_jwks_failure));
  }
  return std::make_shared<AppJwtVerifier>(std::move(keys), std::move(rules), c.auth_user_id_claim,
                                          c.auth_roles_claim, std::move(jwks));
}

Deps make_deps(const Config& c) {
  Deps d;
  d.metrics = std::make_shared<Metrics>(STREAMGATE_VERSION);
  if (!c.auth_jwks_url.empty())
    d.jwks_https = https_client(c.auth_jwks_ca_file, 1024 * 1024, "AUTH_JWKS_CA_FILE");
  d.verifier = make_verifier(
      c, d.jwks_https, [metrics = d.metrics](const std::string&) { metrics->jwks_failure(); });
  d.stream_secret = std::make_shared<const core::HmacSha256Key>(c.stream_api_secret);

  StoreOptions store_options;
  store_options.database_url = c.database_url;
  store_options.pool_size = static_cast<std::size_t>(c.database_pool_size);
  store_options.busy_timeout_ms = static_cast<int>(c.database_busy_timeout_ms);
  store_options.queue_limit = static_cast<std::size_t>(c.database_queue_limit);
  d.app_waker = std::make_shared<AppEventWaker>();
  if (!c.app_webhook_urls.empty()) {
    // A pooled connection for every delivery that may be in flight: no new handshake per event.
    d.app_https = https_client(c.app_webhook_ca_file, 1024 * 1024, "APP_WEBHOOK_CA_FILE",
                               static_cast<std::size_t>(c.app_webhook_concurrency));
    store_options.app_events.endpoints = c.app_webhook_urls;
    store_options.app_events.types = c.app_webhook_events;
    store_options.app_events.on_written = [waker = d.app_waker] { (*waker)(); };
  }
  store_options.transcripts = c.transcripts;
  if (c.transcripts)
    d.transcript_https = https_client(c.transcript_ca_file, 0, "TRANSCRIPT_CA_FILE", 0);
  d.store = instrument(open_store(store_options), d.metrics);

  d.stream_https = https_client(c.stream_ca_file, 0, "STREAM_CA_FILE");
  StreamClientOptions stream_options;
  stream_options.base_url = c.stream_base_url;
  stream_options.api_key = c.stream_api_key;
  stream_options.secret = d.stream_secret;
  stream_options.client_version = STREAMGATE_VERSION;
  stream_options.attempt_timeout = std::chrono::milliseconds(c.stream_timeout_ms);
  stream_options.max_attempts = static_cast<int>(c.stream_max_attempts);
  stream_options.budget = std::chrono::milliseconds(c.stream_retry_budget_ms);
  stream_options.server_token_ttl = std::chrono::seconds(c.stream_server_token_ttl_seconds);
  stream_options.server_token_skew = std::chrono::seconds(c.token_iat_skew_seconds);
  stream_options.observe = [metrics = d.metrics](std::string_view op, int status, bool retry,
                                                 double seconds) {
    metrics->stream_call(op, status, retry, seconds);
  };
  d.stream = std::make_shared<StreamClient>(stream_options, d.stream_https);

  d.ip_limiter = make_limiter(d, c, "ip", c.rate_limit_ip_per_minute);
  d.user_limiter = make_limiter(d, c, "user", c.rate_limit_user_per_minute);
  return d;
}

void Deps::close_pools() {
  if (stream_https) stream_https->close_idle();
  if (jwks_https) jwks_https->close_idle();
  if (app_https) app_https->close_idle();
  if (transcript_https) transcript_https->close_idle();
  for (auto& l : redis_limiters) l->close_idle();
}

}  // namespace streamgate::server
