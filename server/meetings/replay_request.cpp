#include "server/meetings/replay_request.hpp"

#include <boost/json/parse.hpp>

#include "http/types.hpp"
#include "server/meetings/events.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

ReplayRequest parse_replay_request(std::string_view text) {
  ReplayRequest r;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return r;
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object())
    throw HttpError(400, "invalid_request", "Request body must be a JSON object");
  const auto& body = v.get_object();
  if (const auto* l = body.if_contains("limit"); l && !l->is_null()) {
    if (!l->is_int64() || l->get_int64() < 1 || l->get_int64() > 1000)
      throw HttpError(400, "invalid_request", "limit must be an integer from 1 to 1000");
    r.limit = static_cast<std::size_t>(l->get_int64());
  }
  if (const auto* w = body.if_contains("webhookIds"); w && !w->is_null()) {
    if (!w->is_array() || w->get_array().size() > 1000)
      throw HttpError(400, "invalid_request", "webhookIds must be an array of at most 1000 ids");
    for (const auto& id : w->get_array()) {
      if (!id.is_string() || !is_sane_webhook_id(id.get_string()))
        throw HttpError(400, "invalid_request", "webhookIds must hold webhook id strings");
      r.webhook_ids.emplace_back(id.get_string());
    }
  }
  return r;
}

}  // namespace streamgate::server
