#include "server/app/routes.hpp"

#include "http/middleware.hpp"
#include "server/app/domain_errors.hpp"
#include "server/app_events/app_event_handlers.hpp"
#include "server/calls/call_handlers.hpp"
#include "server/meetings/meeting_handlers.hpp"
#include "server/meetings/meeting_list.hpp"
#include "server/meetings/stream_signature.hpp"
#include "server/meetings/webhook_handler.hpp"
#include "server/ops/health.hpp"
#include "server/tokens/token_handler.hpp"
#include "server/transcripts/transcript_handlers.hpp"

namespace streamgate::server {
using http::Method;

namespace {

std::shared_ptr<const TokenSettings> token_settings(const Config& c, const Deps& d) {
  auto s = std::make_shared<TokenSettings>();
  s->api_key = c.stream_api_key;
  s->secret = d.stream_secret;
  s->default_ttl = c.token_ttl_seconds;
  s->min_ttl = c.token_ttl_min_seconds;
  s->max_ttl = c.token_ttl_max_seconds;
  s->iat_skew = c.token_iat_skew_seconds;
  s->call_token_policy = c.call_token_policy;
  s->admin_role = c.admin_role;
  s->is_member = [store = d.store](std::string cid, std::string user) -> http::Task<bool> {
    const auto colon = cid.find(':');
    auto find =
        store->get_meeting(cid.substr(0, colon), cid.substr(colon + 1));  // [gcc12-co_await]
    const auto meeting = co_await std::move(find);
    co_return meeting && meeting->is_member(user);
  };
  s->on_issued = [metrics = d.metrics](bool call_token) { metrics->token_issued(call_token); };
  return s;
}

std::shared_ptr<const CallSettings> call_settings(const Config& c, const Deps& d) {
  auto s = std::make_shared<CallSettings>();
  s->stream = d.stream;
  s->store = d.store;
  s->admin_role = c.admin_role;
  s->creator_role = c.call_creator_role;
  s->participant_role = c.call_participant_role;
  return s;
}

std::shared_ptr<const StreamSignatureSettings> signature_settings(const Config& c, const Deps& d) {
  auto s = std::make_shared<StreamSignatureSettings>();
  s->api_key = c.stream_api_key;
  s->secret = d.stream_secret;
  if (!c.stream_api_secret_previous.empty())
    s->previous_secret = std::make_shared<const core::HmacSha256Key>(c.stream_api_secret_previous);
  s->body_limit = static_cast<std::size_t>(c.webhook_body_limit_bytes);
  s->on_rejected = [metrics = d.metrics] { metrics->webhook("unknown", "rejected"); };
  return s;
}

std::shared_ptr<const WebhookSettings> webhook_settings(const Deps& d) {
  auto s = std::make_shared<WebhookSettings>();
  s->store = d.store;
  s->record = [metrics = d.metrics](std::string_view type, std::string_view outcome) {
    metrics->webhook(type, outcome);
  };
  return s;
}

// Every route that takes an app JWT: the per-IP limit first (it also bounds guessing), then
// authentication, then the per-user limit.
std::vector<http::Middleware> app_jwt_guards(const Deps& d) {
  std::vector<http::Middleware> guards;
  if (d.ip_limiter)
    guards.push_back(http::rate_limit(
        d.ip_limiter,
        [](const http::Request&, const http::Context& ctx) { return "ip:" + ctx.client_ip; }));
  guards.push_back(require_app_jwt(d.verifier));
  if (d.user_limiter)
    guards.push_back(
        http::rate_limit(d.user_limiter, [](const http::Request&, const http::Context& ctx) {
          return ctx.principal ? "user:" + ctx.principal->subject : std::string();
        }));
  return guards;
}

}  // namespace

http::Router make_routes(const Config& c, const Deps& d, RouteHooks hooks) {
  const auto calls = call_settings(c, d);
  const auto body = static_cast<std::size_t>(c.body_limit_bytes);
  const http::RouteOptions app{body, app_jwt_guards(d)};
  const http::RouteOptions stream_signed{static_cast<std::size_t>(c.webhook_body_limit_bytes),
                                         {verify_stream_signature(signature_settings(c, d))}};
  const http::RouteOptions open{1024, {}};

  http::Router r;
  r.add(Method::post, "/api/v1/stream/token", make_token_handler(token_settings(c, d)), app);
  r.add(Method::post, "/api/v1/calls", make_create_call_handler(calls), app);
  r.add(Method::get, "/api/v1/calls/{callId}", make_get_meeting_handler(d.store, c.admin_role),
        app);
  r.add(Method::post, "/api/v1/calls/{callId}/participants", make_add_participant_handler(calls),
        app);
  r.add(Method::post, "/api/v1/calls/{callId}/end", make_end_call_handler(calls), app);
  r.add(Method::post, "/api/v1/calls/{callId}/sync", make_sync_call_handler(calls), app);
  r.add(Method::post, "/api/v1/admin/webhooks/replay", make_replay_handler(d.store, c.admin_role),
        app);
  r.add(Method::get, "/api/v1/meetings", make_list_meetings_handler(d.store, c.admin_role), app);
  auto transcripts = std::make_shared<TranscriptRouteSettings>();
  transcripts->store = d.store;
  transcripts->admin_role = c.admin_role;
  transcripts->enabled = c.transcripts;
  r.add(Method::get, "/api/v1/meetings/search", make_search_meetings_handler(transcripts), app);
  r.add(Method::get, "/api/v1/calls/{callId}/transcript", make_get_transcript_handler(transcripts),
        app);
  auto events = std::make_shared<AppEventAdminSettings>();
  events->store = d.store;
  events->admin_role = c.admin_role;
  events->wake = [waker = d.app_waker] {
    if (waker) (*waker)();
  };
  r.add(Method::get, "/api/v1/admin/app-events", make_list_app_events_handler(events), app);
  r.add(Method::post, "/api/v1/admin/app-events/redeliver-failed",
        make_redeliver_failed_handler(events), app);
  r.add(Method::post, "/api/v1/admin/app-events/{id}/redeliver",
        make_redeliver_app_event_handler(events), app);
  r.add(Method::post, "/api/webhook/stream", make_webhook_handler(webhook_settings(d)),
        stream_signed);
  r.add(Method::get, "/healthz", make_healthz_handler(), open);
  r.add(Method::get, "/readyz", make_readyz_handler(d.store, hooks.not_ready, d.metrics), open);
  return r;
}

http::Router make_metrics_routes(const Deps& d, RouteHooks hooks) {
  http::Router r;
  r.add(Method::get, "/metrics", make_metrics_handler(d.metrics, hooks.open_connections),
        http::RouteOptions{1024, {}});
  return r;
}

std::vector<http::Middleware> global_middleware(const Config& c, const Deps& d) {
  http::CorsOptions cors;
  cors.allowed_origins = c.cors_allowed_origins;
  return {http::request_id(),          metrics_middleware(d.metrics), http::access_log(),
          http::cors(std::move(cors)), http::error_envelope(),        domain_errors()};
}

}  // namespace streamgate::server
