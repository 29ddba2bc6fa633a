#pragma once
// Meetings and the rules that keep them (docs/spec.md §1.4). Pure: no I/O. The state is a merge of
// facts (sessions with their start and end, recording and transcription entries, the end of
// the call), and every field the app reads — status, duration, startedAt — is derived from
// those facts, so events applied in any order, repeated or late, give the same meeting.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.hpp"

namespace streamgate::core {

enum class MeetingStatus { created, active, processing };
std::string_view to_string(MeetingStatus s);

struct CallSession {
  std::string id;
  std::optional<Nanos> started_at;
  std::optional<Nanos> ended_at;
};

// A recording or a transcription. Keyed by filename (Stream's are unique per file), or by url
// without a filename; a session id learnt later is filled in.
struct MediaAsset {
  std::string url;
  std::string filename;
  std::optional<Nanos> start_time;
  std::optional<Nanos> end_time;
  std::string session_id;
  std::string kind;  // recording_type for recordings ("composite", ...); empty for transcriptions
  std::optional<Nanos> url_at;  // the time of the event that brought `url` (stored, not shown)
};

// Ended sessions folded out of the meeting document (see fold_old_sessions): their count, the
// exact sum of their durations and the earliest start, so totals stay exact however long the
// call's history grows.
struct SessionSummary {
  std::int64_t count = 0;
  std::int64_t duration_ns = 0;
  std::optional<Nanos> first_started_at;
};

// How many ended sessions a meeting document keeps in detail; older ones are summarised, so the
// cost of one event does not grow with the call's history. Open sessions are always kept.
inline constexpr std::size_t kKeptEndedSessions = 32;

struct Member {
  std::string user_id;
  std::string role;
};

struct Meeting {
  std::string call_type;
  std::string call_id;
  std::string meeting_id;
  std::string created_by;
  boost::json::object custom;
  std::vector<Member> members;
  std::optional<Nanos> created_at;
  std::optional<Nanos> ended_at;
  std::string ended_by;
  std::vector<CallSession> sessions;  // open ones and the latest ended ones
  SessionSummary archived;            // the older ended sessions
  std::vector<MediaAsset> recordings;
  std::vector<MediaAsset> transcriptions;
  Nanos updated_at{};
  // Increases with every stored change (set by the store, see next_version); app events carry it
  // so that the app can apply the latest state and ignore stale deliveries.
  std::int64_t version = 0;

  std::string cid() const { return call_type + ":" + call_id; }
  MeetingStatus status() const;
  std::int64_t duration_seconds() const;           // all sessions, kept and archived (saturating)
  std::int64_t session_count() const;              // all sessions, kept and archived
  std::optional<Nanos> started_at() const;         // earliest session start
  bool is_member(std::string_view user_id) const;  // creator or listed member
};

// What a Stream call event says, read from its JSON (docs/stream-contract.md §5.4).
struct CallInfo {
  std::string created_by;
  boost::json::object custom;
  std::optional<Nanos> created_at;
  std::optional<Nanos> ended_at;
  std::string session_id;  // call.session.id
  std::optional<Nanos> session_started_at;
  std::optional<Nanos> session_ended_at;
};

struct CallEvent {
  std::string type;
  std::string call_type;
  std::string call_id;
  std::optional<Nanos> created_at;
  std::string session_id;
  std::optional<CallInfo> call;
  std::optional<MediaAsset> asset;  // recording_ready / transcription_ready
  std::string ended_by;             // call.ended: user.id
};

// The event types that change a meeting; any other type is acknowledged and counted only.
bool is_meeting_event(std::string_view type);

// Reads a Stream timestamp: integer nanoseconds or an RFC 3339 string. nullopt for null or
// absent; throws std::invalid_argument for anything else, and for a time outside
// [kMinUnixSeconds, kMaxUnixSeconds].
std::optional<Nanos> read_timestamp(const boost::json::value* v);

// Parses a meeting event; throws std::invalid_argument with a reason for a payload the rules
// cannot use (missing call id, wrong types, bad timestamps).
CallEvent parse_call_event(const boost::json::object& event);

// Reads "<type>:<id>" from call_cid, or call.cid, or call.type/call.id. Empty when absent.
std::pair<std::string, std::string> event_call_key(const boost::json::object& event);

// Merges the event into the meeting (creating it when `meeting` is empty).
Meeting apply_event(std::optional<Meeting> meeting, const CallEvent& event, Nanos now);

// Stream's REST view of a call (GET call, list recordings, list transcriptions), as the events
// the same rules apply: the current session's start and end, the call's end, each file.
// Throws std::invalid_argument for a response without a usable call.
std::vector<CallEvent> events_from_call_state(const boost::json::object& get_call_response,
                                              const boost::json::array& recordings,
                                              const boost::json::array& transcriptions);
// Members listed in a GET call response.
std::vector<Member> members_from_call_state(const boost::json::object& get_call_response);
// Adds members (by user id) and, with `update_roles`, changes the roles of those already there;
// true when something changed.
bool merge_members(Meeting& m, const std::vector<Member>& members, bool update_roles = true);

// A session's length in nanoseconds (0 unless it has a start and a later end).
std::int64_t session_duration_ns(const CallSession& s);

// Moves the oldest ended sessions beyond `keep` out of the meeting into its summary and returns
// them (the store keeps them apart, by id). Open sessions are never moved.
std::vector<CallSession> fold_old_sessions(Meeting& m, std::size_t keep = kKeptEndedSessions);
// Brings a summarised session back into the meeting before an event for it is applied, taking it
// out of the summary, so that the event merges into it exactly as if it had never left.
void restore_session(Meeting& m, CallSession s);

// A fresh meeting for a call, with the seed's custom data (meetingId defaults to the call id).
Meeting new_meeting(std::string call_type, std::string call_id, std::string created_by,
                    boost::json::object custom, Nanos now);

// Storage form (timestamps as integer nanoseconds) and the API form of docs/spec.md §1.4. Reading a
// stored document never throws and never yields an out-of-range time: whatever the stored bytes
// hold, members of the wrong type or range are read as absent.
boost::json::object to_storage_json(const Meeting& m);
Meeting from_storage_json(const boost::json::object& o);
boost::json::object to_api_json(const Meeting& m);

}  // namespace streamgate::core
