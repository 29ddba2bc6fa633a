#pragma once
// What both backends do inside a transaction, written once against a small interface.
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

// Re-applies one failed event; nullopt when it is no longer failed.
std::optional<ReplayItem> replay_one_tx(Tx& tx, const std::string& webhook_id,
                                        const ApplyFactory& factory);

}  // namespace streamgate::server
