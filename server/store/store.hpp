#pragma once
// The store: meetings and the webhook inbox, behind one asynchronous interface with two
// backends (SQLite, PostgreSQL). Every call runs on the store's own threads, never on an I/O
// thread; the awaiting coroutine resumes on its own executor.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/meeting.hpp"
#include "core/transcript.hpp"
#include "http/task.hpp"

namespace streamgate::server {

// The store could not do its work (down, locked, I/O error): callers answer 503.
struct StoreUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What the apply function decides for one event: the meeting to save, or why it cannot apply.
struct ApplyResult {
  std::optional<core::Meeting> meeting;  // empty with an error: stored as failed, for replay
  std::string error;
};
// Pure, run inside the store's transaction with the current meeting (or none).
using ApplyFn = std::function<ApplyResult(std::optional<core::Meeting>)>;

struct InboxEvent {
  std::string webhook_id;
  std::string type;
  std::string call_type;  // may be empty when the payload has no usable call id
  std::string call_id;
  std::string body;  // the verified JSON, exactly as signed (after gunzip)
  std::int64_t received_at_ns = 0;
  std::string session_id;  // the session the event names, if any (see Tx::archived_session)
};

// `ignored`: not a meeting event, acknowledged without being stored.
enum class InboxOutcome { applied, failed, duplicate, ignored };
std::string_view to_string(InboxOutcome o);

struct InboxRecord {
  std::string webhook_id;
  std::string type;
  std::string call_type;
  std::string call_id;
  std::string body;
  std::string status;  // applied | failed
  std::string error;
  std::int64_t attempts = 0;
};

struct ReplayItem {
  std::string webhook_id;
  InboxOutcome outcome = InboxOutcome::failed;
  std::string error;
};

// Rebuilds, from a stored event's raw body, which meeting it touches and how (replay).
struct PreparedApply {
  std::string call_type;  // empty when the body names no usable call
  std::string call_id;
  std::string session_id;  // the session the event names, if any
  ApplyFn apply;
};
using ApplyFactory = std::function<PreparedApply(const InboxRecord&)>;

// The meeting list (docs/spec.md §1.9): newest first by (createdAt, call type, call id).
struct MeetingCursor {
  std::int64_t created_at = 0;  // Unix ns
  std::string call_type;
  std::string call_id;
};
struct MeetingListQuery {
  std::string user_id;  // creator or member; ignored with `all`
  bool all = false;
  std::string status;  // created | active | processing, or empty for any
  std::optional<MeetingCursor> after;
  std::size_t limit = 20;
};
struct MeetingPage {
  std::vector<core::Meeting> meetings;
  std::optional<MeetingCursor> next;  // none on the last page
};

// App events (docs/app-events.md): the outbox, one row per event and endpoint.
struct AppEventRecord {
  std::int64_t seq = 0;  // the outbox's own order, and the admin list's cursor
  std::string id;        // webhook-id: the same for every endpoint and every attempt
  std::string type;
  std::string call_type;
  std::string call_id;
  std::string endpoint;
  std::string payload;  // the body, fixed when the event was written
  std::string status;   // pending | delivered | failed
  std::int64_t attempts = 0;
  std::int64_t step = 0;  // position in the retry schedule (0 again after a redelivery)
  std::int64_t next_attempt_at = 0;
  std::int64_t created_at = 0;
  std::string last_error;
};
// Pending events due at `now` and not leased, oldest first, none behind an earlier event of its
// meeting and endpoint that waits for a retry (so that each endpoint gets a meeting's events in
// order): leased to `owner` until `lease_until` (Unix ns).
struct AppEventClaim {
  std::int64_t now = 0;
  std::int64_t lease_until = 0;
  std::string owner;
  std::size_t limit = 64;
};
// The outcome of one attempt; applied only while `owner` still holds the lease.
struct AppEventOutcome {
  std::int64_t seq = 0;
  std::string owner;
  // delivered | pending (retry at next_attempt_at) | failed | released (not attempted: the
  // lease is given back, nothing else changes)
  std::string status;
  std::int64_t step = 0;
  std::int64_t next_attempt_at = 0;
  std::string error;
};
struct AppEventStats {
  std::int64_t pending = 0;
  std::optional<std::int64_t> oldest_pending_at;  // created_at of the oldest pending event
};

// What the store writes to the outbox with each meeting change (empty endpoints: nothing).
struct AppEventOptions {
  std::vector<std::string> endpoints;
  std::vector<std::string> types;    // empty: every type
  std::function<void()> on_written;  // after a commit that wrote events (from a store thread)
};

// Transcripts (docs/transcripts.md): one fetch job per transcription file of a meeting (keyed by
// its filename, or its URL when it has none), the file's parsed segments, and their search index.
struct TranscriptFile {
  std::string call_type;
  std::string call_id;
  std::string file;
  std::string url;
  std::string status;  // pending | ready | failed
  std::int64_t attempts = 0;
  std::int64_t step = 0;
  std::int64_t next_attempt_at = 0;
  std::string error;
  std::int64_t segment_count = 0;
  std::int64_t speaker_count = 0;
  std::int64_t malformed_lines = 0;
  std::int64_t bytes = 0;
  std::int64_t duration_ms = 0;            // the latest segment end
  std::optional<std::int64_t> start_time;  // the transcription's start (Unix ns), if known
  std::optional<std::int64_t> fetched_at;
  // SQLite: the ids of the file's segments, first to last (a file's segments are written
  // together, so their ids are consecutive); search reads a caller's files by these ranges.
  std::int64_t first_segment = 0;
  std::int64_t last_segment = 0;
};
// Pending jobs due at `now` and not leased, leased to `owner` until `lease_until`.
struct TranscriptClaim {
  std::int64_t now = 0;
  std::int64_t lease_until = 0;
  std::string owner;
  std::size_t limit = 4;
};
// The outcome of an attempt that stored nothing; applied only while `owner` holds the lease.
struct TranscriptOutcome {
  std::string call_type;
  std::string call_id;
  std::string file;
  std::string owner;
  std::string status;  // pending (retry at next_attempt_at) | failed | released
  std::int64_t step = 0;
  std::int64_t next_attempt_at = 0;
  std::string error;
  std::string url;  // not empty: the file's fresh URL (re-listed from Stream)
};
// A parsed file, stored with its segments and index in one transaction (with the
// meeting.transcript_ready app event when app events are on).
struct TranscriptContent {
  std::string call_type;
  std::string call_id;
  std::string file;
  std::string owner;
  std::vector<core::TranscriptSegment> segments;
  std::int64_t malformed_lines = 0;
  std::int64_t bytes = 0;
};
// A meeting's files (ordered by start, then name) and each file's segments in order.
struct TranscriptView {
  std::vector<TranscriptFile> files;
  std::vector<std::vector<core::TranscriptSegment>> segments;  // one list per file
};
struct TranscriptSearch {
  std::string user_id;  // creator or member; ignored with `all`
  bool all = false;
  core::SearchQuery query;
  std::size_t offset = 0;
  std::size_t limit = 10;
  std::size_t matches_per_meeting = 3;
};
struct TranscriptMatch {
  std::string file;
  std::string speaker_id;
  std::int64_t start_ms = 0;  // as in the file
  std::int64_t end_ms = 0;
  std::string highlighted;  // the text, matches between core::kMarkStart and core::kMarkEnd
};
struct TranscriptHit {
  core::Meeting meeting;
  std::int64_t matching_segments = 0;
  std::vector<TranscriptMatch> matches;  // best first
  std::vector<TranscriptFile> files;     // the meeting's files (for their timeline offsets)
};
struct TranscriptSearchPage {
  std::vector<TranscriptHit> hits;  // most relevant first
  bool more = false;
};

class Store {
 public:
  virtual ~Store() = default;

  // Atomically: if `event.webhook_id` is already in the inbox → duplicate, nothing changes.
  // Otherwise store the event, run `apply` on its meeting and store the result (or the
  // failure), all in one transaction. Returns after the commit is durable.
  // Throws StoreUnavailable when that cannot be done.
  virtual http::Task<InboxOutcome> record_webhook(InboxEvent event, ApplyFn apply) = 0;

  // Loads, mutates and saves one meeting in a transaction (the REST paths use this).
  // `mutate` gets the current meeting or none and returns the meeting to save, or none to
  // leave the store unchanged. Returns what was saved (or the unchanged meeting).
  // `session_id` names a session the change is about (reconciliation): if it was summarised
  // out of the meeting, it is brought back first, so that totals stay exact.
  using MutateFn = std::function<std::optional<core::Meeting>(std::optional<core::Meeting>)>;
  virtual http::Task<std::optional<core::Meeting>> update_meeting(std::string call_type,
                                                                  std::string call_id,
                                                                  MutateFn mutate,
                                                                  std::string session_id) = 0;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string call_type,
                                                          std::string call_id, MutateFn mutate) {
    return update_meeting(std::move(call_type), std::move(call_id), std::move(mutate),
                          std::string());
  }

  virtual http::Task<std::optional<core::Meeting>> get_meeting(std::string call_type,
                                                               std::string call_id) = 0;

  // Re-applies up to `limit` failed inbox events (or just `ids` when given), each in its own
  // transaction, oldest first. Built on failed_inbox and replay_one.
  http::Task<std::vector<ReplayItem>> replay_failed(std::vector<std::string> ids, std::size_t limit,
                                                    ApplyFactory factory);
  // Failed inbox events: those of `ids` (when given) or the `limit` oldest.
  virtual http::Task<std::vector<InboxRecord>> failed_inbox(std::vector<std::string> ids,
                                                            std::size_t limit) = 0;
  // Re-applies one event in a transaction; nullopt when it is no longer failed.
  virtual http::Task<std::optional<ReplayItem>> replay_one(std::string webhook_id,
                                                           ApplyFactory factory) = 0;

  virtual http::Task<std::optional<InboxRecord>> get_inbox(std::string webhook_id) = 0;

  // Meetings the reconciler should pull from Stream: active since before `active_before`, or
  // processing without recordings since before `processing_before` (but not before
  // `processing_since`), and not claimed since `retry_before`. Marks them claimed at `now`, in one
  // transaction, so that replicas share the work instead of repeating it. All in Unix ns.
  struct StaleQuery {
    std::int64_t now = 0;
    std::int64_t active_before = 0;
    std::int64_t processing_before = 0;
    std::int64_t processing_since = 0;
    std::int64_t retry_before = 0;
    std::size_t limit = 20;
  };
  virtual http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(
      StaleQuery q) = 0;

  // The meeting list, keyset-paginated.
  virtual http::Task<MeetingPage> list_meetings(MeetingListQuery q);

  // The outbox of app events. Default implementations throw StoreUnavailable.
  virtual http::Task<std::vector<AppEventRecord>> claim_app_events(AppEventClaim claim);
  virtual http::Task<bool> finish_app_event(AppEventOutcome outcome);
  // `status` empty: any. Oldest first, after `after_seq`.
  virtual http::Task<std::vector<AppEventRecord>> list_app_events(std::string status,
                                                                  std::int64_t after_seq,
                                                                  std::size_t limit);
  // Makes the event `id` (every endpoint), or with an empty id every failed event, pending and
  // due at `now`, its retry schedule from the start. Returns how many rows changed.
  virtual http::Task<std::int64_t> redeliver_app_events(std::string id, std::int64_t now);
  virtual http::Task<AppEventStats> app_event_stats();

  // Transcripts. Default implementations throw StoreUnavailable.
  virtual http::Task<std::vector<TranscriptFile>> claim_transcript_jobs(TranscriptClaim claim);
  virtual http::Task<bool> finish_transcript_job(TranscriptOutcome outcome);
  // False when the lease was lost (another replica has the job, or it was settled).
  virtual http::Task<bool> store_transcript(TranscriptContent content);
  virtual http::Task<TranscriptView> get_transcript(std::string call_type, std::string call_id);
  virtual http::Task<TranscriptSearchPage> search_transcripts(TranscriptSearch search);

  // True when the store answers a trivial query.
  virtual http::Task<bool> ping() = 0;

  virtual std::string backend() const = 0;
};

struct StoreOptions {
  std::string database_url;     // sqlite:PATH or postgres://...
  std::size_t pool_size = 4;    // PostgreSQL connections / SQLite readers
  int busy_timeout_ms = 2000;   // how long to wait for a lock before StoreUnavailable
  std::size_t max_batch = 256;  // SQLite: transactions committed together (group commit)
  // Store calls waiting for a connection (each pool) or for the SQLite writer; one more fails
  // at once with StoreUnavailable, so a stalled database cannot grow memory without bound.
  std::size_t queue_limit = 1024;
  AppEventOptions app_events;
  bool transcripts = false;  // a new transcription file enqueues its fetch job
};

// Opens the backend named by the URL and runs the schema migrations. Throws
// std::runtime_error (naming DATABASE_URL, without its password) on failure.
std::unique_ptr<Store> open_store(const StoreOptions& options);

// The stored document of a meeting and back.
std::string meeting_to_document(const core::Meeting& m);
core::Meeting meeting_from_document(const std::string& doc);

}  // namespace streamgate::server
