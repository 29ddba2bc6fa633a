#include "server/store/store_tx.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "core/app_events.hpp"
#include "core/checked.hpp"

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

// The key of a transcription file: its filename, or its URL when it has none.
const std::string& file_key(const core::MediaAsset& a) {
  return a.filename.empty() ? a.url : a.filename;
}

// A fetch job for each transcription file that is new or has a new URL.
void enqueue_transcripts(Tx& tx, const core::Meeting* before, const core::Meeting& m) {
  const auto now = core::to_unix_nanos(core::system_now());
  for (const auto& t : m.transcriptions) {
    if (t.url.empty() || file_key(t).empty()) continue;
    if (before) {
      const auto same =
          std::find_if(before->transcriptions.begin(), before->transcriptions.end(),
                       [&](const core::MediaAsset& b) { return file_key(b) == file_key(t); });
      if (same != before->transcriptions.end() && same->url == t.url) continue;
    }
    TranscriptFile job;
    job.call_type = m.call_type;
    job.call_id = m.call_id;
    job.file = file_key(t);
    job.url = t.url;
    job.status = "pending";
    job.next_attempt_at = now;
    if (t.start_time) job.start_time = core::to_unix_nanos(*t.start_time);
    tx.upsert_transcript_job(job);
  }
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
  if (tx.transcripts && changed) enqueue_transcripts(tx, before, m);
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

bool store_transcript_tx(Tx& tx, const TranscriptContent& c) {
  if (!tx.transcript_leased(c.call_type, c.call_id, c.file, c.owner)) return false;
  const auto [first, last] = tx.replace_transcript_segments(c);
  const auto speakers = core::speakers_of(c.segments);
  TranscriptFile done;
  done.call_type = c.call_type;
  done.call_id = c.call_id;
  done.file = c.file;
  done.status = "ready";
  done.segment_count = static_cast<std::int64_t>(c.segments.size());
  done.speaker_count = static_cast<std::int64_t>(speakers.size());
  done.malformed_lines = c.malformed_lines;
  done.bytes = c.bytes;
  for (const auto& s : c.segments) done.duration_ms = std::max(done.duration_ms, s.end_ms);
  const auto now = core::system_now();
  done.fetched_at = core::to_unix_nanos(now);
  done.first_segment = first;
  done.last_segment = last;
  tx.mark_transcript_ready(done);
  if (tx.app_events && !tx.app_events->endpoints.empty() &&
      wanted(*tx.app_events, std::string(core::kTranscriptReady))) {
    const auto doc = tx.load_meeting(c.call_type, c.call_id);
    if (doc) {
      auto m = meeting_from_document(*doc);
      m.call_type = c.call_type;
      m.call_id = c.call_id;
      AppEventRow row{
          core::app_event_id(m.cid(), {std::string(core::kTranscriptReady), c.file}),
          std::string(core::kTranscriptReady),
          m.call_type,
          m.call_id,
          {},
          core::transcript_ready_body(now, m, c.file, done.segment_count, done.speaker_count),
          core::to_unix_nanos(now)};
      for (const auto& endpoint : tx.app_events->endpoints) {
        row.endpoint = endpoint;
        tx.insert_app_event(row);
      }
      tx.wrote_app_events = true;
    }
  }
  return true;
}

std::vector<std::int64_t> transcript_offsets(const std::vector<TranscriptFile>& files) {
  std::vector<std::int64_t> out;
  constexpr std::int64_t kNsPerMs = 1'000'000;
  for (std::size_t i = 0; i < files.size(); ++i) {
    if (i == 0) {
      out.push_back(0);
      continue;
    }
    const auto& first = files.front();
    std::int64_t offset = 0;
    if (first.start_time && files[i].start_time && *files[i].start_time >= *first.start_time) {
      offset = core::sat_sub(*files[i].start_time, *first.start_time) / kNsPerMs;
    } else {
      offset = core::sat_add(out.back(), files[i - 1].duration_ms);
    }
    // Never before the previous file starts.
    out.push_back(std::clamp<std::int64_t>(offset, out.back(), core::kMaxTranscriptMs * 16));
  }
  return out;
}

void MeetingRanker::add(const std::string& call_type, const std::string& call_id,
                        std::int64_t segment_id, double score) {
  auto [it, fresh] = meetings_.try_emplace({call_type, call_id});
  auto& m = it->second;
  if (fresh) {
    m.call_type = call_type;
    m.call_id = call_id;
    m.score = score;
  }
  ++m.count;
  m.score = std::min(m.score, score);
  const std::pair<double, std::int64_t> entry{score, segment_id};
  if (m.best.size() < per_meeting_ || entry < m.best.back()) {
    m.best.insert(std::upper_bound(m.best.begin(), m.best.end(), entry), entry);
    if (m.best.size() > per_meeting_) m.best.pop_back();
  }
}

RankedPage MeetingRanker::page(std::size_t offset, std::size_t limit) {
  std::vector<RankedMeeting*> order;
  order.reserve(meetings_.size());
  for (auto& [key, m] : meetings_) order.push_back(&m);
  std::sort(order.begin(), order.end(), [](const RankedMeeting* a, const RankedMeeting* b) {
    return std::make_tuple(a->score, -a->count, std::cref(a->call_type), std::cref(a->call_id)) <
           std::make_tuple(b->score, -b->count, std::cref(b->call_type), std::cref(b->call_id));
  });
  RankedPage page;
  if (offset >= order.size()) return page;
  const auto end = std::min(order.size(), offset + limit);
  page.more = end < order.size();
  for (auto i = offset; i < end; ++i) page.meetings.push_back(std::move(*order[i]));
  return page;
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
