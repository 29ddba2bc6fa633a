#pragma once
// What both backends do inside a transaction, written once against a small interface.
#include <optional>
#include <string>
#include <vector>

#include "server/store/store.hpp"

namespace streamgate::server {

class Tx {
 public:
  virtual ~Tx() = default;
  // Inserts the inbox row unless its webhook id exists; false when it existed.
  virtual bool insert_inbox(const InboxEvent& e, std::string_view status,
                            std::string_view error) = 0;
  virtual void update_inbox(const std::string& webhook_id, std::string_view status,
                            std::string_view error, bool count_attempt) = 0;
  // Serialises transactions that touch the same call (PostgreSQL: an advisory lock).
  virtual void lock_call(const std::string& call_type, const std::string& call_id) = 0;
  virtual std::optional<std::string> load_meeting(const std::string& call_type,
                                                  const std::string& call_id) = 0;
  virtual void save_meeting(const core::Meeting& m, const std::string& document) = 0;
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
// Re-applies one failed event; nullopt when it is no longer failed.
std::optional<ReplayItem> replay_one_tx(Tx& tx, const std::string& webhook_id,
                                        const ApplyFactory& factory);

}  // namespace streamgate::server
