#include "server/meetings/meeting_handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include "core/ids.hpp"
#include "core/meeting.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/meetings/events.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role) {
  return [store, admin_role](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const std::string call_id(ctx.param("callId"));
    const std::string call_type = req.query_param("type").value_or("default");
    if (!core::is_valid_call_id(call_id))
      throw HttpError(400, "invalid_request", "callId must be 1-64 characters of [A-Za-z0-9_-]");
    if (!core::is_valid_call_id(call_type))
      throw HttpError(400, "invalid_request", "type must be 1-64 characters of [A-Za-z0-9_-]");
    auto find = store->get_meeting(call_type, call_id);  // [gcc12-co_await]
    const auto meeting = co_await std::move(find);
    const auto& caller = *ctx.principal;
    // Not there and not yours look the same: no probing for other people's calls.
    if (!meeting || !(caller.has_role(admin_role) || meeting->is_member(caller.subject)))
      throw HttpError(404, "not_found", "No meeting for this call");
    co_return http::json_success(200, core::to_api_json(*meeting), "Meeting retrieved");
  };
}

http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role) {
  return [store, admin_role](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    if (!ctx.principal->has_role(admin_role))
      throw HttpError(403, "forbidden", "This endpoint is for admins");
    ReplayRequest request = parse_replay_request(req.body);
    auto replay =
        store->replay_failed(std::move(request.webhook_ids), request.limit,  // [gcc12-co_await]
                             [](const InboxRecord& r) { return prepare_event(r.body); });
    const std::vector<ReplayItem> items = co_await std::move(replay);
    json::array results;
    std::int64_t applied = 0;
    for (const auto& i : items) {
      if (i.outcome == InboxOutcome::applied) ++applied;
      json::object r{{"webhookId", i.webhook_id}, {"status", to_string(i.outcome)}};
      if (!i.error.empty()) r["error"] = i.error;
      results.push_back(std::move(r));
    }
    const auto replayed = static_cast<std::int64_t>(items.size());
    http::log(spdlog::level::info, http::LogLine("webhook replay")
                                       .add("audit", true)
                                       .add("user", ctx.principal->subject)
                                       .add("replayed", replayed)
                                       .add("applied", applied)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(200,
                                 json::object{{"replayed", replayed},
                                              {"applied", applied},
                                              {"failed", replayed - applied},
                                              {"results", std::move(results)}},
                                 "Replay finished");
  };
}

}  // namespace streamgate::server
