#include "server/store/store_tx.hpp"

#include <algorithm>

#include "core/app_events.hpp"

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

bool wanted(const AppEventOptions& o, const std::string& type) {
  return o.types.empty() || std::find(o.types.begin(), o.types.end(), type) != o.types.end();
}

bool same_list_entry(const core::Meeting& a, const core::Meeting& b) {
  return meeting_list_time(a) == meeting_list_time(b) && a.status() == b.status() &&
         meeting_list_users(a) == meeting_list_users(b);
}

// Saves the meeting, in the transaction that changes it:
// - its version goes up when a stored fact changed;
// - its transitions are written to the outbox (when app events are on), with the meeting as it
//   is saved, so that a change is announced exactly when it is committed;
// - its rows of the list index follow its creation time, status and members;
// - its document stays bounded: older ended sessions go to the archive.
void save(Tx& tx, const core::Meeting* before, core::Meeting& m) {
  const bool changed = core::meeting_changed(before, m);
  m.version = (before ? before->version : 0) + (changed ? 1 : 0);
  std::vector<core::MeetingTransition> transitions;
  const bool announce = tx.app_events && !tx.app_events->endpoints.empty() && changed;
  if (announce) transitions = core::meeting_transitions(before, m);
  const auto folded = core::fold_old_sessions(m);
  if (!folded.empty()) tx.archive_sessions(m.call_type, m.call_id, folded);
  tx.save_meeting(m, meeting_to_document(m));
  if (!before || !same_list_entry(*before, m)) tx.index_meeting(m);
  const auto now = core::system_now();
  for (const auto& t : transitions) {
    if (!wanted(*tx.app_events, t.type)) continue;
    AppEventRow row{core::app_event_id(m.cid(), t),
                    t.type,
                    m.call_type,
                    m.call_id,
                    {},
                    core::app_event_body(t.type, now, m),
                    core::to_unix_nanos(now)};
    for (const auto& endpoint : tx.app_events->endpoints) {
      row.endpoint = endpoint;
      tx.insert_app_event(row);
    }
    tx.wrote_app_events = true;
  }
}

ApplyResult run_apply(const ApplyFn& apply, std::optional<core::Meeting> current) {
  try {
    return apply(std::move(current));
  } catch (const std::exception& e) {
    return ApplyResult{std::nullopt, e.what()};
  }
}

}  // namespace

std::int64_t meeting_list_time(const core::Meeting& m) {
  return core::to_unix_nanos(m.created_at.value_or(m.updated_at));
}

std::vector<std::string> meeting_list_users(const core::Meeting& m) {
  std::vector<std::string> users;
  if (!m.created_by.empty()) users.push_back(m.created_by);
  for (const auto& member : m.members)
    if (!member.user_id.empty()) users.push_back(member.user_id);
  std::sort(users.begin(), users.end());
  users.erase(std::unique(users.begin(), users.end()), users.end());
  return users;
}

void backfill_meeting_index(Tx& tx) {
  std::string type, id;
  for (;;) {
    const auto page = tx.meeting_page(type, id, 500);
    for (const auto& [key, doc] : page) {
      try {
        auto m = meeting_from_document(doc);
        m.call_type = key.first;  // the row's key is the truth
        m.call_id = key.second;
        tx.save_meeting(m, doc);
        tx.index_meeting(m);
      } catch (const StoreUnavailable&) {
        // A document no build wrote: it cannot be listed, and is left as it is.
      }
    }
    if (page.size() < 500) return;
    type = page.back().first.first;
    id = page.back().first.second;
  }
}

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
  const auto before = load(tx, event.call_type, event.call_id, event.session_id);
  auto result = run_apply(apply, before);
  if (!result.meeting) {
    tx.update_inbox(event.webhook_id, "failed", result.error, false);
    return InboxOutcome::failed;
  }
  save(tx, before ? &*before : nullptr, *result.meeting);
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
  save(tx, current ? &*current : nullptr, *next);
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
  auto result = keyed ? run_apply(prepared.apply, current) : ApplyResult{};
  if (result.meeting) {
    save(tx, current ? &*current : nullptr, *result.meeting);
    tx.update_inbox(webhook_id, "applied", "", true);
    item.outcome = InboxOutcome::applied;
  } else {
    item.error = result.error.empty() ? "event has no valid call id" : result.error;
    tx.update_inbox(webhook_id, "failed", item.error, true);
  }
  return item;
}

}  // namespace streamgate::server
