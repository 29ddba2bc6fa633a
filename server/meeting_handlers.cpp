#include "server/meeting_handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <chrono>

#include "core/ids.hpp"
#include "core/meeting.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/gzip.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

bool is_lower_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool is_sane_webhook_id(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

bool signature_matches(const core::HmacSha256Key& key, std::string_view body, std::string_view signature) {
  return core::constant_time_equal(key.mac_hex(body), signature);
}

std::optional<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

PreparedApply prepare_from_object(const json::object& event) {
  PreparedApply p;
  auto [type, id] = core::event_call_key(event);
  if (core::is_valid_call_id(type) && core::is_valid_call_id(id)) {
    p.call_type = std::move(type);
    p.call_id = std::move(id);
  }
  try {
    core::CallEvent ev = core::parse_call_event(event);
    p.session_id = ev.session_id;
    p.apply = [ev = std::move(ev)](std::optional<core::Meeting> m) {
      return ApplyResult{core::apply_event(std::move(m), ev, core::system_now()), ""};
    };
  } catch (const std::exception& e) {
    p.apply = [msg = std::string(e.what())](std::optional<core::Meeting>) { return ApplyResult{std::nullopt, msg}; };
  }
  return p;
}

void require_admin(const http::Context& ctx, const std::string& admin_role) {
  if (!ctx.principal || !ctx.principal->has_role(admin_role))
    throw HttpError(403, "forbidden", "This endpoint is for admins");
}

}  // namespace

PreparedApply prepare_event(std::string_view body) {
  auto obj = parse_object(body);
  if (!obj) {
    PreparedApply p;
    p.apply = [](std::optional<core::Meeting>) { return ApplyResult{std::nullopt, "stored body is not a JSON object"}; };
    return p;
  }
  return prepare_from_object(*obj);
}

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    auto reject = [&](int status, const char* code, const char* message) {
      s->record("unknown", "rejected");
      return HttpError(status, code, message);
    };
    const std::string_view api_key = req.header("x-api-key");
    if (!api_key.empty() && api_key != s->api_key) throw reject(401, "invalid_api_key", "X-Api-Key is not this app's key");
    const std::string_view signature = req.header("x-signature");
    if (signature.empty()) throw reject(401, "invalid_signature", "Missing X-Signature");
    if (!is_lower_hex64(signature)) throw reject(401, "invalid_signature", "Webhook signature is invalid");

    // The signature covers the uncompressed bytes; detect gzip by its magic, as the SDKs do.
    std::string inflated;
    std::string_view body = req.body;
    if (looks_gzipped(body)) {
      switch (gunzip(body, s->body_limit, inflated)) {
        case GunzipError::too_large: throw reject(413, "payload_too_large", "Decompressed webhook body is too large");
        case GunzipError::corrupt: throw reject(400, "invalid_request", "Webhook body is not valid gzip");
        case GunzipError::none: break;
      }
      body = inflated;
    }
    const bool valid = signature_matches(*s->secret, body, signature) ||
                       (s->previous_secret && signature_matches(*s->previous_secret, body, signature));
    if (!valid) throw reject(401, "invalid_signature", "Webhook signature is invalid");

    auto event = parse_object(body);
    if (!event) throw reject(400, "invalid_request", "Webhook body is not a JSON object");
    const auto* type_value = event->if_contains("type");
    if (type_value == nullptr || !type_value->is_string() || type_value->get_string().empty())
      throw reject(400, "invalid_request", "Webhook event has no type");
    const std::string type(type_value->get_string());

    std::string webhook_id(req.header("x-webhook-id"));
    if (webhook_id.empty()) webhook_id = "sha256:" + core::to_hex(core::sha256(body));
    if (!is_sane_webhook_id(webhook_id)) throw reject(400, "invalid_request", "X-Webhook-Id is malformed");

    if (!core::is_meeting_event(type)) {
      s->record(type, "ignored");
      co_return http::json_success(200, json::object{{"webhookId", webhook_id}, {"type", type}, {"status", "ignored"}},
                                   "Event acknowledged");
    }

    PreparedApply prepared = prepare_from_object(*event);
    InboxEvent inbox{webhook_id, type, prepared.call_type, prepared.call_id, std::string(body),
                     core::to_unix_nanos(core::system_now()), prepared.session_id};
    std::optional<InboxOutcome> outcome;
    std::string store_error;
    try {
      outcome = co_await s->store->record_webhook(std::move(inbox), std::move(prepared.apply));
    } catch (const std::exception& e) {
      store_error = e.what();
    }
    if (!outcome) {
      // Not kept: Stream must retry, so never 200 here.
      s->record(type, "unavailable");
      http::log(spdlog::level::err, http::LogLine("webhook not stored")
                                        .add("webhookId", webhook_id)
                                        .add("type", type)
                                        .add("requestId", ctx.request_id)
                                        .add("error", store_error));
      throw HttpError(503, "store_unavailable", "The event could not be stored; retry later")
          .with_header("Retry-After", "1");
    }
    s->record(type, to_string(*outcome));
    if (*outcome == InboxOutcome::failed)
      http::log(spdlog::level::warn, http::LogLine("webhook kept for replay").add("webhookId", webhook_id).add("type", type));
    co_return http::json_success(
        200, json::object{{"webhookId", webhook_id}, {"type", type}, {"status", to_string(*outcome)}},
        *outcome == InboxOutcome::failed ? "Event stored; it could not be applied and is kept for replay"
                                         : "Event processed");
  };
}

http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role) {
  return [store, admin_role](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const std::string call_id(ctx.param("callId"));
    const std::string call_type = req.query_param("type").value_or("default");
    if (!core::is_valid_call_id(call_id))
      throw HttpError(400, "invalid_request", "callId must be 1-64 characters of [A-Za-z0-9_-]");
    if (!core::is_valid_call_id(call_type))
      throw HttpError(400, "invalid_request", "type must be 1-64 characters of [A-Za-z0-9_-]");
    std::optional<core::Meeting> meeting;
    bool unavailable = false;
    try {
      meeting = co_await store->get_meeting(call_type, call_id);
    } catch (const std::exception&) {
      unavailable = true;
    }
    if (unavailable) throw HttpError(503, "store_unavailable", "The meeting store is unavailable; retry later");
    const auto& caller = *ctx.principal;
    // Not there and not yours look the same: no probing for other people's calls.
    if (!meeting || !(caller.has_role(admin_role) || meeting->is_member(caller.subject)))
      throw HttpError(404, "not_found", "No meeting for this call");
    co_return http::json_success(200, core::to_api_json(*meeting), "Meeting retrieved");
  };
}

http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role) {
  return [store, admin_role](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    require_admin(ctx, admin_role);
    std::size_t limit = 100;
    std::vector<std::string> ids;
    if (req.body.find_first_not_of(" \t\r\n") != std::string::npos) {
      auto body = parse_object(req.body);
      if (!body) throw HttpError(400, "invalid_request", "Request body must be a JSON object");
      if (const auto* l = body->if_contains("limit"); l && !l->is_null()) {
        if (!l->is_int64() || l->get_int64() < 1 || l->get_int64() > 1000)
          throw HttpError(400, "invalid_request", "limit must be an integer from 1 to 1000");
        limit = static_cast<std::size_t>(l->get_int64());
      }
      if (const auto* w = body->if_contains("webhookIds"); w && !w->is_null()) {
        if (!w->is_array() || w->get_array().size() > 1000)
          throw HttpError(400, "invalid_request", "webhookIds must be an array of at most 1000 ids");
        for (const auto& id : w->get_array()) {
          if (!id.is_string() || !is_sane_webhook_id(id.get_string()))
            throw HttpError(400, "invalid_request", "webhookIds must hold webhook id strings");
          ids.emplace_back(id.get_string());
        }
      }
    }
    std::vector<ReplayItem> items;
    bool unavailable = false;
    try {
      items = co_await store->replay_failed(ids, limit, [](const InboxRecord& r) { return prepare_event(r.body); });
    } catch (const std::exception&) {
      unavailable = true;
    }
    if (unavailable) throw HttpError(503, "store_unavailable", "The store is unavailable; retry later");
    json::array results;
    std::int64_t applied = 0;
    for (const auto& i : items) {
      if (i.outcome == InboxOutcome::applied) ++applied;
      json::object r{{"webhookId", i.webhook_id}, {"status", to_string(i.outcome)}};
      if (!i.error.empty()) r["error"] = i.error;
      results.push_back(std::move(r));
    }
    http::log(spdlog::level::info, http::LogLine("webhook replay")
                                       .add("audit", true)
                                       .add("user", ctx.principal->subject)
                                       .add("replayed", static_cast<std::int64_t>(items.size()))
                                       .add("applied", applied)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(200,
                                 json::object{{"replayed", static_cast<std::int64_t>(items.size())},
                                              {"applied", applied},
                                              {"failed", static_cast<std::int64_t>(items.size()) - applied},
                                              {"results", std::move(results)}},
                                 "Replay finished");
  };
}

}  // namespace streamgate::server
