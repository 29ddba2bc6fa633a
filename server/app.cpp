#include "server/app.hpp"

#include <boost/json/object.hpp>

#include <atomic>
#include <thread>

#include "http/json_response.hpp"
#include "http/middleware.hpp"
#include "http/rate_limiter.hpp"
#include "http/server.hpp"
#include "server/auth.hpp"
#include "server/meeting_handlers.hpp"
#include "server/store.hpp"
#include "server/token_handler.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::Method;

struct App::Impl {
  Config config;
  std::shared_ptr<Store> store;
  std::shared_ptr<WebhookCounters> webhook_counters = std::make_shared<WebhookCounters>();
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
  return o;
}

}  // namespace

App::App(Config config) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  const Config& c = impl_->config;

  auto verifier = AppJwtVerifier::from_config(c);
  auto stream_secret = std::make_shared<const core::HmacSha256Key>(c.stream_api_secret);

  StoreOptions store_options;
  store_options.database_url = c.database_url;
  store_options.pool_size = static_cast<std::size_t>(c.database_pool_size);
  store_options.busy_timeout_ms = static_cast<int>(c.database_busy_timeout_ms);
  impl_->store = open_store(store_options);
  auto store = impl_->store;

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
  webhook->counters = impl_->webhook_counters;

  // Guards shared by every route that takes an app JWT: the per-IP limit first (it also
  // bounds guessing), then authentication, then the per-user limit.
  std::vector<http::Middleware> app_jwt_guards;
  if (c.rate_limit_ip_per_minute > 0) {
    auto limiter = std::make_shared<http::LocalRateLimiter>(c.rate_limit_ip_per_minute);
    app_jwt_guards.push_back(http::rate_limit(
        limiter, [](const http::Request&, const http::Context& ctx) { return "ip:" + ctx.client_ip; }));
  }
  app_jwt_guards.push_back(require_app_jwt(verifier));
  if (c.rate_limit_user_per_minute > 0) {
    auto limiter = std::make_shared<http::LocalRateLimiter>(c.rate_limit_user_per_minute);
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
  router.add(Method::get, "/api/v1/calls/{callId}", make_get_meeting_handler(store, c.admin_role), api(body_limit));
  router.add(Method::post, "/api/v1/admin/webhooks/replay", make_replay_handler(store, c.admin_role), api(body_limit));
  // Authenticated by Stream's signature, not by rate limits or app JWTs.
  router.add(Method::post, "/api/webhook/stream", make_webhook_handler(webhook),
             {static_cast<std::size_t>(c.webhook_body_limit_bytes), {}});
  router.add(Method::get, "/healthz", healthz, {1024, {}});
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
  std::vector<http::Middleware> global{http::request_id(), http::access_log(), http::cors(std::move(cors)),
                                       http::error_envelope()};
  impl_->server = std::make_unique<http::Server>(server_options(c), std::move(router), std::move(global));
}

App::~App() = default;

std::uint16_t App::listen() { return impl_->server->listen(); }
void App::start() { impl_->server->start(); }
void App::mark_not_ready() { impl_->not_ready.store(true); }
void App::drain() { drain(std::chrono::seconds(impl_->config.shutdown_grace_seconds)); }
void App::drain(std::chrono::milliseconds grace) { impl_->server->drain(grace); }
void App::wait() { impl_->server->wait(); }
bool App::draining() const { return impl_->server->draining(); }

}  // namespace streamgate::server
