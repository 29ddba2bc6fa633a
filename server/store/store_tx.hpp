#pragma once
// What both backends do inside a transaction, written once against a small interface.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "server/store/store.hpp"

namespace streamgate::server {

// One outbox row to write (see AppEventRecord).
struct AppEventRow {
  std::string id;
  std::string type;
  std::string call_type;
  std::string call_id;
  std::string endpoint;
  std::string payload;
  std::int64_t created_at = 0;
};

class Tx {
 public:
  virtual ~Tx() = default;
  // Set by the backend: what to announce with each meeting change (null or no endpoint:
  // nothing), and whether this transaction wrote an event (the backend wakes the dispatcher
  // after its commit).
  const AppEventOptions* app_events = nullptr;
  bool wrote_app_events = false;
  bool transcripts = false;  // a meeting's new transcription file enqueues its fetch job

  // Inserts the inbox row unless its webhook id exists; false when it existed.
  virtual bool insert_inbox(const InboxEvent& e, std::string_view status,
                            std::string_view error) = 0;
  virtual void update_inbox(const std::string& webhook_id, std::string_view status,
                            std::string_view error, bool count_attempt) = 0;
  // Serialises transactions that touch the same call (PostgreSQL: an advisory lock).
  virtual void lock_call(const std::string& call_type, const std::string& call_id) = 0;
  virtual std::optional<std::string> load_meeting(const std::string& call_type,
                                                  const std::string& call_id) = 0;
  // Upserts the meeting row (with its list key: created_at, status).
  virtual void save_meeting(const core::Meeting& m, const std::string& document) = 0;
  // Rewrites the meeting's rows of the list index: one per user (creator and members).
  virtual void index_meeting(const core::Meeting& m) = 0;
  // Inserts the outbox row unless (id, endpoint) exists.
  virtual void insert_app_event(const AppEventRow& row) = 0;
  // Transcripts. Inserts the job (pending, due `next_attempt_at`) unless the file has one; a file
  // not yet stored whose URL changed gets the new URL and is due again from the start.
  virtual void upsert_transcript_job(const TranscriptFile& job) = 0;
  // True when `owner` holds the lease of a pending job (locking the row until the commit).
  virtual bool transcript_leased(const std::string& call_type, const std::string& call_id,
                                 const std::string& file, const std::string& owner) = 0;
  // Replaces the file's segments (and so their index entries); returns the first and last id
  // given to them where the backend keeps them consecutive (SQLite), else {0, 0}.
  virtual std::pair<std::int64_t, std::int64_t> replace_transcript_segments(
      const TranscriptContent& content) = 0;
  // Settles the job as ready with its counts; the lease is dropped.
  virtual void mark_transcript_ready(const TranscriptFile& done) = 0;
  // Stored documents in key order after (type, id), for the index backfill of a migration.
  virtual std::vector<std::pair<std::pair<std::string, std::string>, std::string>> meeting_page(
      const std::string& after_type, const std::string& after_id, std::size_t limit) = 0;
  // Sessions summarised out of a meeting's document (core::fold_old_sessions), kept by id so
  // that a late event for one of them still merges exactly. Upserts.
  virtual void archive_sessions(const std::string& call_type, const std::string& call_id,
                                const std::vector<core::CallSession>& sessions) = 0;
  virtual std::optional<core::CallSession> archived_session(const std::string& call_type,
                                                            const std::string& call_id,
                                                            const std::string& session_id) = 0;
  virtual std::vector<InboxRecord> failed_inbox(const std::vector<std::string>& ids,
                                                std::size_t limit) = 0;
  virtual std::optional<InboxRecord> inbox(const std::string& webhook_id, bool for_update) = 0;
  virtual std::vector<std::pair<std::string, std::string>> claim_stale(
      const Store::StaleQuery& q) = 0;
};

InboxOutcome record_webhook_tx(Tx& tx, const InboxEvent& event, const ApplyFn& apply);
std::optional<core::Meeting> update_meeting_tx(Tx& tx, const std::string& call_type,
                                               const std::string& call_id,
                                               const Store::MutateFn& mutate,
                                               const std::string& session_id);
// The list key of a meeting: its creation time (Unix ns; the last update when unknown).
std::int64_t meeting_list_time(const core::Meeting& m);
// The users who see the meeting in their list: the creator and the members, once each.
std::vector<std::string> meeting_list_users(const core::Meeting& m);
// Fills the list index from every stored meeting (a migration).
void backfill_meeting_index(Tx& tx);

// Stores a parsed transcription file while `content.owner` holds its job's lease: its segments,
// the job settled as ready, and the meeting.transcript_ready app event. False when the lease is
// no longer held (nothing is written).
bool store_transcript_tx(Tx& tx, const TranscriptContent& content);
// The timeline offset (ms) of each file, in the view's order: a later file starts where its
// transcription started relative to the first (when both times are known), else right after the
// previous file's last segment. One file: 0.
std::vector<std::int64_t> transcript_offsets(const std::vector<TranscriptFile>& files);

// Search, as both backends rank it: matching segments are added one by one with their score
// (lower is better); meetings rank by their best segment, then by how many segments match, then
// by key. Memory grows with the matching meetings, not the matching segments.
struct RankedMeeting {
  std::string call_type;
  std::string call_id;
  double score = 0;
  std::int64_t count = 0;
  std::vector<std::pair<double, std::int64_t>> best;  // (score, segment id), best first
};
struct RankedPage {
  std::vector<RankedMeeting> meetings;
  bool more = false;
};
class MeetingRanker {
 public:
  explicit MeetingRanker(std::size_t per_meeting) : per_meeting_(per_meeting) {}
  void add(const std::string& call_type, const std::string& call_id, std::int64_t segment_id,
           double score);
  // The page from `offset`.
  RankedPage page(std::size_t offset, std::size_t limit);

 private:
  std::size_t per_meeting_;
  std::map<std::pair<std::string, std::string>, RankedMeeting> meetings_;
};

// Re-applies one failed event; nullopt when it is no longer failed.
std::optional<ReplayItem> replay_one_tx(Tx& tx, const std::string& webhook_id,
                                        const ApplyFactory& factory);

}  // namespace streamgate::server
