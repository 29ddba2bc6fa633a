#include "server/app.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>

#include <atomic>
#include <thread>

#include "http/json_response.hpp"
#include "http/middleware.hpp"
#include "http/rate_limiter.hpp"
#include "http/server.hpp"
#include "http/https_client.hpp"
#include "http/log.hpp"
#include "server/auth.hpp"
#include "server/call_handlers.hpp"
#include "server/meeting_handlers.hpp"
#include "server/metrics.hpp"
#include "server/redis_limiter.hpp"
#include "server/store.hpp"
#include "server/token_handler.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::Method;

struct App::Impl {
  Config config;
  std::shared_ptr<Store> store;
  std::shared_ptr<http::HttpsClient> https;
  std::shared_ptr<http::HttpsClient> jwks_https;
  std::shared_ptr<AppJwtVerifier> verifier;
  std::shared_ptr<StreamClient> stream;
  // Background work (the reconciler) runs on its own thread, off the request threads.
  boost::asio::io_context background{1};
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> background_work{background.get_executor()};
  std::thread background_thread;
  std::atomic<bool> stopping{false};
  std::shared_ptr<Metrics> metrics = std::make_shared<Metrics>(STREAMGATE_VERSION);
  std::vector<std::shared_ptr<RedisLimiter>> redis_limiters;

  void close_pools() {
    https->close_idle();
    if (jwks_https) jwks_https->close_idle();
    for (auto& l : redis_limiters) l->close_idle();
  }
  std::unique_ptr<http::Server> server;
  std::atomic<bool> not_ready{false};
};

namespace {

http::Task<http::Response> healthz(http::Request&, http::Context&) {
  co_return http::json_success(200, json::object{{"status", "ok"}}, "alive");
}

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

App::App(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  const Config& c = impl_->config;

  if (!c.auth_jwks_url.empty()) {
    http::ClientOptions jwks_options;
    jwks_options.ca_file = c.auth_jwks_ca_file;
    jwks_options.max_response_bytes = 1024 * 1024;
    try {
      impl_->jwks_https = std::make_shared<http::HttpsClient>(jwks_options);
    } catch (const std::exception& e) {
      throw ConfigError(std::string("AUTH_JWKS_CA_FILE: ") + e.what());
    }
  }
  auto verifier = AppJwtVerifier::from_config(c, impl_->jwks_https);
  impl_->verifier = verifier;
  auto stream_secret = std::make_shared<const core::HmacSha256Key>(c.stream_api_secret);

  StoreOptions store_options;
  store_options.database_url = c.database_url;
  store_options.pool_size = static_cast<std::size_t>(c.database_pool_size);
  store_options.busy_timeout_ms = static_cast<int>(c.database_busy_timeout_ms);
  impl_->store = instrument(open_store(store_options), impl_->metrics);
  auto metrics = impl_->metrics;
  auto store = impl_->store;

  http::ClientOptions client_options;
  client_options.ca_file = c.stream_ca_file;
  try {
    impl_->https = std::make_shared<http::HttpsClient>(client_options);
  } catch (const std::exception& e) {
    throw ConfigError(std::string("STREAM_CA_FILE: ") + e.what());
  }
  StreamClientOptions stream_options;
  stream_options.base_url = c.stream_base_url;
  stream_options.api_key = c.stream_api_key;
  stream_options.secret = stream_secret;
  stream_options.client_version = STREAMGATE_VERSION;
  stream_options.attempt_timeout = std::chrono::milliseconds(c.stream_timeout_ms);
  stream_options.max_attempts = static_cast<int>(c.stream_max_attempts);
  stream_options.budget = std::chrono::milliseconds(c.stream_retry_budget_ms);
  stream_options.observe = [metrics](std::string_view op, int status, bool retry) {
    metrics->stream_call(op, status, retry);
  };
  impl_->stream = std::make_shared<StreamClient>(stream_options, impl_->https);
  auto calls = std::make_shared<CallSettings>();
  calls->stream = impl_->stream;
  calls->store = store;
  calls->admin_role = c.admin_role;
  calls->creator_role = c.call_creator_role;
  calls->participant_role = c.call_participant_role;

  auto token_settings = std::make_shared<TokenSettings>();
  token_settings->api_key = c.stream_api_key;
  token_settings->secret = stream_secret;
  token_settings->default_ttl = c.token_ttl_seconds;
  token_settings->min_ttl = c.token_ttl_min_seconds;
  token_settings->max_ttl = c.token_ttl_max_seconds;
  token_settings->iat_skew = c.token_iat_skew_seconds;
  token_settings->call_token_policy = c.call_token_policy;
  token_settings->admin_role = c.admin_role;
  token_settings->is_member = [store](std::string cid, std::string user) -> http::Task<bool> {
    const auto colon = cid.find(':');
    const auto meeting = co_await store->get_meeting(cid.substr(0, colon), cid.substr(colon + 1));
    co_return meeting && meeting->is_member(user);
  };

  auto webhook = std::make_shared<WebhookSettings>();
  webhook->api_key = c.stream_api_key;
  webhook->secret = stream_secret;
  if (!c.stream_api_secret_previous.empty())
    webhook->previous_secret = std::make_shared<const core::HmacSha256Key>(c.stream_api_secret_previous);
  webhook->body_limit = static_cast<std::size_t>(c.webhook_body_limit_bytes);
  webhook->store = store;
  webhook->record = [metrics](std::string_view type, std::string_view outcome) { metrics->webhook(type, outcome); };
  token_settings->on_issued = [metrics](bool call_token) { metrics->token_issued(call_token); };

  // Guards shared by every route that takes an app JWT: the per-IP limit first (it also
  // bounds guessing), then authentication, then the per-user limit.
  std::vector<http::Middleware> app_jwt_guards;
  // In process by default; in Redis, shared by every replica, with REDIS_URL.
  const auto make_limiter = [&](const char* name, std::int64_t per_minute) -> std::shared_ptr<http::Limiter> {
    if (c.redis_url.empty()) return std::make_shared<http::LocalRateLimiter>(per_minute);
    RedisOptions ro;
    ro.url = c.redis_url;
    ro.timeout = std::chrono::milliseconds(c.redis_timeout_ms);
    ro.fail_open = c.rate_limit_fail_open;
    std::shared_ptr<RedisLimiter> limiter;
    try {
      limiter = std::make_shared<RedisLimiter>(ro, name, per_minute);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(e.what());
    }
    impl_->redis_limiters.push_back(limiter);
    return limiter;
  };
  if (c.rate_limit_ip_per_minute > 0) {
    auto limiter = make_limiter("ip", c.rate_limit_ip_per_minute);
    app_jwt_guards.push_back(http::rate_limit(
        limiter, [](const http::Request&, const http::Context& ctx) { return "ip:" + ctx.client_ip; }));
  }
  app_jwt_guards.push_back(require_app_jwt(verifier));
  if (c.rate_limit_user_per_minute > 0) {
    auto limiter = make_limiter("user", c.rate_limit_user_per_minute);
    app_jwt_guards.push_back(http::rate_limit(limiter, [](const http::Request&, const http::Context& ctx) {
      return ctx.principal ? "user:" + ctx.principal->subject : std::string();
    }));
  }
  const auto api = [&](std::size_t body_limit) {
    return http::RouteOptions{body_limit, app_jwt_guards};
  };
  const auto body_limit = static_cast<std::size_t>(c.body_limit_bytes);

  // The whole route table.
  http::Router router;
  router.add(Method::post, "/api/v1/stream/token", make_token_handler(token_settings), api(body_limit));
  router.add(Method::post, "/api/v1/calls", make_create_call_handler(calls), api(body_limit));
  router.add(Method::get, "/api/v1/calls/{callId}", make_get_meeting_handler(store, c.admin_role), api(body_limit));
  router.add(Method::post, "/api/v1/calls/{callId}/participants", make_add_participant_handler(calls), api(body_limit));
  router.add(Method::post, "/api/v1/calls/{callId}/end", make_end_call_handler(calls), api(body_limit));
  router.add(Method::post, "/api/v1/calls/{callId}/sync", make_sync_call_handler(calls), api(body_limit));
  router.add(Method::post, "/api/v1/admin/webhooks/replay", make_replay_handler(store, c.admin_role), api(body_limit));
  // Authenticated by Stream's signature, not by rate limits or app JWTs.
  router.add(Method::post, "/api/webhook/stream", make_webhook_handler(webhook),
             {static_cast<std::size_t>(c.webhook_body_limit_bytes), {}});
  router.add(Method::get, "/healthz", healthz, {1024, {}});
  router.add(
      Method::get, "/metrics",
      [impl = impl_.get()](http::Request&, http::Context&) -> http::Task<http::Response> {
        http::Response res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = impl->metrics->render(impl->server ? static_cast<double>(impl->server->active_connections()) : 0.0);
        co_return res;
      },
      {1024, {}});
  router.add(
      Method::get, "/readyz",
      [impl = impl_.get()](http::Request&, http::Context&) -> http::Task<http::Response> {
        if (impl->not_ready.load() || (impl->server && impl->server->draining()))
          throw http::HttpError(503, "draining", "Server is shutting down");
        if (!co_await impl->store->ping())
          throw http::HttpError(503, "store_unavailable", "The store is not reachable");
        co_return http::json_success(200, json::object{{"status", "ready"}, {"store", impl->store->backend()}}, "ready");
      },
      {1024, {}});

  http::CorsOptions cors;
  cors.allowed_origins = c.cors_allowed_origins;
  std::vector<http::Middleware> global{http::request_id(), metrics_middleware(metrics), http::access_log(),
                                       http::cors(std::move(cors)), http::error_envelope()};
  try {
    impl_->server = std::make_unique<http::Server>(server_options(c), std::move(router), std::move(global));
  } catch (const std::runtime_error& e) {
    throw ConfigError(std::string("TLS_CERT_FILE/TLS_KEY_FILE: ") + e.what());
  }
}

namespace {

std::int64_t unix_ns() { return core::to_unix_nanos(core::system_now()); }

// Every interval: claim meetings whose state looks stale and pull them from Stream (SPEC §1.6).
http::Task<void> reconcile_loop(const Config* c, std::shared_ptr<StreamClient> stream, std::shared_ptr<Store> store,
                                std::atomic<bool>* stopping) {
  namespace asio = boost::asio;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  constexpr std::int64_t kSecond = 1'000'000'000;
  while (!stopping->load()) {
    timer.expires_after(std::chrono::seconds(c->reconcile_interval_seconds));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping->load()) break;
    const std::int64_t now = unix_ns();
    Store::StaleQuery q;
    q.now = now;
    q.active_before = now - c->reconcile_active_after_seconds * kSecond;
    q.processing_before = now - c->reconcile_processing_after_seconds * kSecond;
    q.processing_since = now - c->reconcile_max_age_seconds * kSecond;
    q.retry_before = now - c->reconcile_retry_seconds * kSecond;
    std::vector<std::pair<std::string, std::string>> due;
    std::string error;
    try {
      auto claim = store->claim_stale_meetings(q);
      due = co_await std::move(claim);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty()) http::log(spdlog::level::warn, http::LogLine("reconcile: store unavailable").add("error", error));
    for (const auto& [type, id] : due) {
      std::string failure;
      try {
        auto pull = reconcile_call(stream, store, type, id);
        co_await std::move(pull);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      auto line = http::LogLine(failure.empty() ? "reconciled" : "reconcile failed");
      line.add("callCid", type + ":" + id);
      if (!failure.empty()) line.add("error", failure);
      http::log(failure.empty() ? spdlog::level::info : spdlog::level::warn, line);
    }
  }
}

http::Task<void> jwks_loop(std::shared_ptr<JwksSource> jwks, std::chrono::seconds every, std::atomic<bool>* stopping) {
  namespace asio = boost::asio;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping->load()) {
    timer.expires_after(every);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (stopping->load()) break;
    auto refresh = jwks->refresh(true);
    co_await std::move(refresh);
  }
}

}  // namespace

App::~App() {
  impl_->stopping.store(true);
  impl_->background.stop();
  if (impl_->background_thread.joinable()) impl_->background_thread.join();
  impl_->server->drain(std::chrono::milliseconds(0));
  impl_->server->wait();
  // Pooled sockets belong to the I/O contexts: close them while those still exist.
  impl_->close_pools();
  impl_->server.reset();
}

std::uint16_t App::listen() { return impl_->server->listen(); }
void App::start() {
  if (const auto& jwks = impl_->verifier->jwks()) {
    // The first key set before serving, so the first requests need not wait for it; a failure
    // is logged and the keys are fetched again on demand.
    boost::asio::io_context once;
    boost::asio::co_spawn(once, jwks->refresh(true), [](std::exception_ptr, bool) {});
    once.run_for(std::chrono::seconds(10));
    boost::asio::co_spawn(impl_->background,
                          jwks_loop(jwks, std::chrono::seconds(impl_->config.auth_jwks_refresh_seconds), &impl_->stopping),
                          [](std::exception_ptr) {});
    if (impl_->jwks_https) impl_->jwks_https->close_idle();  // its sockets were on `once`
  }
  impl_->server->start();
  if (impl_->config.reconcile_interval_seconds > 0)
    boost::asio::co_spawn(impl_->background,
                          reconcile_loop(&impl_->config, impl_->stream, impl_->store, &impl_->stopping),
                          [](std::exception_ptr) {});
  impl_->background_thread = std::thread([this] { impl_->background.run(); });
}
void App::reload_tls() { impl_->server->reload_tls(); }
void App::mark_not_ready() { impl_->not_ready.store(true); }
void App::drain() { drain(std::chrono::seconds(impl_->config.shutdown_grace_seconds)); }
void App::drain(std::chrono::milliseconds grace) { impl_->server->drain(grace); }
void App::wait() {
  impl_->server->wait();
  impl_->stopping.store(true);
  impl_->background.stop();
  if (impl_->background_thread.joinable()) impl_->background_thread.join();
  impl_->close_pools();
}
bool App::draining() const { return impl_->server->draining(); }

}  // namespace streamgate::server
