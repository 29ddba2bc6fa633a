#include "server/store/store_tx.hpp"

#include <algorithm>

namespace streamgate::server {

namespace {

// The meeting, with `session_id` brought back from the archive when it was summarised out, so
// that an event for it merges as if it had never left (the cost stays one indexed lookup).
std::optional<core::Meeting> load(Tx& tx, const std::string& type, const std::string& id,
                                  const std::string& session_id) {
  auto doc = tx.load_meeting(type, id);
  if (!doc) return std::nullopt;
  core::Meeting m = meeting_from_document(*doc);
  if (!session_id.empty() && m.archived.count > 0 &&
      std::none_of(m.sessions.begin(), m.sessions.end(),
                   [&](const core::CallSession& s) { return s.id == session_id; })) {
    if (auto s = tx.archived_session(type, id, session_id)) core::restore_session(m, std::move(*s));
  }
  return m;
}

// Saves the meeting with its document bounded: older ended sessions go to the archive.
void save(Tx& tx, core::Meeting& m) {
  const auto folded = core::fold_old_sessions(m);
  if (!folded.empty()) tx.archive_sessions(m.call_type, m.call_id, folded);
  tx.save_meeting(m, meeting_to_document(m));
}

ApplyResult run_apply(const ApplyFn& apply, std::optional<core::Meeting> current) {
  try {
    return apply(std::move(current));
  } catch (const std::exception& e) {
    return ApplyResult{std::nullopt, e.what()};
  }
}

}  // namespace

InboxOutcome record_webhook_tx(Tx& tx, const InboxEvent& event, const ApplyFn& apply) {
  // The inbox row first: a concurrent delivery of the same id waits here and then sees it.
  if (!tx.insert_inbox(event, "applied", "")) return InboxOutcome::duplicate;
  if (event.call_type.empty() || event.call_id.empty()) {
    const auto r = run_apply(apply, std::nullopt);
    tx.update_inbox(event.webhook_id, "failed",
                    r.error.empty() ? "event has no valid call id" : r.error, false);
    return InboxOutcome::failed;
  }
  tx.lock_call(event.call_type, event.call_id);
  auto result = run_apply(apply, load(tx, event.call_type, event.call_id, event.session_id));
  if (!result.meeting) {
    tx.update_inbox(event.webhook_id, "failed", result.error, false);
    return InboxOutcome::failed;
  }
  save(tx, *result.meeting);
  return InboxOutcome::applied;
}

std::optional<core::Meeting> update_meeting_tx(Tx& tx, const std::string& call_type,
                                               const std::string& call_id,
                                               const Store::MutateFn& mutate,
                                               const std::string& session_id) {
  tx.lock_call(call_type, call_id);
  auto current = load(tx, call_type, call_id, session_id);
  auto next = mutate(current);
  if (!next) return current;
  save(tx, *next);
  return next;
}

std::optional<ReplayItem> replay_one_tx(Tx& tx, const std::string& webhook_id,
                                        const ApplyFactory& factory) {
  const auto rec = tx.inbox(webhook_id, true);
  if (!rec || rec->status != "failed") return std::nullopt;
  ReplayItem item{webhook_id, InboxOutcome::failed, ""};
  PreparedApply prepared;
  try {
    prepared = factory(*rec);
  } catch (const std::exception& e) {
    prepared.apply = [msg = std::string(e.what())](std::optional<core::Meeting>) {
      return ApplyResult{std::nullopt, msg};
    };
  }
  const bool keyed = !prepared.call_type.empty() && !prepared.call_id.empty();
  std::optional<core::Meeting> current;
  if (keyed) {
    tx.lock_call(prepared.call_type, prepared.call_id);
    current = load(tx, prepared.call_type, prepared.call_id, prepared.session_id);
  }
  auto result = keyed ? run_apply(prepared.apply, std::move(current)) : ApplyResult{};
  if (result.meeting) {
    save(tx, *result.meeting);
    tx.update_inbox(webhook_id, "applied", "", true);
    item.outcome = InboxOutcome::applied;
  } else {
    item.error = result.error.empty() ? "event has no valid call id" : result.error;
    tx.update_inbox(webhook_id, "failed", item.error, true);
  }
  return item;
}

}  // namespace streamgate::server
