#include "server/calls/call_service.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <functional>

#include "server/calls/reconcile.hpp"

namespace streamgate::server {
namespace json = boost::json;
using http::HttpError;

namespace {

json::array stream_members(const std::vector<core::Member>& members) {
  json::array out;
  for (const auto& m : members) {
    json::object o{{"user_id", m.user_id}};
    if (!m.role.empty()) o["role"] = m.role;
    out.push_back(std::move(o));
  }
  return out;
}

std::vector<std::string> user_ids(const std::vector<core::Member>& members) {
  std::vector<std::string> out;
  for (const auto& m : members) out.push_back(m.user_id);
  return out;
}

void merge_custom(core::Meeting& m, const json::object& custom) {
  for (const auto& [k, v] : custom) m.custom[k] = v;
  const auto* mid = m.custom.if_contains("meetingId");
  if (mid && mid->is_string() && !mid->get_string().empty())
    m.meeting_id = std::string(mid->get_string());
}

// The coroutines here take the call by value: a coroutine keeps its reference parameters as
// references, and the [gcc12-co_await] split form destroys a temporary argument before the await.
// The meeting the caller may manage (creator or admin); 404 when it is not theirs to see.
http::Task<core::Meeting> manageable(const CallSettings& s, CallRef ref,
                                     const http::Principal& caller) {
  auto find = s.store->get_meeting(ref.type, ref.id);  // [gcc12-co_await]
  auto m = co_await std::move(find);
  const bool admin = caller.has_role(s.admin_role);
  if (!m || !(admin || m->is_member(caller.subject)))
    throw HttpError(404, "not_found", "No meeting for this call");
  if (!admin && m->created_by != caller.subject)
    throw HttpError(403, "forbidden", "Only the call's creator or an admin may do this");
  co_return std::move(*m);
}

// Changes the meeting of an existing call in one store transaction: `change` edits it and says
// whether anything changed (only then is it saved, with updatedAt). 404 when there is none.
http::Task<core::Meeting> change_meeting(const CallSettings& s, CallRef ref,
                                         std::function<bool(core::Meeting&)> change) {
  const auto t = core::system_now();
  auto save = s.store->update_meeting(  // [gcc12-co_await]
      ref.type, ref.id, [change = std::move(change), t](std::optional<core::Meeting> m) {
        if (!m || !change(*m)) return std::optional<core::Meeting>{};
        m->updated_at = t;
        return m;
      });
  auto meeting = co_await std::move(save);
  if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
  co_return std::move(*meeting);
}

// POST /calls for a call we already keep. The creator or an admin adds new members (through
// Stream's update_members: get-or-create ignores data for an existing call) and merges
// `custom`; roles already held never change here (that is the participants route), and an admin
// who is not the creator is not made a member by managing the call.
http::Task<CreatedCall> change_existing_call(const CallSettings& s, const core::Meeting& existing,
                                             const http::Principal& caller,
                                             CreateCallRequest request, http::Trace trace) {
  const bool admin = caller.has_role(s.admin_role);
  if (!admin && existing.created_by != caller.subject) {
    if (!existing.is_member(caller.subject))
      throw HttpError(409, "call_exists", "A call with this id already exists");
    co_return CreatedCall{existing, false};
  }
  auto members = std::move(request.members);
  std::erase_if(members, [&](const core::Member& m) {
    return m.user_id == caller.subject || existing.is_member(m.user_id);
  });
  const auto custom = std::move(request.custom);
  if (members.empty() && !custom) co_return CreatedCall{existing, false};
  if (!members.empty()) {
    auto upsert = s.stream->upsert_users(user_ids(members), trace);  // [gcc12-co_await]
    co_await std::move(upsert);
    auto add = s.stream->update_call_members(existing.call_type, existing.call_id,
                                             stream_members(members), trace);  // [gcc12-co_await]
    co_await std::move(add);
  }
  auto change =
      change_meeting(s, CallRef{existing.call_type, existing.call_id},  // [gcc12-co_await]
                     [members, custom](core::Meeting& m) {
                       core::merge_members(m, members, false);
                       if (custom) merge_custom(m, *custom);
                       return true;
                     });
  auto meeting = co_await std::move(change);
  co_return CreatedCall{std::move(meeting), false};
}

}  // namespace

http::Task<CreatedCall> create_call(const CallSettings& s, const http::Principal& caller,
                                    CreateCallRequest r, http::Trace trace) {
  auto find = s.store->get_meeting(r.type, r.id);  // [gcc12-co_await]
  const auto existing = co_await std::move(find);
  if (existing) {
    auto change = change_existing_call(s, *existing, caller, std::move(r),
                                       std::move(trace));  // [gcc12-co_await]
    co_return co_await std::move(change);
  }
  json::object custom = r.custom.value_or(json::object{});
  if (!custom.contains("meetingId")) custom["meetingId"] = r.id;

  auto upsert = s.stream->upsert_users(user_ids(r.members), trace);  // [gcc12-co_await]
  co_await std::move(upsert);
  json::object data{{"created_by_id", caller.subject},
                    {"members", stream_members(r.members)},
                    {"custom", custom}};
  auto create = s.stream->get_or_create_call(r.type, r.id, std::move(data),
                                             std::move(trace));  // [gcc12-co_await]
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
  if (!created && !caller.has_role(s.admin_role) && stream_creator != caller.subject)
    throw HttpError(409, "call_exists", "A call with this id already exists");

  const auto stream_members_now = core::members_from_call_state(answer);
  const auto t = core::system_now();
  auto save = s.store->update_meeting(
      r.type, r.id,
      [type = r.type, id = r.id, stream_creator, custom, members = r.members, stream_members_now,
       events, t](std::optional<core::Meeting> m) {
        // Another request may have stored it meanwhile: then roles already held stay.
        const bool fresh = !m;
        if (fresh) m = core::new_meeting(type, id, stream_creator, custom, t);
        for (const auto& e : events) m = core::apply_event(std::move(m), e, t);
        core::merge_members(*m, members, fresh);
        core::merge_members(*m, stream_members_now, fresh);
        m->updated_at = t;
        return m;
      });
  auto meeting = co_await std::move(save);
  co_return CreatedCall{std::move(*meeting), created};
}

http::Task<core::Meeting> add_participant(const CallSettings& s, const http::Principal& caller,
                                          CallRef ref, core::Member member, http::Trace trace) {
  auto check = manageable(s, ref, caller);  // [gcc12-co_await]
  co_await std::move(check);
  auto upsert = s.stream->upsert_users({member.user_id}, trace);  // [gcc12-co_await]
  co_await std::move(upsert);
  auto update = s.stream->update_call_members(  // [gcc12-co_await]
      ref.type, ref.id,
      json::array{json::object{{"user_id", member.user_id}, {"role", member.role}}},
      std::move(trace));
  co_await std::move(update);
  auto change = change_meeting(s, ref, [member](core::Meeting& m) {  // [gcc12-co_await]
    core::merge_members(m, {member});
    return true;
  });
  co_return co_await std::move(change);
}

http::Task<core::Meeting> end_call(const CallSettings& s, const http::Principal& caller,
                                   CallRef ref, http::Trace trace) {
  auto check = manageable(s, ref, caller);  // [gcc12-co_await]
  const core::Meeting current = co_await std::move(check);
  // Ending twice is not an error: an ended call is not asked again.
  if (!current.ended_at) {
    auto end = s.stream->mark_ended(ref.type, ref.id, std::move(trace));  // [gcc12-co_await]
    co_await std::move(end);
  }
  const auto t = core::system_now();
  auto change =
      change_meeting(s, ref, [t, by = caller.subject](core::Meeting& m) {  // [gcc12-co_await]
        if (m.ended_at) return false;
        m.ended_at = t;
        m.ended_by = by;
        return true;
      });
  co_return co_await std::move(change);
}

http::Task<core::Meeting> sync_call(const CallSettings& s, const http::Principal& caller,
                                    CallRef ref, http::Trace trace) {
  if (!caller.has_role(s.admin_role)) {
    // Admins may also import a call created elsewhere; others only sync their own.
    auto check = manageable(s, ref, caller);  // [gcc12-co_await]
    co_await std::move(check);
  }
  auto sync = reconcile_call(s.stream, s.store, ref.type, ref.id,
                             std::move(trace));  // [gcc12-co_await]
  auto meeting = co_await std::move(sync);
  if (!meeting) throw HttpError(404, "not_found", "No meeting for this call");
  co_return std::move(*meeting);
}

}  // namespace streamgate::server
