#include "server/app_events/app_event_handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "core/base64url.hpp"
#include "core/checked.hpp"
#include "core/time.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/app_events/dispatcher.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

std::string encode_event_cursor(std::int64_t seq) {
  return core::base64url_encode("e" + std::to_string(seq));
}

std::optional<std::int64_t> decode_event_cursor(std::string_view cursor) {
  if (cursor.size() > 64) return std::nullopt;
  const auto raw = core::base64url_decode(cursor);
  if (!raw || raw->size() < 2 || raw->front() != 'e') return std::nullopt;
  const auto seq = core::parse_int64(std::string_view(*raw).substr(1));
  if (!seq || *seq < 0) return std::nullopt;
  return seq;
}

namespace {

void require_admin(const http::Context& ctx, const std::string& role) {
  if (!ctx.principal->has_role(role))
    throw HttpError(403, "forbidden", "This endpoint is for admins");
}

json::value time_or_null(std::int64_t ns) {
  const auto t = core::checked_unix_nanos(ns);
  if (!t) return nullptr;
  return json::value(core::format_rfc3339(*t, 3));
}

// The meeting the event is about, as it was sent (the payload's data.meeting).
json::value meeting_of(const AppEventRecord& e) {
  boost::system::error_code ec;
  auto v = json::parse(e.payload, ec);
  if (!ec && v.is_object())
    if (const auto* data = v.get_object().if_contains("data"); data && data->is_object())
      if (const auto* m = data->get_object().if_contains("meeting")) return *m;
  return json::object{
      {"callType", e.call_type}, {"callId", e.call_id}, {"callCid", e.call_type + ":" + e.call_id}};
}

json::object to_json(const AppEventRecord& e) {
  return json::object{
      {"id", e.id},
      {"type", e.type},
      {"status", e.status},
      {"attempts", e.attempts},
      {"nextAttemptAt", e.status == "pending" ? time_or_null(e.next_attempt_at) : nullptr},
      {"lastError", e.last_error.empty() ? json::value(nullptr) : json::value(e.last_error)},
      {"endpoint", endpoint_for_logs(e.endpoint)},  // its path or query may hold a token
      {"createdAt", time_or_null(e.created_at)},
      {"meeting", meeting_of(e)}};
}

// Event ids are ours ("evt_" and hex), but anything of a sane size is looked up.
bool plausible_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

}  // namespace

http::Handler make_list_app_events_handler(std::shared_ptr<const AppEventAdminSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    require_admin(ctx, s->admin_role);
    const std::string status = req.query_param("status").value_or("");
    if (!status.empty() && status != "pending" && status != "failed" && status != "delivered")
      throw HttpError(400, "invalid_request", "status must be pending, failed or delivered");
    std::int64_t after = 0;
    if (const auto cursor = req.query_param("cursor"); cursor && !cursor->empty()) {
      const auto seq = decode_event_cursor(*cursor);
      if (!seq) throw HttpError(400, "invalid_request", "cursor is not one this API returned");
      after = *seq;
    }
    std::size_t limit = 50;
    if (const auto l = req.query_param("limit")) {
      const auto v = core::parse_int64(*l);
      if (!v || *v < 1 || *v > 100)
        throw HttpError(400, "invalid_request", "limit must be an integer from 1 to 100");
      limit = static_cast<std::size_t>(*v);
    }
    auto list = s->store->list_app_events(status, after, limit + 1);  // [gcc12-co_await]
    auto events = co_await std::move(list);
    json::value next = nullptr;
    if (events.size() > limit) {
      events.resize(limit);
      next = json::value(encode_event_cursor(events.back().seq));
    }
    json::array out;
    for (const auto& e : events) out.push_back(to_json(e));
    co_return http::json_success(
        200, json::object{{"events", std::move(out)}, {"nextCursor", next}}, "App events");
  };
}

http::Handler make_redeliver_app_event_handler(std::shared_ptr<const AppEventAdminSettings> s) {
  return [s](http::Request&, http::Context& ctx) -> http::Task<http::Response> {
    require_admin(ctx, s->admin_role);
    const std::string id(ctx.param("id"));
    if (!plausible_id(id)) throw HttpError(404, "not_found", "No app event with this id");
    auto redeliver = s->store->redeliver_app_events(
        id, core::to_unix_nanos(core::system_now()));  // [gcc12-co_await]
    const auto count = co_await std::move(redeliver);
    if (count == 0) throw HttpError(404, "not_found", "No app event with this id");
    if (s->wake) s->wake();
    http::log(spdlog::level::info, http::LogLine("app event redelivery")
                                       .add("audit", true)
                                       .add("user", ctx.principal->subject)
                                       .add("eventId", id)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(202, json::object{{"id", id}, {"redelivered", count}},
                                 "Queued for delivery");
  };
}

http::Handler make_redeliver_failed_handler(std::shared_ptr<const AppEventAdminSettings> s) {
  return [s](http::Request&, http::Context& ctx) -> http::Task<http::Response> {
    require_admin(ctx, s->admin_role);
    auto redeliver = s->store->redeliver_app_events(
        "", core::to_unix_nanos(core::system_now()));  // [gcc12-co_await]
    const auto count = co_await std::move(redeliver);
    if (count > 0 && s->wake) s->wake();
    http::log(spdlog::level::info, http::LogLine("app event redelivery of failed events")
                                       .add("audit", true)
                                       .add("user", ctx.principal->subject)
                                       .add("redelivered", count)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(202, json::object{{"redelivered", count}},
                                 "Failed events queued for delivery");
  };
}

}  // namespace streamgate::server
