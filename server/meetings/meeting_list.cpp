#include "server/meetings/meeting_list.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "core/base64url.hpp"
#include "core/checked.hpp"
#include "core/ids.hpp"
#include "core/meeting.hpp"
#include "http/json_response.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

std::string encode_meeting_cursor(const MeetingCursor& c) {
  return core::base64url_encode("m" + std::to_string(c.created_at) + ":" + c.call_type + ":" +
                                c.call_id);
}

std::optional<MeetingCursor> decode_meeting_cursor(std::string_view cursor) {
  if (cursor.size() > 256) return std::nullopt;
  const auto raw = core::base64url_decode(cursor);
  if (!raw || raw->empty() || raw->front() != 'm') return std::nullopt;
  const std::string_view text = std::string_view(*raw).substr(1);
  const auto a = text.find(':');
  const auto b = a == std::string_view::npos ? a : text.find(':', a + 1);
  if (b == std::string_view::npos) return std::nullopt;
  const auto created = core::parse_int64(text.substr(0, a));
  MeetingCursor c{0, std::string(text.substr(a + 1, b - a - 1)), std::string(text.substr(b + 1))};
  if (!created || !core::is_valid_call_id(c.call_type) || !core::is_valid_call_id(c.call_id))
    return std::nullopt;
  c.created_at = *created;
  return c;
}

http::Handler make_list_meetings_handler(std::shared_ptr<Store> store, std::string admin_role) {
  return [store, admin_role](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    MeetingListQuery q;
    q.user_id = ctx.principal->subject;
    q.status = req.query_param("status").value_or("");
    if (!q.status.empty() && q.status != "created" && q.status != "active" &&
        q.status != "processing")
      throw HttpError(400, "invalid_request", "status must be created, active or processing");
    if (const auto l = req.query_param("limit")) {
      const auto v = core::parse_int64(*l);
      if (!v || *v < 1 || *v > 100)
        throw HttpError(400, "invalid_request", "limit must be an integer from 1 to 100");
      q.limit = static_cast<std::size_t>(*v);
    }
    if (const auto all = req.query_param("all")) {
      if (*all != "true" && *all != "false")
        throw HttpError(400, "invalid_request", "all must be true or false");
      q.all = *all == "true";
      if (q.all && !ctx.principal->has_role(admin_role))
        throw HttpError(403, "forbidden", "all=true is for admins");
    }
    if (const auto cursor = req.query_param("cursor"); cursor && !cursor->empty()) {
      q.after = decode_meeting_cursor(*cursor);
      if (!q.after) throw HttpError(400, "invalid_request", "cursor is not one this API returned");
    }
    auto list = store->list_meetings(std::move(q));  // [gcc12-co_await]
    const auto page = co_await std::move(list);
    json::array meetings;
    for (const auto& m : page.meetings) meetings.push_back(core::to_api_json(m));
    co_return http::json_success(
        200,
        json::object{{"meetings", std::move(meetings)},
                     {"nextCursor", page.next ? json::value(encode_meeting_cursor(*page.next))
                                              : json::value(nullptr)}},
        "Meetings");
  };
}

}  // namespace streamgate::server
