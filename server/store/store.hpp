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
};

// Opens the backend named by the URL and runs the schema migrations. Throws
// std::runtime_error (naming DATABASE_URL, without its password) on failure.
std::unique_ptr<Store> open_store(const StoreOptions& options);

// The stored document of a meeting and back.
std::string meeting_to_document(const core::Meeting& m);
core::Meeting meeting_from_document(const std::string& doc);

}  // namespace streamgate::server
