#pragma once
// App events (docs/app-events.md): what a change of a meeting announces to the app, and the
// Standard Webhooks signature of one delivery. Pure: no I/O.
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"
#include "core/meeting.hpp"

namespace streamgate::core {

inline constexpr std::array<std::string_view, 7> kAppEventTypes = {"meeting.created",
                                                                   "meeting.started",
                                                                   "meeting.ended",
                                                                   "meeting.recording_ready",
                                                                   "meeting.transcription_ready",
                                                                   "meeting.call_ended",
                                                                   "meeting.transcript_ready"};
bool is_app_event_type(std::string_view type);

// One state transition of a meeting: its type and the item it is about (a session id, a file),
// empty for the transitions a meeting has once (created, call_ended).
struct MeetingTransition {
  std::string type;
  std::string item;
  bool operator==(const MeetingTransition&) const = default;
};

// The transitions from `before` (null: the meeting is new) to `after`, in the order they
// happen: created; started per session that gained its start; ended when the meeting is
// processing and a session gained its end (item: the latest such session); call_ended;
// recording_ready and transcription_ready per new file. They are facts, not Stream events: a
// repeated or late event adds no fact and so announces nothing, and a meeting healed from
// Stream's REST view announces every fact it gained.
std::vector<MeetingTransition> meeting_transitions(const Meeting* before, const Meeting& after);

// True when the stored facts differ (anything but updated_at and version), or `before` is null.
bool meeting_changed(const Meeting* before, const Meeting& after);

// "evt_" and 32 hex digits of SHA-256 over (meeting, type, item): one transition, one id.
std::string app_event_id(std::string_view call_cid, const MeetingTransition& t);

// The body of an app event: {"type", "timestamp", "data": {"meeting": <API form>, "version"}}.
std::string app_event_body(std::string_view type, Nanos at, const Meeting& m);

// meeting.transcript_ready (docs/transcripts.md): a transcription file was fetched, parsed and
// stored. Its body adds data.transcript = {file, segmentCount, speakerCount}; its id is that of
// the transition (meeting.transcript_ready, file).
inline constexpr std::string_view kTranscriptReady = "meeting.transcript_ready";
std::string transcript_ready_body(Nanos at, const Meeting& m, std::string_view file,
                                  std::int64_t segments, std::int64_t speakers);

// A Standard Webhooks secret, "whsec_" and the base64 of the key: the key bytes, or nullopt for
// anything else or a key shorter than kMinWebhookKeyBytes.
inline constexpr std::size_t kMinWebhookKeyBytes = 24;
std::optional<std::string> parse_webhook_secret(std::string_view secret);
// A new secret: "whsec_" and the base64 of 32 random bytes.
std::string make_webhook_secret();

// The webhook-signature header: "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>" per key,
// separated by spaces (the current key first, then the previous one during a rotation).
std::string sign_app_event(const std::vector<std::shared_ptr<const HmacSha256Key>>& keys,
                           std::string_view id, std::int64_t timestamp, std::string_view body);

// APP_WEBHOOK_RETRY_SCHEDULE: comma-separated delays in seconds (0 to 7 days each, at most 20).
std::optional<std::vector<std::int64_t>> parse_retry_schedule(std::string_view text);
// The delay in milliseconds before retry `step` (0-based) of such a schedule, jittered by ±10 %
// (`jitter01` in [0, 1]); nullopt when the schedule is exhausted.
std::optional<std::int64_t> retry_delay_ms(const std::vector<std::int64_t>& schedule,
                                           std::int64_t step, double jitter01);

}  // namespace streamgate::core
