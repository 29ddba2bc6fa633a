#include "server/token_handler.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

#include "core/checked.hpp"
#include "core/ids.hpp"
#include "core/stream_token.hpp"
#include "core/time.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/auth.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

HttpError invalid(std::string message) { return HttpError(400, "invalid_request", std::move(message)); }

constexpr std::size_t kMaxCallCids = 32;

}  // namespace

TokenRequestBody parse_token_request(std::string_view body) {
  TokenRequestBody out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) throw invalid("Request body is not valid JSON");
  if (!v.is_object()) throw invalid("Request body must be a JSON object");
  const auto& o = v.get_object();
  if (const auto* vs = o.if_contains("validitySeconds"); vs && !vs->is_null()) {
    std::int64_t whole = 0;
    if (vs->is_int64()) {
      out.validity_seconds = vs->get_int64();
    } else if (vs->is_uint64()) {
      out.validity_seconds = INT64_MAX;  // clamped to the configured maximum below
    } else if (vs->is_double() && core::double_to_int64(vs->get_double(), whole)) {
      // Range-checked before the cast: 1e300 is refused, 120.0 is 120.
      out.validity_seconds = whole;
    } else {
      throw invalid("validitySeconds must be an integer number of seconds");
    }
  }
  if (const auto* cids = o.if_contains("callCids"); cids && !cids->is_null()) {
    if (!cids->is_array()) throw invalid("callCids must be an array of \"type:id\" strings");
    if (cids->get_array().size() > kMaxCallCids)
      throw invalid("callCids may hold at most " + std::to_string(kMaxCallCids) + " entries");
    for (const auto& c : cids->get_array()) {
      if (!c.is_string() || !core::parse_call_cid(c.get_string()))
        throw invalid("callCids entries must be \"type:id\" with 1-64 characters of [A-Za-z0-9_-] each");
      std::string cid(c.get_string());
      if (std::find(out.call_cids.begin(), out.call_cids.end(), cid) == out.call_cids.end())
        out.call_cids.push_back(std::move(cid));
    }
  }
  if (const auto* role = o.if_contains("role"); role && !role->is_null()) {
    if (!role->is_string() || !core::is_valid_call_id(role->get_string()))
      throw invalid("role must be a role name of 1-64 characters of [A-Za-z0-9_-]");
    out.role = std::string(role->get_string());
  }
  if (!out.role.empty() && out.call_cids.empty()) throw invalid("role is only allowed together with callCids");
  return out;
}

http::Handler make_token_handler(std::shared_ptr<const TokenSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const TokenRequestBody body = parse_token_request(req.body);
    const http::Principal& caller = *ctx.principal;
    const bool is_admin = caller.has_role(s->admin_role);

    if (!body.call_cids.empty()) {
      if (s->call_token_policy == "off")
        throw HttpError(403, "forbidden", "Call tokens are disabled on this server (CALL_TOKEN_POLICY=off)");
      if (!body.role.empty() && !is_admin)
        throw HttpError(403, "forbidden", "Only admins may ask for a call role");
      if (!is_admin) {
        for (const auto& cid : body.call_cids) {
          bool member = false;
          bool unavailable = false;
          try {
            member = s->is_member ? co_await s->is_member(cid, caller.subject) : false;
          } catch (const std::exception&) {
            unavailable = true;
          }
          if (unavailable) throw HttpError(503, "store_unavailable", "The meeting store is unavailable; retry later");
          if (!member) throw HttpError(403, "forbidden", "You are not the creator or a member of call " + cid);
        }
      }
    }

    core::StreamTokenRequest tr;
    tr.user_id = caller.subject;
    tr.now_seconds = unix_now();
    tr.validity_seconds = std::clamp(body.validity_seconds.value_or(s->default_ttl), s->min_ttl, s->max_ttl);
    tr.iat_skew_seconds = s->iat_skew;
    tr.call_cids = body.call_cids;
    tr.role = body.role;
    const core::StreamToken token = core::make_stream_token(tr, *s->secret);

    json::object data;
    data["token"] = token.token;
    data["userId"] = caller.subject;
    data["expiresAt"] = core::format_rfc3339(token.exp);
    data["apiKey"] = s->api_key;
    http::Response res = http::json_success(200, data, "Token generated successfully");
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");

    http::LogLine audit("token issued");
    audit.add("audit", true)
        .add("user", caller.subject)
        .add("validitySeconds", tr.validity_seconds)
        .add("requestId", ctx.request_id);
    if (!tr.call_cids.empty()) {
      json::array cids;
      for (const auto& c : tr.call_cids) cids.emplace_back(c);
      audit.add_raw("callCids", json::serialize(cids));
    }
    if (!tr.role.empty()) audit.add("role", tr.role);
    http::log(spdlog::level::info, audit);
    if (s->on_issued) s->on_issued(!tr.call_cids.empty());
    co_return res;
  };
}

}  // namespace streamgate::server
