#include "core/meeting.hpp"

#include <boost/json/array.hpp>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <tuple>

#include "core/checked.hpp"
#include "core/ids.hpp"

namespace streamgate::core {
namespace json = boost::json;

namespace {

constexpr std::string_view kMeetingEvents[] = {"call.session_started", "call.session_ended",
                                               "call.recording_ready", "call.transcription_ready",
                                               "call.ended"};

std::optional<Nanos> earlier(std::optional<Nanos> a, std::optional<Nanos> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

std::optional<Nanos> later(std::optional<Nanos> a, std::optional<Nanos> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}

std::string str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return {};
  if (!v->is_string()) throw std::invalid_argument(std::string(key) + " is not a string");
  return std::string(v->get_string());
}

const json::object* obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return nullptr;
  if (!v->is_object()) throw std::invalid_argument(std::string(key) + " is not an object");
  return &v->get_object();
}

CallInfo read_call(const json::object& call) {
  CallInfo info;
  if (const auto* by = obj(call, "created_by")) info.created_by = str(*by, "id");
  if (info.created_by.empty()) info.created_by = str(call, "created_by_id");
  if (const auto* custom = obj(call, "custom")) info.custom = *custom;
  info.created_at = read_timestamp(call.if_contains("created_at"));
  info.ended_at = read_timestamp(call.if_contains("ended_at"));
  if (const auto* session = obj(call, "session")) {
    info.session_id = str(*session, "id");
    info.session_started_at = read_timestamp(session->if_contains("started_at"));
    info.session_ended_at = read_timestamp(session->if_contains("ended_at"));
  }
  return info;
}

MediaAsset read_asset(const json::object& a, std::string_view kind_key) {
  MediaAsset m;
  m.url = str(a, "url");
  m.filename = str(a, "filename");
  m.session_id = str(a, "session_id");
  m.start_time = read_timestamp(a.if_contains("start_time"));
  m.end_time = read_timestamp(a.if_contains("end_time"));
  if (!kind_key.empty()) m.kind = str(a, kind_key);
  if (m.url.empty()) throw std::invalid_argument("asset has no url");
  return m;
}

bool same_asset(const MediaAsset& a, const MediaAsset& b) {
  if (!a.filename.empty() || !b.filename.empty()) return a.filename == b.filename;
  return a.url == b.url;
}

void merge_asset(std::vector<MediaAsset>& list, const MediaAsset& asset) {
  for (auto& existing : list) {
    if (!same_asset(existing, asset)) continue;
    // A later event may carry a freshly signed URL for the same file: the URL of the latest
    // event wins, whatever order the events arrive in (ties: the greater URL). The other facts
    // merge by rules that do not depend on order either: the earliest start, the latest end, and
    // of two different kinds or sessions (which Stream never sends) the greater.
    const auto url_key = [](const MediaAsset& a) {
      return std::make_tuple(a.url_at.has_value(), a.url_at.value_or(Nanos{}), std::cref(a.url));
    };
    if (!asset.url.empty() && (existing.url.empty() || url_key(asset) > url_key(existing))) {
      existing.url = asset.url;
      existing.url_at = asset.url_at;
    }
    existing.start_time = earlier(existing.start_time, asset.start_time);
    existing.end_time = later(existing.end_time, asset.end_time);
    existing.kind = std::max(existing.kind, asset.kind);
    existing.session_id = std::max(existing.session_id, asset.session_id);
    return;
  }
  list.push_back(asset);
}

CallSession& session(Meeting& m, const std::string& id) {
  for (auto& s : m.sessions)
    if (s.id == id) return s;
  m.sessions.push_back(CallSession{id, std::nullopt, std::nullopt});
  return m.sessions.back();
}

// Lists kept in one order whatever order their facts arrived in.
void canonicalize(Meeting& m) {
  const auto session_key = [](const CallSession& s) {
    const auto t = s.started_at ? s.started_at : s.ended_at;
    return std::make_tuple(t.has_value() ? 0 : 1, t.value_or(Nanos{}), std::cref(s.id));
  };
  std::sort(m.sessions.begin(), m.sessions.end(), [&](const CallSession& a, const CallSession& b) {
    return session_key(a) < session_key(b);
  });
  const auto asset_less = [](const MediaAsset& a, const MediaAsset& b) {
    return std::tie(a.session_id, a.filename, a.url) < std::tie(b.session_id, b.filename, b.url);
  };
  std::sort(m.recordings.begin(), m.recordings.end(), asset_less);
  std::sort(m.transcriptions.begin(), m.transcriptions.end(), asset_less);
}

json::value ns_or_null(const std::optional<Nanos>& t) {
  return t ? json::value(to_unix_nanos(*t)) : json::value(nullptr);
}

json::value time_or_null(const std::optional<Nanos>& t) {
  return t ? json::value(format_rfc3339(*t, 3)) : json::value(nullptr);
}

// Readers of stored documents: a member of the wrong type or out of range reads as absent.
std::optional<Nanos> ns_from(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_int64()) return std::nullopt;
  return checked_unix_nanos(v->get_int64());
}

std::string stored_str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

const json::array* stored_array(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}

json::array assets_to_storage(const std::vector<MediaAsset>& list) {
  json::array out;
  for (const auto& a : list)
    out.push_back(json::object{{"url", a.url},
                               {"filename", a.filename},
                               {"startTime", ns_or_null(a.start_time)},
                               {"endTime", ns_or_null(a.end_time)},
                               {"sessionId", a.session_id},
                               {"kind", a.kind},
                               {"urlAt", ns_or_null(a.url_at)}});
  return out;
}

std::vector<MediaAsset> assets_from_storage(const json::object& o, std::string_view key) {
  std::vector<MediaAsset> out;
  if (const auto* arr = stored_array(o, key)) {
    for (const auto& v : *arr) {
      if (!v.is_object()) continue;
      const auto& a = v.get_object();
      out.push_back(MediaAsset{stored_str(a, "url"), stored_str(a, "filename"),
                               ns_from(a, "startTime"), ns_from(a, "endTime"),
                               stored_str(a, "sessionId"), stored_str(a, "kind"),
                               ns_from(a, "urlAt")});
    }
  }
  return out;
}

json::array assets_to_api(const std::vector<MediaAsset>& list, bool recordings) {
  json::array out;
  for (const auto& a : list) {
    json::object e{{"url", a.url},
                   {"filename", a.filename},
                   {"startTime", time_or_null(a.start_time)},
                   {"endTime", time_or_null(a.end_time)},
                   {"sessionId", a.session_id}};
    if (recordings) e["recordingType"] = a.kind;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string_view to_string(MeetingStatus s) {
  switch (s) {
    case MeetingStatus::created: return "created";
    case MeetingStatus::active: return "active";
    case MeetingStatus::processing: return "processing";
  }
  return "created";
}

MeetingStatus Meeting::status() const {
  for (const auto& s : sessions)
    if (!s.ended_at) return MeetingStatus::active;
  if (sessions.empty() && archived.count == 0) return MeetingStatus::created;
  return MeetingStatus::processing;
}

namespace {
// Nanoseconds to whole seconds, rounded half up, for any non-negative int64.
std::int64_t rounded_seconds(std::int64_t ns) {
  return ns / 1'000'000'000 + (ns % 1'000'000'000 >= 500'000'000 ? 1 : 0);
}
}  // namespace

std::int64_t session_duration_ns(const CallSession& s) {
  if (!s.started_at || !s.ended_at || *s.ended_at <= *s.started_at) return 0;
  return sat_sub(to_unix_nanos(*s.ended_at), to_unix_nanos(*s.started_at));
}

std::int64_t Meeting::duration_seconds() const {
  std::int64_t total_ns = std::max<std::int64_t>(0, archived.duration_ns);
  for (const auto& s : sessions) total_ns = sat_add(total_ns, session_duration_ns(s));
  return rounded_seconds(total_ns);
}

std::int64_t Meeting::session_count() const {
  return sat_add(std::max<std::int64_t>(0, archived.count),
                 static_cast<std::int64_t>(sessions.size()));
}

std::optional<Nanos> Meeting::started_at() const {
  std::optional<Nanos> out = archived.first_started_at;
  for (const auto& s : sessions) out = earlier(out, s.started_at);
  return out;
}

std::vector<CallSession> fold_old_sessions(Meeting& m, std::size_t keep) {
  std::size_t ended = 0;
  for (const auto& s : m.sessions)
    if (s.ended_at) ++ended;
  std::vector<CallSession> folded;
  if (ended <= keep) return folded;
  std::size_t to_fold = ended - keep;
  // Sessions are in canonical order (by start): the oldest ended ones go first.
  std::vector<CallSession> kept;
  kept.reserve(m.sessions.size());
  for (auto& s : m.sessions) {
    if (to_fold > 0 && s.ended_at) {
      --to_fold;
      m.archived.count = sat_add(m.archived.count, 1);
      m.archived.duration_ns = sat_add(m.archived.duration_ns, session_duration_ns(s));
      m.archived.first_started_at = earlier(m.archived.first_started_at, s.started_at);
      folded.push_back(std::move(s));
    } else {
      kept.push_back(std::move(s));
    }
  }
  m.sessions = std::move(kept);
  return folded;
}

void restore_session(Meeting& m, CallSession s) {
  for (const auto& k : m.sessions)
    if (k.id == s.id) return;
  m.archived.count = std::max<std::int64_t>(0, sat_sub(m.archived.count, 1));
  m.archived.duration_ns =
      std::max<std::int64_t>(0, sat_sub(m.archived.duration_ns, session_duration_ns(s)));
  // first_started_at stays: the session's start is still the earliest it was, and merges only
  // ever move a start earlier.
  m.sessions.push_back(std::move(s));
  canonicalize(m);
}

bool Meeting::is_member(std::string_view user_id) const {
  if (!created_by.empty() && created_by == user_id) return true;
  for (const auto& m : members)
    if (m.user_id == user_id) return true;
  return false;
}

bool is_meeting_event(std::string_view type) {
  return std::find(std::begin(kMeetingEvents), std::end(kMeetingEvents), type) !=
         std::end(kMeetingEvents);
}

std::optional<Nanos> read_timestamp(const json::value* v) {
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto out_of_range = [] {
    return std::invalid_argument("timestamp out of range (1970-2199)");
  };
  if (v->is_int64()) {
    auto t = checked_unix_nanos(v->get_int64());
    if (!t) throw out_of_range();
    return t;
  }
  if (v->is_uint64()) throw out_of_range();  // above INT64_MAX
  if (v->is_double()) {
    // Range first: casting a double outside int64 is undefined.
    const double d = v->get_double();
    if (!(d >= static_cast<double>(kMinUnixNanos) && d <= static_cast<double>(kMaxUnixNanos)))
      throw out_of_range();
    auto t = checked_unix_nanos(static_cast<std::int64_t>(d));
    if (!t) throw out_of_range();
    return t;
  }
  if (v->is_string()) {
    if (v->get_string().empty()) return std::nullopt;
    auto t = parse_rfc3339(v->get_string());
    if (!t) {
      std::string shown(
          v->get_string().subview(0, std::min<std::size_t>(v->get_string().size(), 40)));
      throw std::invalid_argument("timestamp \"" + shown +
                                  "\" is not an RFC 3339 time in 1970-2199");
    }
    return t;
  }
  throw std::invalid_argument("timestamp is neither a number nor a string");
}

std::pair<std::string, std::string> event_call_key(const json::object& e) {
  std::string cid;
  if (const auto* v = e.if_contains("call_cid"); v && v->is_string())
    cid = std::string(v->get_string());
  const json::object* call = nullptr;
  if (const auto* v = e.if_contains("call"); v && v->is_object()) call = &v->get_object();
  if (cid.empty() && call != nullptr) {
    if (const auto* v = call->if_contains("cid"); v && v->is_string())
      cid = std::string(v->get_string());
  }
  if (cid.empty() && call != nullptr) {
    const auto* t = call->if_contains("type");
    const auto* i = call->if_contains("id");
    if (t && i && t->is_string() && i->is_string())
      return {std::string(t->get_string()), std::string(i->get_string())};
  }
  const auto parsed = parse_call_cid(cid);
  if (!parsed) return {};
  return {std::string(parsed->type), std::string(parsed->id)};
}

CallEvent parse_call_event(const json::object& e) {
  CallEvent ev;
  ev.type = str(e, "type");
  auto [type, id] = event_call_key(e);
  if (!is_valid_call_id(type) || !is_valid_call_id(id))
    throw std::invalid_argument("event has no valid call_cid");
  ev.call_type = std::move(type);
  ev.call_id = std::move(id);
  ev.created_at = read_timestamp(e.if_contains("created_at"));
  ev.session_id = str(e, "session_id");
  if (const auto* call = obj(e, "call")) ev.call = read_call(*call);
  if (ev.type == "call.recording_ready") {
    const auto* rec = obj(e, "call_recording");
    if (rec == nullptr) throw std::invalid_argument("call.recording_ready without call_recording");
    ev.asset = read_asset(*rec, "recording_type");
    if (ev.asset->kind.empty()) ev.asset->kind = str(e, "recording_type");
  } else if (ev.type == "call.transcription_ready") {
    const auto* tr = obj(e, "call_transcription");
    if (tr == nullptr)
      throw std::invalid_argument("call.transcription_ready without call_transcription");
    ev.asset = read_asset(*tr, "");
  } else if (ev.type == "call.session_started" || ev.type == "call.session_ended") {
    if (ev.session_id.empty() && ev.call) ev.session_id = ev.call->session_id;
    if (ev.session_id.empty()) throw std::invalid_argument(ev.type + " without session_id");
  } else if (ev.type == "call.ended") {
    if (const auto* user = obj(e, "user")) ev.ended_by = str(*user, "id");
  }
  return ev;
}

std::vector<CallEvent> events_from_call_state(const json::object& response,
                                              const json::array& recordings,
                                              const json::array& transcriptions) {
  const json::object* call = obj(response, "call");
  if (call == nullptr) throw std::invalid_argument("Stream's answer has no call");
  CallEvent base;
  base.call_type = str(*call, "type");
  base.call_id = str(*call, "id");
  if (!is_valid_call_id(base.call_type) || !is_valid_call_id(base.call_id))
    throw std::invalid_argument("Stream's call has no valid type and id");
  base.call = read_call(*call);
  std::vector<CallEvent> out;
  const CallInfo& info = *base.call;
  {
    // The call itself first (creator, custom data), so a call with no session yet still
    // yields its meeting; apply_event merges call data for every event type.
    CallEvent e = base;
    e.type = "call.updated";
    e.created_at = info.created_at;
    out.push_back(std::move(e));
  }
  if (!info.session_id.empty() && info.session_started_at) {
    CallEvent e = base;
    e.type = "call.session_started";
    e.session_id = info.session_id;
    e.created_at = info.session_started_at;
    out.push_back(std::move(e));
  }
  if (!info.session_id.empty() && info.session_ended_at) {
    CallEvent e = base;
    e.type = "call.session_ended";
    e.session_id = info.session_id;
    e.created_at = info.session_ended_at;
    out.push_back(std::move(e));
  }
  if (info.ended_at) {
    CallEvent e = base;
    e.type = "call.ended";
    e.created_at = info.ended_at;
    out.push_back(std::move(e));
  }
  for (const auto& r : recordings) {
    if (!r.is_object()) throw std::invalid_argument("a recording is not an object");
    CallEvent e = base;
    e.type = "call.recording_ready";
    e.asset = read_asset(r.get_object(), "recording_type");
    out.push_back(std::move(e));
  }
  for (const auto& t : transcriptions) {
    if (!t.is_object()) throw std::invalid_argument("a transcription is not an object");
    CallEvent e = base;
    e.type = "call.transcription_ready";
    e.asset = read_asset(t.get_object(), "");
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<Member> members_from_call_state(const json::object& response) {
  std::vector<Member> out;
  const auto* members = response.if_contains("members");
  if (members == nullptr || !members->is_array()) return out;
  for (const auto& v : members->get_array()) {
    if (!v.is_object()) continue;
    Member m{str(v.get_object(), "user_id"), str(v.get_object(), "role")};
    if (is_valid_user_id(m.user_id)) out.push_back(std::move(m));
  }
  return out;
}

bool merge_members(Meeting& m, const std::vector<Member>& members, bool update_roles) {
  bool changed = false;
  for (const auto& add : members) {
    auto it = std::find_if(m.members.begin(), m.members.end(),
                           [&](const Member& x) { return x.user_id == add.user_id; });
    if (it == m.members.end()) {
      m.members.push_back(add);
      changed = true;
    } else if (update_roles && !add.role.empty() && it->role != add.role) {
      it->role = add.role;
      changed = true;
    }
  }
  std::sort(m.members.begin(), m.members.end(),
            [](const Member& a, const Member& b) { return a.user_id < b.user_id; });
  return changed;
}

Meeting new_meeting(std::string call_type, std::string call_id, std::string created_by,
                    json::object custom, Nanos now) {
  Meeting m;
  m.call_type = std::move(call_type);
  m.call_id = std::move(call_id);
  m.created_by = std::move(created_by);
  m.custom = std::move(custom);
  const auto* mid = m.custom.if_contains("meetingId");
  m.meeting_id = mid && mid->is_string() && !mid->get_string().empty()
                     ? std::string(mid->get_string())
                     : m.call_id;
  m.created_at = now;
  m.updated_at = now;
  return m;
}

Meeting apply_event(std::optional<Meeting> existing, const CallEvent& ev, Nanos now) {
  Meeting m = existing ? std::move(*existing)
                       : new_meeting(ev.call_type, ev.call_id, "", {}, ev.created_at.value_or(now));
  if (ev.call) {
    // Calls created elsewhere are tracked from what their events say.
    if (m.created_by.empty()) m.created_by = ev.call->created_by;
    // A meeting first seen through an event without the call (a recording) learns the
    // call's custom data from the first event that carries it.
    if (m.custom.empty() && !ev.call->custom.empty()) {
      m.custom = ev.call->custom;
      const auto* mid = m.custom.if_contains("meetingId");
      if (mid && mid->is_string() && !mid->get_string().empty())
        m.meeting_id = std::string(mid->get_string());
    }
    if (ev.call->created_at) m.created_at = earlier(m.created_at, ev.call->created_at);
  }
  const auto event_time = ev.created_at;
  m.created_at = earlier(m.created_at, event_time);
  if (ev.type == "call.session_started") {
    CallSession& s = session(m, ev.session_id);
    std::optional<Nanos> start = event_time;
    if (ev.call && ev.call->session_id == ev.session_id && ev.call->session_started_at)
      start = ev.call->session_started_at;
    s.started_at = earlier(s.started_at, start);
  } else if (ev.type == "call.session_ended") {
    CallSession& s = session(m, ev.session_id);
    std::optional<Nanos> end = event_time;
    if (ev.call && ev.call->session_id == ev.session_id) {
      if (ev.call->session_ended_at) end = ev.call->session_ended_at;
      s.started_at = earlier(s.started_at, ev.call->session_started_at);
    }
    // An end with no time at all still closes the session.
    s.ended_at = later(s.ended_at, end ? end : std::optional<Nanos>(now));
  } else if (ev.type == "call.recording_ready" || ev.type == "call.transcription_ready") {
    MediaAsset asset = *ev.asset;
    asset.url_at = event_time;
    merge_asset(ev.type == "call.recording_ready" ? m.recordings : m.transcriptions, asset);
  } else if (ev.type == "call.ended") {
    std::optional<Nanos> end = ev.call && ev.call->ended_at ? ev.call->ended_at : event_time;
    m.ended_at = earlier(m.ended_at, end ? end : std::optional<Nanos>(now));
    if (m.ended_by.empty()) m.ended_by = ev.ended_by;
  }
  canonicalize(m);
  m.updated_at = now;
  return m;
}

json::object to_storage_json(const Meeting& m) {
  json::array sessions;
  for (const auto& s : m.sessions)
    sessions.push_back(json::object{{"id", s.id},
                                    {"startedAt", ns_or_null(s.started_at)},
                                    {"endedAt", ns_or_null(s.ended_at)}});
  json::array members;
  for (const auto& mem : m.members)
    members.push_back(json::object{{"userId", mem.user_id}, {"role", mem.role}});
  return json::object{{"v", 1},
                      {"callType", m.call_type},
                      {"callId", m.call_id},
                      {"meetingId", m.meeting_id},
                      {"createdBy", m.created_by},
                      {"custom", m.custom},
                      {"members", std::move(members)},
                      {"createdAt", ns_or_null(m.created_at)},
                      {"endedAt", ns_or_null(m.ended_at)},
                      {"endedBy", m.ended_by},
                      {"sessions", std::move(sessions)},
                      {"archivedSessions",
                       json::object{{"count", m.archived.count},
                                    {"durationNs", m.archived.duration_ns},
                                    {"firstStartedAt", ns_or_null(m.archived.first_started_at)}}},
                      {"recordings", assets_to_storage(m.recordings)},
                      {"transcriptions", assets_to_storage(m.transcriptions)},
                      {"updatedAt", to_unix_nanos(m.updated_at)},
                      {"version", m.version}};
}

Meeting from_storage_json(const json::object& o) {
  Meeting m;
  m.call_type = stored_str(o, "callType");
  m.call_id = stored_str(o, "callId");
  m.meeting_id = stored_str(o, "meetingId");
  m.created_by = stored_str(o, "createdBy");
  if (const auto* c = o.if_contains("custom"); c && c->is_object()) m.custom = c->get_object();
  if (const auto* arr = stored_array(o, "members"))
    for (const auto& v : *arr)
      if (v.is_object())
        m.members.push_back(
            Member{stored_str(v.get_object(), "userId"), stored_str(v.get_object(), "role")});
  m.created_at = ns_from(o, "createdAt");
  m.ended_at = ns_from(o, "endedAt");
  m.ended_by = stored_str(o, "endedBy");
  if (const auto* arr = stored_array(o, "sessions"))
    for (const auto& v : *arr)
      if (v.is_object())
        m.sessions.push_back(CallSession{stored_str(v.get_object(), "id"),
                                         ns_from(v.get_object(), "startedAt"),
                                         ns_from(v.get_object(), "endedAt")});
  if (const auto* a = o.if_contains("archivedSessions"); a && a->is_object()) {
    const auto& ao = a->get_object();
    const auto count = ao.if_contains("count");
    const auto dur = ao.if_contains("durationNs");
    if (count && count->is_int64())
      m.archived.count = std::max<std::int64_t>(0, count->get_int64());
    if (dur && dur->is_int64())
      m.archived.duration_ns = std::max<std::int64_t>(0, dur->get_int64());
    m.archived.first_started_at = ns_from(ao, "firstStartedAt");
  }
  m.recordings = assets_from_storage(o, "recordings");
  m.transcriptions = assets_from_storage(o, "transcriptions");
  m.updated_at = ns_from(o, "updatedAt").value_or(Nanos{});
  if (const auto* v = o.if_contains("version"); v && v->is_int64())
    m.version = std::max<std::int64_t>(0, v->get_int64());
  return m;
}

json::object to_api_json(const Meeting& m) {
  json::array sessions;
  for (const auto& s : m.sessions) {
    json::object so{{"sessionId", s.id},
                    {"startedAt", time_or_null(s.started_at)},
                    {"endedAt", time_or_null(s.ended_at)}};
    so["durationSeconds"] = rounded_seconds(session_duration_ns(s));
    sessions.push_back(std::move(so));
  }
  json::array members;
  for (const auto& mem : m.members)
    members.push_back(json::object{{"userId", mem.user_id}, {"role", mem.role}});
  return json::object{
      {"meetingId", m.meeting_id},
      {"callType", m.call_type},
      {"callId", m.call_id},
      {"callCid", m.cid()},
      {"createdBy", m.created_by.empty() ? json::value(nullptr) : json::value(m.created_by)},
      {"custom", m.custom},
      {"members", std::move(members)},
      {"status", to_string(m.status())},
      {"createdAt", time_or_null(m.created_at)},
      {"startedAt", time_or_null(m.started_at())},
      {"endedAt", time_or_null(m.ended_at)},
      {"endedBy", m.ended_by.empty() ? json::value(nullptr) : json::value(m.ended_by)},
      {"durationSeconds", m.duration_seconds()},
      {"sessionCount", m.session_count()},
      {"sessions", std::move(sessions)},
      {"recordings", assets_to_api(m.recordings, true)},
      {"transcriptions", assets_to_api(m.transcriptions, false)},
      {"updatedAt", format_rfc3339(m.updated_at, 3)}};
}

}  // namespace streamgate::core
