#include "server/tokens/token_handler.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "core/time.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"
#include "server/auth/app_jwt.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

// One audit line per token: who, for how long, for which calls; never the token itself.
void audit_token(std::int64_t validity_seconds, const TokenRequestBody& body,
                 const http::Context& ctx) {
  http::LogLine audit("token issued");
  audit.add("audit", true)
      .add("user", ctx.principal->subject)
      .add("validitySeconds", validity_seconds)
      .add("requestId", ctx.request_id);
  if (!body.call_cids.empty()) {
    json::array cids;
    for (const auto& c : body.call_cids) cids.emplace_back(c);
    audit.add_raw("callCids", json::serialize(cids));
  }
  if (!body.role.empty()) audit.add("role", body.role);
  http::log(spdlog::level::info, audit);
}

// The token itself, once the call list (if any) has passed the policy.
core::StreamToken mint(const TokenSettings& s, const http::Principal& caller,
                       const TokenRequestBody& body, std::int64_t now_seconds) {
  core::StreamTokenRequest tr;
  tr.user_id = caller.subject;
  tr.now_seconds = now_seconds;
  tr.validity_seconds =
      std::clamp(body.validity_seconds.value_or(s.default_ttl), s.min_ttl, s.max_ttl);
  tr.iat_skew_seconds = s.iat_skew;
  tr.call_cids = body.call_cids;
  tr.role = body.role;
  return core::make_stream_token(tr, *s.secret);
}

}  // namespace

http::Task<core::StreamToken> issue_token(const TokenSettings& s, const http::Principal& caller,
                                          const TokenRequestBody& body, std::int64_t now_seconds) {
  const bool is_admin = caller.has_role(s.admin_role);
  if (!body.call_cids.empty()) {
    if (s.call_token_policy == "off")
      throw HttpError(403, "forbidden",
                      "Call tokens are disabled on this server (CALL_TOKEN_POLICY=off)");
    if (!body.role.empty() && !is_admin)
      throw HttpError(403, "forbidden", "Only admins may ask for a call role");
    if (!is_admin) {
      for (const auto& cid : body.call_cids) {
        bool member = false;
        if (s.is_member) {
          auto check = s.is_member(cid, caller.subject);  // [gcc12-co_await]
          member = co_await std::move(check);
        }
        if (!member)
          throw HttpError(403, "forbidden", "You are not the creator or a member of call " + cid);
      }
    }
  }
  co_return mint(s, caller, body, now_seconds);
}

http::Handler make_token_handler(std::shared_ptr<const TokenSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const TokenRequestBody body = parse_token_request(req.body);
    const std::int64_t now = unix_now();
    core::StreamToken token;
    if (body.call_cids.empty()) {
      // A user token has no call policy to check (nothing to wait for): issue_token would
      // only mint it, one coroutine deeper.
      token = mint(*s, *ctx.principal, body, now);
    } else {
      auto issue = issue_token(*s, *ctx.principal, body, now);  // [gcc12-co_await]
      token = co_await std::move(issue);
    }
    const std::string expires_at = core::format_rfc3339(token.exp);
    http::Response res = http::json_success_strings(200,
                                                    {{"token", token.token},
                                                     {"userId", ctx.principal->subject},
                                                     {"expiresAt", expires_at},
                                                     {"apiKey", s->api_key}},
                                                    "Token generated successfully");
    res.set_header("Cache-Control", "no-store");
    res.set_header("Pragma", "no-cache");
    audit_token(token.exp - now, body, ctx);
    if (s->on_issued) s->on_issued(!body.call_cids.empty());
    co_return res;
  };
}

}  // namespace streamgate::server
