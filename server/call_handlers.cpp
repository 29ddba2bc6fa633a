#include "server/call_handlers.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <chrono>

#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "http/json_response.hpp"
#include "http/log.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

HttpError invalid(std::string m) { return HttpError(400, "invalid_request", std::move(m)); }

// Awaits `op`, turning Stream and store failures into our errors (no co_await inside catch).
template <typename T>
http::Task<T> guarded(http::Task<T> op) {
  std::optional<HttpError> failure;
  try {
    co_return co_await std::move(op);
  } catch (const StreamError& e) {
    failure = to_http_error(e);
  } catch (const StoreUnavailable&) {
    failure.emplace(503, "store_unavailable", "The meeting store is unavailable; retry later");
  }
  throw *failure;
}

http::Task<bool> guarded_void(http::Task<void> op) {
  std::optional<HttpError> failure;
  try {
    co_await std::move(op);
    co_return true;
  } catch (const StreamError& e) {
    failure = to_http_error(e);
  } catch (const StoreUnavailable&) {
    failure.emplace(503, "store_unavailable", "The meeting store is unavailable; retry later");
  }
  throw *failure;
}

std::optional<json::object> body_object(const std::string& body) {
  if (body.find_first_not_of(" \t\r\n") == std::string::npos) return json::object{};
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

std::string opt_string(const json::object& o, std::string_view key, const char* what) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw invalid(std::string(what) + " must be a string");
  return std::string(v->get_string());
}

struct CallRef {
  std::string type;
  std::string id;
};

CallRef call_ref(const http::Request& req, const http::Context& ctx) {
  CallRef r{req.query_param("type").value_or("default"), std::string(ctx.param("callId"))};
  if (!core::is_valid_call_id(r.id)) throw invalid("callId must be 1-64 characters of [A-Za-z0-9_-]");
  if (!core::is_valid_call_id(r.type)) throw invalid("type must be 1-64 characters of [A-Za-z0-9_-]");
  return r;
}

// The meeting the caller may manage (creator or admin); 404 when it is not theirs to see.
http::Task<core::Meeting> manageable(const CallSettings& s, const CallRef& ref, const http::Principal& caller) {
  auto op = guarded(s.store->get_meeting(ref.type, ref.id));
  auto m = co_await std::move(op);
  const bool admin = caller.has_role(s.admin_role);
  if (!m || !(admin || m->is_member(caller.subject))) throw HttpError(404, "not_found", "No meeting for this call");
  if (!admin && m->created_by != caller.subject)
    throw HttpError(403, "forbidden", "Only the call's creator or an admin may do this");
  co_return std::move(*m);
}

json::array stream_members(const std::vector<core::Member>& members) {
  json::array out;
  for (const auto& m : members) {
    json::object o{{"user_id", m.user_id}};
    if (!m.role.empty()) o["role"] = m.role;
    out.push_back(std::move(o));
  }
  return out;
}

// POST /calls for a call we already keep (SPEC §1.3). Only its creator or an admin may change
// it: a member gets the meeting as it is, with nothing sent to Stream or stored, and anyone else
// learns only that it exists. The creator or an admin adds new members (through Stream's
// update_members: get-or-create ignores data for an existing call) and merges `custom`; roles
// already held never change here (that is the participants route), and an admin who is not the
// creator is not made a member by managing the call.
http::Task<http::Response> change_existing_call(const CallSettings& s, const core::Meeting& existing,
                                                const http::Principal& caller, std::vector<core::Member> members,
                                                std::optional<json::object> custom) {
  const bool admin = caller.has_role(s.admin_role);
  if (!admin && existing.created_by != caller.subject) {
    if (!existing.is_member(caller.subject)) throw HttpError(409, "call_exists", "A call with this id already exists");
    co_return http::json_success(200, core::to_api_json(existing), "Call already exists");
  }
  std::erase_if(members, [&](const core::Member& m) {
    return m.user_id == caller.subject || existing.is_member(m.user_id);
  });
  if (members.empty() && !custom) co_return http::json_success(200, core::to_api_json(existing), "Call already exists");
  if (!members.empty()) {
    std::vector<std::string> user_ids;
    for (const auto& m : members) user_ids.push_back(m.user_id);
    auto upsert = guarded_void(s.stream->upsert_users(user_ids));
    co_await std::move(upsert);
    auto add = guarded(s.stream->update_call_members(existing.call_type, existing.call_id, stream_members(members)));
    co_await std::move(add);
  }
  const auto t = core::system_now();
  auto save = guarded(s.store->update_meeting(
      existing.call_type, existing.call_id, [members, custom, t](std::optional<core::Meeting> m) {
        if (!m) return m;
        core::merge_members(*m, members, false);
        if (custom) {
          for (const auto& [k, v] : *custom) m->custom[k] = v;
          const auto* mid = m->custom.if_contains("meetingId");
          if (mid && mid->is_string() && !mid->get_string().empty()) m->meeting_id = std::string(mid->get_string());
        }
        m->updated_at = t;
        return m;
      }));
  const auto meeting = co_await std::move(save);
  if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
  co_return http::json_success(200, core::to_api_json(*meeting), "Call already exists");
}

}  // namespace

http::Task<std::optional<core::Meeting>> reconcile_call(std::shared_ptr<StreamClient> stream,
                                                        std::shared_ptr<Store> store, std::string type,
                                                        std::string id) {
  auto get = stream->get_call(type, id);
  const json::object state = co_await std::move(get);
  auto recs_op = stream->list_recordings(type, id);
  const json::array recordings = co_await std::move(recs_op);
  auto trs_op = stream->list_transcriptions(type, id);
  const json::array transcriptions = co_await std::move(trs_op);
  std::vector<core::CallEvent> events;
  try {
    events = core::events_from_call_state(state, recordings, transcriptions);
  } catch (const std::invalid_argument& e) {
    throw StreamError(StreamError::Kind::unavailable, 200, 0, std::string("unexpected answer from Stream: ") + e.what());
  }
  auto members = core::members_from_call_state(state);
  const auto t = core::system_now();
  // The call's current session, so that one summarised out of the meeting is merged exactly.
  std::string session;
  for (const auto& e : events)
    if (!e.session_id.empty()) session = e.session_id;
  auto update = store->update_meeting(
      type, id,
      [events, members, t](std::optional<core::Meeting> m) {
        for (const auto& e : events) m = core::apply_event(std::move(m), e, t);
        if (m) core::merge_members(*m, members);
        return m;
      },
      session);
  co_return co_await std::move(update);
}

http::Handler make_create_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    auto body = body_object(req.body);
    if (!body) throw invalid("Request body must be a JSON object");
    std::string type = opt_string(*body, "callType", "callType");
    if (type.empty()) type = "default";
    std::string id = opt_string(*body, "callId", "callId");
    if (id.empty()) id = core::random_uuid_v4();
    if (!core::is_valid_call_id(type)) throw invalid("callType must be 1-64 characters of [A-Za-z0-9_-]");
    if (!core::is_valid_call_id(id)) throw invalid("callId must be 1-64 characters of [A-Za-z0-9_-]");
    const http::Principal& caller = *ctx.principal;
    const bool admin = caller.has_role(s->admin_role);

    std::vector<core::Member> members{{caller.subject, s->creator_role}};
    if (const auto* list = body->if_contains("members"); list && !list->is_null()) {
      if (!list->is_array() || list->get_array().size() > 99) throw invalid("members must be an array of at most 99 entries");
      for (const auto& v : list->get_array()) {
        if (!v.is_object()) throw invalid("members entries must be objects {userId, role?}");
        core::Member m{opt_string(v.get_object(), "userId", "members[].userId"),
                       opt_string(v.get_object(), "role", "members[].role")};
        if (!core::is_valid_user_id(m.user_id))
          throw invalid("members[].userId must be 1-64 characters of [A-Za-z0-9_-@.]");
        if (!m.role.empty() && !core::is_valid_call_id(m.role)) throw invalid("members[].role is not a valid role name");
        if (m.user_id == caller.subject) continue;  // the creator keeps the creator role
        if (std::none_of(members.begin(), members.end(), [&](const core::Member& x) { return x.user_id == m.user_id; }))
          members.push_back(std::move(m));
      }
    }
    json::object custom;
    const auto* custom_value = body->if_contains("custom");
    const bool custom_given = custom_value && !custom_value->is_null();
    if (custom_given) {
      if (!custom_value->is_object()) throw invalid("custom must be an object");
      custom = custom_value->get_object();
    }

    auto find = guarded(s->store->get_meeting(type, id));
    const auto existing = co_await std::move(find);
    if (existing) {
      auto change = change_existing_call(*s, *existing, caller, std::move(members),
                                         custom_given ? std::optional<json::object>(std::move(custom)) : std::nullopt);
      co_return co_await std::move(change);
    }
    if (!custom.contains("meetingId")) custom["meetingId"] = id;

    std::vector<std::string> user_ids;
    for (const auto& m : members) user_ids.push_back(m.user_id);
    auto upsert = guarded_void(s->stream->upsert_users(user_ids));
    co_await std::move(upsert);

    json::object data{{"created_by_id", caller.subject}, {"members", stream_members(members)}, {"custom", custom}};
    auto create = guarded(s->stream->get_or_create_call(type, id, std::move(data)));
    const json::object answer = co_await std::move(create);
    const auto* created_v = answer.if_contains("created");
    const bool created = created_v && created_v->is_bool() && created_v->get_bool();

    std::vector<core::CallEvent> events;
    try {
      events = core::events_from_call_state(answer, {}, {});
    } catch (const std::invalid_argument&) {
      // Stream answered without a usable call (or with unusable times): keep what we asked for.
    }
    std::string stream_creator = events.empty() ? caller.subject : events.front().call->created_by;
    if (stream_creator.empty()) stream_creator = caller.subject;
    // A call created elsewhere that we do not track yet: only its creator or an admin takes it.
    if (!created && !admin && stream_creator != caller.subject)
      throw HttpError(409, "call_exists", "A call with this id already exists");

    auto stream_members_now = core::members_from_call_state(answer);
    const auto t = core::system_now();
    auto save = guarded(s->store->update_meeting(
        type, id, [type, id, stream_creator, custom, members, stream_members_now, events, t](std::optional<core::Meeting> m) {
          // Another request may have stored it meanwhile: then roles already held stay.
          const bool fresh = !m;
          if (fresh) m = core::new_meeting(type, id, stream_creator, custom, t);
          for (const auto& e : events) m = core::apply_event(std::move(m), e, t);
          core::merge_members(*m, members, fresh);
          core::merge_members(*m, stream_members_now, fresh);
          m->updated_at = t;
          return m;
        }));
    const auto meeting = co_await std::move(save);
    http::log(spdlog::level::info, http::LogLine("call created")
                                       .add("audit", true)
                                       .add("user", caller.subject)
                                       .add("callCid", type + ":" + id)
                                       .add("created", created)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(created ? 201 : 200, core::to_api_json(*meeting),
                                 created ? "Call created" : "Call already exists");
  };
}

http::Handler make_add_participant_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    auto body = body_object(req.body);
    if (!body) throw invalid("Request body must be a JSON object");
    core::Member member{opt_string(*body, "userId", "userId"), opt_string(*body, "role", "role")};
    if (!core::is_valid_user_id(member.user_id)) throw invalid("userId must be 1-64 characters of [A-Za-z0-9_-@.]");
    if (member.role.empty()) member.role = s->participant_role;
    if (!core::is_valid_call_id(member.role)) throw invalid("role is not a valid role name");
    auto check = manageable(*s, ref, *ctx.principal);
    co_await std::move(check);

    auto upsert = guarded_void(s->stream->upsert_users({member.user_id}));
    co_await std::move(upsert);
    auto update = guarded(s->stream->update_call_members(
        ref.type, ref.id, json::array{json::object{{"user_id", member.user_id}, {"role", member.role}}}));
    co_await std::move(update);
    const auto t = core::system_now();
    auto save = guarded(s->store->update_meeting(ref.type, ref.id, [member, t](std::optional<core::Meeting> m) {
      if (m) {
        core::merge_members(*m, {member});
        m->updated_at = t;
      }
      return m;
    }));
    const auto meeting = co_await std::move(save);
    if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
    co_return http::json_success(200, core::to_api_json(*meeting), "Participant added");
  };
}

http::Handler make_end_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    auto check = manageable(*s, ref, *ctx.principal);
    const core::Meeting current = co_await std::move(check);
    // Ending twice is not an error: an ended call is not asked again.
    if (!current.ended_at) {
      auto end = guarded_void(s->stream->mark_ended(ref.type, ref.id));
      co_await std::move(end);
    }
    const auto t = core::system_now();
    const std::string by = ctx.principal->subject;
    auto save = guarded(s->store->update_meeting(ref.type, ref.id, [t, by](std::optional<core::Meeting> m) {
      if (m && !m->ended_at) {
        m->ended_at = t;
        m->ended_by = by;
        m->updated_at = t;
      }
      return m;
    }));
    const auto meeting = co_await std::move(save);
    if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
    http::log(spdlog::level::info, http::LogLine("call ended")
                                       .add("audit", true)
                                       .add("user", by)
                                       .add("callCid", ref.type + ":" + ref.id)
                                       .add("requestId", ctx.request_id));
    co_return http::json_success(200, core::to_api_json(*meeting), "Call ended");
  };
}

http::Handler make_sync_call_handler(std::shared_ptr<const CallSettings> s) {
  return [s](http::Request& req, http::Context& ctx) -> http::Task<http::Response> {
    const CallRef ref = call_ref(req, ctx);
    const bool admin = ctx.principal->has_role(s->admin_role);
    if (!admin) {
      // Admins may also import a call created elsewhere; others only sync their own.
      auto check = manageable(*s, ref, *ctx.principal);
      co_await std::move(check);
    }
    auto sync = guarded(reconcile_call(s->stream, s->store, ref.type, ref.id));
    const auto meeting = co_await std::move(sync);
    if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
    co_return http::json_success(200, core::to_api_json(*meeting), "Call synchronised with Stream");
  };
}

}  // namespace streamgate::server
