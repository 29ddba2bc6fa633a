#include "server/calls/call_request.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

#include "core/crypto.hpp"
#include "core/ids.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

HttpError invalid(std::string m) { return HttpError(400, "invalid_request", std::move(m)); }

json::object body_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) throw invalid("Request body must be a JSON object");
  return std::move(v.get_object());
}

std::string opt_string(const json::object& o, std::string_view key, const char* what) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw invalid(std::string(what) + " must be a string");
  return std::string(v->get_string());
}

}  // namespace

CallRef parse_call_ref(std::string_view type, std::string_view id) {
  CallRef r{std::string(type.empty() ? "default" : type), std::string(id)};
  if (!core::is_valid_call_id(r.id))
    throw invalid("callId must be 1-64 characters of [A-Za-z0-9_-]");
  if (!core::is_valid_call_id(r.type))
    throw invalid("type must be 1-64 characters of [A-Za-z0-9_-]");
  return r;
}

CreateCallRequest parse_create_call(std::string_view text, const std::string& caller,
                                    const std::string& creator_role) {
  const json::object body = body_object(text);
  CreateCallRequest r;
  r.type = opt_string(body, "callType", "callType");
  if (r.type.empty()) r.type = "default";
  r.id = opt_string(body, "callId", "callId");
  if (r.id.empty()) r.id = core::random_uuid_v4();
  if (!core::is_valid_call_id(r.type))
    throw invalid("callType must be 1-64 characters of [A-Za-z0-9_-]");
  if (!core::is_valid_call_id(r.id))
    throw invalid("callId must be 1-64 characters of [A-Za-z0-9_-]");
  r.members.push_back(core::Member{caller, creator_role});
  if (const auto* list = body.if_contains("members"); list && !list->is_null()) {
    if (!list->is_array() || list->get_array().size() > 99)
      throw invalid("members must be an array of at most 99 entries");
    for (const auto& v : list->get_array()) {
      if (!v.is_object()) throw invalid("members entries must be objects {userId, role?}");
      core::Member m{opt_string(v.get_object(), "userId", "members[].userId"),
                     opt_string(v.get_object(), "role", "members[].role")};
      if (!core::is_valid_user_id(m.user_id))
        throw invalid("members[].userId must be 1-64 characters of [A-Za-z0-9_-@.]");
      if (!m.role.empty() && !core::is_valid_call_id(m.role))
        throw invalid("members[].role is not a valid role name");
      if (m.user_id == caller) continue;  // the creator keeps the creator role
      if (std::none_of(r.members.begin(), r.members.end(),
                       [&](const core::Member& x) { return x.user_id == m.user_id; }))
        r.members.push_back(std::move(m));
    }
  }
  if (const auto* c = body.if_contains("custom"); c && !c->is_null()) {
    if (!c->is_object()) throw invalid("custom must be an object");
    r.custom = c->get_object();
  }
  return r;
}

core::Member parse_participant(std::string_view text, const std::string& default_role) {
  const json::object body = body_object(text);
  core::Member member{opt_string(body, "userId", "userId"), opt_string(body, "role", "role")};
  if (!core::is_valid_user_id(member.user_id))
    throw invalid("userId must be 1-64 characters of [A-Za-z0-9_-@.]");
  if (member.role.empty()) member.role = default_role;
  if (!core::is_valid_call_id(member.role)) throw invalid("role is not a valid role name");
  return member;
}

}  // namespace streamgate::server
