// PostgreSQL backend: a small pool of libpq connections, one per pool thread, so no store call
// blocks an I/O thread. Transactions that touch the same call are serialised across replicas
// with an advisory lock; the inbox's primary key makes a concurrent duplicate wait, then see
// the first delivery. Webhook deliveries are committed in batches (group commit, as the SQLite
// backend does): one transaction, one WAL flush, for the deliveries that wait together.
#include <libpq-fe.h>

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/checked.hpp"
#include "server/store/blocking_pool.hpp"
#include "server/store/postgres/postgres_store.hpp"
#include "server/store/store_tx.hpp"

namespace streamgate::server {
namespace {

std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }

struct PgError : StoreUnavailable {
  PgError(const std::string& what, std::string state)
      : StoreUnavailable(what), sqlstate(std::move(state)) {}
  std::string sqlstate;
};

class Result {
 public:
  explicit Result(PGresult* r) : r_(r) {}
  ~Result() { PQclear(r_); }
  Result(const Result&) = delete;
  Result(Result&& o) noexcept : r_(std::exchange(o.r_, nullptr)) {}
  PGresult* get() const { return r_; }
  int rows() const { return PQntuples(r_); }
  std::string text(int row, int col) const {
    return std::string(PQgetvalue(r_, row, col),
                       static_cast<std::size_t>(PQgetlength(r_, row, col)));
  }
  std::int64_t int64(int row, int col) const {
    return core::parse_int64(text(row, col)).value_or(0);
  }
  // A stored time, range-checked like any other input (NULL or out of range: none).
  std::optional<core::Nanos> time(int row, int col) const {
    if (PQgetisnull(r_, row, col)) return std::nullopt;
    const auto v = core::parse_int64(text(row, col));
    return v ? core::checked_unix_nanos(*v) : std::nullopt;
  }
  std::string affected() const { return PQcmdTuples(r_); }

 private:
  PGresult* r_;
};

// One libpq connection. Every statement runs against a client-side deadline (arm()): a server
// that stops answering (paused, or a network that drops packets) cannot hold a pool thread, and
// its server-side timeouts would never fire. A statement past its deadline throws
// StoreUnavailable and closes the connection; the next call opens a fresh one.
// libpq's messages end in a newline.
std::string trimmed(std::string msg) {
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
  return msg;
}

class Conn {
 public:
  using Clock = std::chrono::steady_clock;

  Conn(const std::string& url, std::chrono::milliseconds connect_budget) {
    // connect_timeout (whole seconds, at least 2) bounds the TCP connect and the start-up
    // exchange, which a paused server accepts and never answers.
    const auto seconds = std::max<std::int64_t>(2, (connect_budget.count() + 999) / 1000);
    const std::string timeout = std::to_string(seconds);
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url.c_str(), timeout.c_str(), nullptr};
    c_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(c_) != CONNECTION_OK) {
      const std::string msg = trimmed(PQerrorMessage(c_));
      close();
      throw StoreUnavailable("PostgreSQL connection failed: " + msg);
    }
    // Server notices ("relation already exists, skipping") are not ours to print.
    PQsetNoticeProcessor(
        c_, [](void*, const char*) {}, nullptr);
    if (PQsetnonblocking(c_, 1) != 0) throw StoreUnavailable("PostgreSQL: no non-blocking mode");
  }
  ~Conn() { close(); }
  bool ok() const { return c_ && PQstatus(c_) == CONNECTION_OK; }

  // The time the statements from now on have, together.
  void arm(std::chrono::milliseconds budget) { deadline_ = Clock::now() + budget; }

  Result exec(const char* sql, std::initializer_list<std::string_view> params = {}) {
    return exec(sql, std::vector<std::string>(params.begin(), params.end()));
  }
  Result exec(const char* sql, const std::vector<std::string>& owned) {  // NUL-terminated
    return run(sql, owned, nullptr);
  }

  // The same, as a statement prepared once on this connection (parsed and planned once): for
  // the small point statements that run for every delivery. A fixed number per connection; past
  // it, statements run unprepared.
  Result prepared(const char* sql, std::initializer_list<std::string_view> params) {
    prepare(sql, static_cast<int>(params.size()));
    const auto it = statements_.find(sql);
    return run(sql, std::vector<std::string>(params.begin(), params.end()),
               it == statements_.end() ? nullptr : it->second.c_str());
  }

  // A prepared statement whose answer nobody waits for (a write inside a batch): sent in
  // pipeline mode and read with the next statement that waits (run() syncs first), so that a
  // delivery's writes cost no round trip of their own. An error in one of them surfaces there.
  void defer(const char* sql, std::initializer_list<std::string_view> params) {
    if (!pipelining_) prepare(sql, static_cast<int>(params.size()));  // (a round trip, once)
    if (!ok()) throw StoreUnavailable("PostgreSQL connection lost");
    if (!pipelining_) {
      if (!PQenterPipelineMode(c_)) fail_connection("PostgreSQL: " + error_message());
      pipelining_ = true;
    }
    const std::vector<std::string> owned(params.begin(), params.end());
    std::vector<const char*> values;
    for (const auto& p : owned) values.push_back(p.c_str());
    const int n = static_cast<int>(values.size());
    const auto it = statements_.find(sql);
    // (Not prepared: the cache is full, or the statement is new in the middle of a pipeline.)
    const int sent =
        it != statements_.end()
            ? PQsendQueryPrepared(c_, it->second.c_str(), n, values.data(), nullptr, nullptr, 0)
            : PQsendQueryParams(c_, sql, n, nullptr, values.data(), nullptr, nullptr, 0);
    if (!sent) fail_connection("PostgreSQL: " + error_message());
    ++deferred_;
  }

  // Prepares the statement on this connection unless it is (or the cache is full).
  void prepare(const char* sql, int params) {
    if (statements_.count(sql) != 0 || statements_.size() >= kMaxPrepared) return;
    if (!ok()) throw StoreUnavailable("PostgreSQL connection lost");
    sync();
    const std::string name = "sg" + std::to_string(statements_.size());
    if (!PQsendPrepare(c_, name.c_str(), sql, params, nullptr))
      fail_connection("PostgreSQL: " + error_message());
    finish();  // throws the statement's error (the name is then not recorded)
    statements_.emplace(sql, name);
  }

  // Reads the answers to the deferred statements and leaves pipeline mode; throws the first
  // error among them. With `answers`, each statement's result is kept there, in sent order.
  void sync(std::vector<Result>* answers = nullptr) {
    if (!pipelining_) return;
    if (!PQpipelineSync(c_)) fail_connection("PostgreSQL: " + error_message());
    flush();
    std::optional<PgError> error;
    std::size_t ends = 0;  // one NULL ends each statement's results
    for (;;) {
      read_until_idle();
      PGresult* raw = PQgetResult(c_);
      if (raw == nullptr) {
        if (++ends > deferred_ + 1) fail_connection("PostgreSQL: pipeline out of step");
        continue;
      }
      Result r(raw);
      const auto st = PQresultStatus(raw);
      if (st == PGRES_PIPELINE_SYNC) break;
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (!error) {
          const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
          error.emplace("PostgreSQL: " + trimmed(PQresultErrorMessage(raw)), state ? state : "");
        }
      } else if (answers != nullptr) {
        answers->push_back(std::move(r));
      }
    }
    if (!PQexitPipelineMode(c_)) fail_connection("PostgreSQL: " + error_message());
    pipelining_ = false;
    deferred_ = 0;
    if (error) throw *error;
  }

  // False when an idle connection has anything to read: a server closing it (a restart, an
  // administrator) sends its reason and hangs up, and nothing else arrives unasked on a
  // connection that does not LISTEN. Checked before a connection is reused, without a round
  // trip, so that the first statement after a restart does not fail on it.
  bool still_open() {
    if (!ok()) return false;
    pollfd p{PQsocket(c_), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0;
  }

 private:
  static constexpr std::size_t kMaxPrepared = 64;

  Result run(const char* sql, const std::vector<std::string>& owned, const char* statement) {
    if (!ok()) throw StoreUnavailable("PostgreSQL connection lost");
    sync();
    std::vector<const char*> values;
    for (const auto& p : owned) values.push_back(p.c_str());
    const int n = static_cast<int>(values.size());
    // Without parameters, the simple protocol (which also runs multi-statement migrations).
    const int sent = statement != nullptr
                         ? PQsendQueryPrepared(c_, statement, n, values.data(), nullptr, nullptr, 0)
                     : values.empty() ? PQsendQuery(c_, sql)
                                      : PQsendQueryParams(c_, sql, n, nullptr, values.data(),
                                                          nullptr, nullptr, 0);
    if (!sent) fail_connection("PostgreSQL: " + error_message());
    return finish();
  }

  void flush() {
    for (;;) {  // send what libpq buffered
      const int f = PQflush(c_);
      if (f == 0) break;
      if (f < 0) fail_connection("PostgreSQL: " + error_message());
      wait_for(POLLOUT);
    }
  }

  // Sends what libpq buffered and collects the answer to the query sent.
  Result finish() {
    flush();
    read_until_idle();
    // A multi-statement query has a result per statement: the first error, else the last.
    std::optional<Result> last;
    std::optional<PgError> error;
    while (PGresult* raw = PQgetResult(c_)) {
      Result r(raw);
      const auto st = PQresultStatus(raw);
      if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (!error) {
          const char* state = PQresultErrorField(raw, PG_DIAG_SQLSTATE);
          error.emplace("PostgreSQL: " + trimmed(PQresultErrorMessage(raw)), state ? state : "");
        }
      } else {
        last.emplace(std::move(r));
      }
      read_until_idle();
    }
    if (error) throw *error;
    if (!last) throw StoreUnavailable("PostgreSQL: no result");
    return std::move(*last);
  }

  std::string error_message() const { return c_ ? trimmed(PQerrorMessage(c_)) : std::string(); }
  // Reads until libpq holds the next result whole (or there is none), within the deadline.
  void read_until_idle() {
    while (PQisBusy(c_)) {
      wait_for(POLLIN);
      if (!PQconsumeInput(c_)) fail_connection("PostgreSQL: " + error_message());
    }
  }
  void close() {
    if (c_) PQfinish(c_);
    c_ = nullptr;
    pipelining_ = false;
    deferred_ = 0;
  }
  [[noreturn]] void fail_connection(const std::string& why) {
    close();
    throw StoreUnavailable(why);
  }
  // Waits until the socket is ready for `events`, or fails the connection at the deadline.
  void wait_for(short events) {
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now()).count();
      if (left <= 0) fail_connection("PostgreSQL did not answer in time");
      pollfd p{PQsocket(c_), events, 0};
      const int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, 60'000)));
      if (r > 0) return;
      if (r < 0 && errno != EINTR) fail_connection("PostgreSQL: poll failed");
    }
  }

  PGconn* c_ = nullptr;
  std::unordered_map<std::string, std::string> statements_;  // SQL text -> prepared name
  bool pipelining_ = false;
  std::size_t deferred_ = 0;  // statements sent in pipeline mode, not yet read
  Clock::time_point deadline_ = Clock::now() + std::chrono::seconds(60);
};

constexpr const char* kMigrations[] = {
    "CREATE TABLE meetings ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL,"
    "  created_by TEXT NOT NULL DEFAULT '',"
    "  document TEXT NOT NULL,"
    "  updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (call_type, call_id));"
    "CREATE TABLE webhook_inbox ("
    "  webhook_id TEXT PRIMARY KEY,"
    "  event_type TEXT NOT NULL,"
    "  call_type TEXT NOT NULL DEFAULT '', call_id TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL,"
    "  received_at BIGINT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  updated_at BIGINT NOT NULL);"
    "CREATE INDEX webhook_inbox_failed ON webhook_inbox (received_at) WHERE status = 'failed';",
    "ALTER TABLE meetings ADD COLUMN status TEXT NOT NULL DEFAULT 'created';"
    "ALTER TABLE meetings ADD COLUMN recording_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE meetings ADD COLUMN reconciled_at BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX meetings_stale ON meetings (status, updated_at);",
    "CREATE TABLE meeting_sessions ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, session_id TEXT NOT NULL,"
    "  started_at BIGINT, ended_at BIGINT,"
    "  PRIMARY KEY (call_type, call_id, session_id));",
    // 4: the meeting list and the outbox of app events (as in the SQLite backend).
    "ALTER TABLE meetings ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;"
    "CREATE INDEX meetings_list ON meetings (created_at, call_type, call_id);"
    "CREATE INDEX meetings_list_status ON meetings (status, created_at, call_type, call_id);"
    "CREATE TABLE meeting_index ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  created_at BIGINT NOT NULL, status TEXT NOT NULL,"
    "  PRIMARY KEY (call_type, call_id, user_id));"
    "CREATE INDEX meeting_index_user ON meeting_index (user_id, created_at, call_type, call_id);"
    "CREATE INDEX meeting_index_user_status ON meeting_index"
    "  (user_id, status, created_at, call_type, call_id);"
    "CREATE TABLE app_events ("
    "  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  id TEXT NOT NULL, event_type TEXT NOT NULL,"
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL, payload TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at BIGINT NOT NULL,"
    "  lease_until BIGINT NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  UNIQUE (id, endpoint));"
    "CREATE INDEX app_events_due ON app_events (next_attempt_at) WHERE status = 'pending';"
    "CREATE INDEX app_events_status ON app_events (status, seq);"
    "CREATE INDEX app_events_order ON app_events (call_type, call_id, endpoint, seq)"
    "  WHERE status = 'pending';",
    // 5: transcripts (as in the SQLite backend); the search index is a generated tsvector with a
    // GIN index ('simple': lower-cased words, no stemming, as SQLite's unicode61).
    "CREATE TABLE transcripts ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, file TEXT NOT NULL,"
    "  url TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at BIGINT NOT NULL,"
    "  lease_until BIGINT NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  segment_count BIGINT NOT NULL DEFAULT 0, speaker_count BIGINT NOT NULL DEFAULT 0,"
    "  malformed_lines BIGINT NOT NULL DEFAULT 0, bytes BIGINT NOT NULL DEFAULT 0,"
    "  duration_ms BIGINT NOT NULL DEFAULT 0, start_time BIGINT, fetched_at BIGINT,"
    "  created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    "  PRIMARY KEY (call_type, call_id, file));"
    "CREATE INDEX transcripts_due ON transcripts (next_attempt_at) WHERE status = 'pending';"
    "CREATE TABLE transcript_segments ("
    "  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, file TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, speaker_id TEXT NOT NULL,"
    "  start_ms BIGINT NOT NULL, end_ms BIGINT NOT NULL, text TEXT NOT NULL,"
    "  tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED);"
    "CREATE INDEX transcript_segments_file ON transcript_segments (call_type, call_id, file, seq);"
    "CREATE INDEX transcript_segments_tsv ON transcript_segments USING GIN (tsv);",
};
constexpr std::int64_t kBackfillIndexVersion = 4;

constexpr const char* kTranscriptColumns =
    "call_type, call_id, file, url, status, attempts, step, next_attempt_at, last_error, "
    "segment_count, speaker_count, malformed_lines, bytes, duration_ms, start_time, fetched_at";

constexpr const char* kAppEventColumns =
    "seq, id, event_type, call_type, call_id, endpoint, payload, status, attempts, step, "
    "next_attempt_at, created_at, last_error";

std::string str(std::int64_t v) { return std::to_string(v); }

// A text[] literal for one array parameter: every element quoted, its quotes and backslashes
// escaped.
std::string pg_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char ch : item) {
      if (ch == '"' || ch == '\\') out += '\\';
      out += ch;
    }
    out += '"';
  }
  out += '}';
  return out;
}

class PgTx final : public Tx {
 public:
  explicit PgTx(Conn& c) : c_(c) {}
  static constexpr const char* kInsertInbox =
      "INSERT INTO webhook_inbox (webhook_id, event_type, call_type, call_id, body, received_at, "
      "status, error, attempts, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,1,$9) "
      "ON CONFLICT (webhook_id) DO NOTHING";
  static constexpr const char* kLoadMeeting =
      "SELECT document FROM meetings WHERE call_type = $1 AND call_id = $2";

  bool insert_inbox(const InboxEvent& e, std::string_view status, std::string_view error) override {
    if (auto it = inserted_.find(e.webhook_id); it != inserted_.end() && !it->second.empty()) {
      const bool fresh = it->second.front();
      it->second.pop_front();
      return fresh;
    }
    const auto r = c_.prepared(
        kInsertInbox, {e.webhook_id, e.type, e.call_type, e.call_id, e.body,
                       std::to_string(e.received_at_ns), status, error, std::to_string(now_ns())});
    return r.affected() == "1";
  }

  // A batch's reads in one round trip: each delivery's inbox row (inserted as `applied`, as
  // record_webhook_tx does first) and the stored meeting of each call it touches. The calls'
  // locks are held, so nothing else changes them; a meeting this transaction writes is read
  // from the database again (see load_meeting).
  void prefetch(const std::vector<const InboxEvent*>& events) {
    const std::string now = std::to_string(now_ns());
    std::vector<std::string> calls;
    for (const InboxEvent* e : events) {
      c_.defer(kInsertInbox, {e->webhook_id, e->type, e->call_type, e->call_id, e->body,
                              std::to_string(e->received_at_ns), "applied", "", now});
      if (e->call_type.empty() || e->call_id.empty()) continue;
      std::string key = e->call_type + ":" + e->call_id;
      if (std::find(calls.begin(), calls.end(), key) != calls.end()) continue;
      c_.defer(kLoadMeeting, {e->call_type, e->call_id});
      calls.push_back(std::move(key));
    }
    std::vector<Result> answers;
    c_.sync(&answers);
    if (answers.size() != events.size() + calls.size())
      throw StoreUnavailable("PostgreSQL: pipeline out of step");
    std::size_t next = 0;
    for (const InboxEvent* e : events) {
      inserted_[e->webhook_id].push_back(answers[next++].affected() == "1");
      if (e->call_type.empty() || e->call_id.empty()) continue;
      std::string key = e->call_type + ":" + e->call_id;
      if (documents_.count(key) != 0) continue;
      const Result& r = answers[next++];
      documents_.emplace(std::move(key),
                         r.rows() == 0 ? std::nullopt : std::optional<std::string>(r.text(0, 0)));
    }
  }
  void update_inbox(const std::string& id, std::string_view status, std::string_view error,
                    bool count) override {
    write(
        "UPDATE webhook_inbox SET status = $1, error = $2, attempts = attempts + $3, updated_at = "
        "$4 "
        "WHERE webhook_id = $5",
        {status, error, count ? "1" : "0", std::to_string(now_ns()), id});
  }
  void lock_call(const std::string& type, const std::string& id) override {
    std::string key = type + ":" + id;
    if (locked_.count(key) != 0) return;  // held until this transaction ends
    c_.prepared("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", {key});
    // A lock taken inside a savepoint goes with its rollback: not remembered.
    if (!in_savepoint) locked_.insert(std::move(key));
  }
  bool in_savepoint = false;
  // Inside a batch's first run, writes whose answer is not needed are pipelined (Conn::defer):
  // any error makes the batch run again without it, a savepoint around each delivery.
  bool defer_writes = false;
  void write(const char* sql, std::initializer_list<std::string_view> params) {
    if (defer_writes)
      c_.defer(sql, params);
    else
      c_.prepared(sql, params);
  }
  // A batch takes its calls' locks up front (PostgresStore::commit_batch).
  void locked(std::string key) { locked_.insert(std::move(key)); }
  std::optional<std::string> load_meeting(const std::string& type, const std::string& id) override {
    if (auto it = documents_.find(type + ":" + id); it != documents_.end()) return it->second;
    const auto r = c_.prepared(kLoadMeeting, {type, id});
    if (r.rows() == 0) return std::nullopt;
    return r.text(0, 0);
  }
  void save_meeting(const core::Meeting& m, const std::string& doc) override {
    documents_.erase(m.call_type + ":" + m.call_id);  // read again from now on
    write(
        "INSERT INTO meetings (call_type, call_id, created_by, document, updated_at, status, "
        "recording_count, created_at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (call_type, call_id) DO UPDATE SET "
        "created_by = EXCLUDED.created_by, document = EXCLUDED.document, updated_at = "
        "EXCLUDED.updated_at, "
        "status = EXCLUDED.status, recording_count = EXCLUDED.recording_count, "
        "created_at = EXCLUDED.created_at",
        {m.call_type, m.call_id, m.created_by, doc,
         std::to_string(core::to_unix_nanos(m.updated_at)), core::to_string(m.status()),
         std::to_string(m.recordings.size()), str(meeting_list_time(m))});
  }
  void index_meeting(const core::Meeting& m) override {
    write("DELETE FROM meeting_index WHERE call_type = $1 AND call_id = $2",
          {m.call_type, m.call_id});
    const auto users = meeting_list_users(m);
    if (users.empty()) return;
    // One statement for every user: the members arrive as one array parameter.
    write(
        "INSERT INTO meeting_index (call_type, call_id, user_id, created_at, status) "
        "SELECT $1, $2, u, $3, $4 FROM unnest($5::text[]) AS u",
        {m.call_type, m.call_id, str(meeting_list_time(m)), core::to_string(m.status()),
         pg_text_array(users)});
  }
  void insert_app_event(const AppEventRow& r) override {
    write(
        "INSERT INTO app_events (id, event_type, call_type, call_id, endpoint, payload, "
        "next_attempt_at, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$7) "
        "ON CONFLICT (id, endpoint) DO NOTHING",
        {r.id, r.type, r.call_type, r.call_id, r.endpoint, r.payload, str(r.created_at)});
  }
  std::vector<std::pair<std::pair<std::string, std::string>, std::string>> meeting_page(
      const std::string& type, const std::string& id, std::size_t limit) override {
    const auto r = c_.exec(
        "SELECT call_type, call_id, document FROM meetings WHERE (call_type, call_id) > ($1, $2) "
        "ORDER BY call_type, call_id LIMIT $3",
        {type, id, std::to_string(limit)});
    std::vector<std::pair<std::pair<std::string, std::string>, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({{r.text(i, 0), r.text(i, 1)}, r.text(i, 2)});
    return out;
  }
  MeetingPage list_meetings(const MeetingListQuery& q) {
    std::vector<std::string> params;
    const auto param = [&](std::string v) {
      params.push_back(std::move(v));
      std::string placeholder(1, '$');  // (not "$" + ...: gcc 12 warns falsely on that)
      placeholder += std::to_string(params.size());
      return placeholder;
    };
    const std::string p = q.all ? "" : "i.";
    std::string sql = q.all ? "SELECT document, call_type, call_id, created_at FROM meetings "
                              "WHERE true"
                            : "SELECT m.document, i.call_type, i.call_id, i.created_at FROM "
                              "meeting_index i JOIN meetings m ON m.call_type = i.call_type AND "
                              "m.call_id = i.call_id WHERE i.user_id = " +
                                  param(q.user_id);
    if (!q.status.empty()) sql += " AND " + p + "status = " + param(q.status);
    if (q.after) {
      sql += " AND (" + p + "created_at, " + p + "call_type, " + p + "call_id) < (" +
             param(str(q.after->created_at)) + "::BIGINT, ";
      sql += param(q.after->call_type) + ", " + param(q.after->call_id) + ")";
    }
    sql += " ORDER BY " + p + "created_at DESC, " + p + "call_type DESC, " + p +
           "call_id DESC LIMIT " + param(std::to_string(q.limit + 1));
    const auto r = c_.exec(sql.c_str(), params);
    MeetingPage page;
    for (int i = 0; i < r.rows(); ++i) {
      if (static_cast<std::size_t>(i) == q.limit) {
        page.next = MeetingCursor{r.int64(i - 1, 3), r.text(i - 1, 1), r.text(i - 1, 2)};
        break;
      }
      try {
        auto m = meeting_from_document(r.text(i, 0));
        m.call_type = r.text(i, 1);
        m.call_id = r.text(i, 2);
        page.meetings.push_back(std::move(m));
      } catch (const StoreUnavailable&) {
        // A damaged document is left out of the list (GET of that call answers for it).
      }
    }
    return page;
  }
  void upsert_transcript_job(const TranscriptFile& j) override {
    c_.exec(
        "INSERT INTO transcripts (call_type, call_id, file, url, next_attempt_at, start_time, "
        "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, NULLIF($6, '')::BIGINT, $7, $7) "
        "ON CONFLICT (call_type, call_id, file) DO UPDATE SET url = excluded.url, "
        "status = 'pending', step = 0, next_attempt_at = excluded.next_attempt_at, "
        "updated_at = excluded.updated_at WHERE transcripts.status <> 'ready' AND "
        "transcripts.url <> excluded.url",
        {j.call_type, j.call_id, j.file, j.url, str(j.next_attempt_at),
         j.start_time ? str(*j.start_time) : std::string(), str(now_ns())});
  }
  bool transcript_leased(const std::string& type, const std::string& id, const std::string& file,
                         const std::string& owner) override {
    return c_.exec(
                 "SELECT 1 FROM transcripts WHERE call_type = $1 AND call_id = $2 AND file = $3 "
                 "AND status = 'pending' AND lease_owner = $4 FOR UPDATE",
                 {type, id, file, owner})
               .rows() == 1;
  }
  std::pair<std::int64_t, std::int64_t> replace_transcript_segments(
      const TranscriptContent& c) override {
    c_.exec("DELETE FROM transcript_segments WHERE call_type = $1 AND call_id = $2 AND file = $3",
            {c.call_type, c.call_id, c.file});
    // Many rows per statement (8 parameters each), so a long meeting is a few round trips.
    constexpr std::size_t kRows = 500;
    for (std::size_t at = 0; at < c.segments.size(); at += kRows) {
      const auto end = std::min(c.segments.size(), at + kRows);
      std::string sql =
          "INSERT INTO transcript_segments (call_type, call_id, file, seq, speaker_id, start_ms, "
          "end_ms, text) VALUES ";
      std::vector<std::string> params;
      params.reserve((end - at) * 8);
      for (std::size_t i = at; i < end; ++i) {
        const auto n = params.size();
        if (i > at) sql += ',';
        sql += "($" + std::to_string(n + 1);
        for (std::size_t k = 2; k <= 8; ++k) sql += ",$" + std::to_string(n + k);
        sql += ')';
        const auto& seg = c.segments[i];
        params.insert(params.end(), {c.call_type, c.call_id, c.file, std::to_string(i),
                                     seg.speaker_id, str(seg.start_ms), str(seg.end_ms), seg.text});
      }
      c_.exec(sql.c_str(), params);
    }
    return {0, 0};  // search selects by the caller's meetings instead (see search())
  }
  void mark_transcript_ready(const TranscriptFile& f) override {
    c_.exec(
        "UPDATE transcripts SET status = 'ready', attempts = attempts + 1, last_error = '', "
        "segment_count = $1, speaker_count = $2, malformed_lines = $3, bytes = $4, "
        "duration_ms = $5, fetched_at = $6, lease_until = 0, lease_owner = '', updated_at = $7 "
        "WHERE call_type = $8 AND call_id = $9 AND file = $10",
        {str(f.segment_count), str(f.speaker_count), str(f.malformed_lines), str(f.bytes),
         str(f.duration_ms), str(f.fetched_at.value_or(0)), str(now_ns()), f.call_type, f.call_id,
         f.file});
  }
  std::vector<TranscriptFile> claim_transcripts(const TranscriptClaim& c) {
    const auto r = c_.exec(
        (std::string("UPDATE transcripts SET lease_until = $1, lease_owner = $2 WHERE "
                     "(call_type, call_id, file) IN (SELECT call_type, call_id, file FROM "
                     "transcripts WHERE status = 'pending' AND next_attempt_at <= $3 AND "
                     "lease_until <= $3 ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) "
                     "RETURNING ") +
         kTranscriptColumns)
            .c_str(),
        {str(c.lease_until), c.owner, str(c.now), std::to_string(c.limit)});
    std::vector<TranscriptFile> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_transcript(r, i));
    return out;
  }
  bool finish_transcript(const TranscriptOutcome& o) {
    if (o.status == "released")
      return c_.exec(
                   "UPDATE transcripts SET lease_until = 0, lease_owner = '' WHERE call_type = $1 "
                   "AND call_id = $2 AND file = $3 AND lease_owner = $4 AND status = 'pending'",
                   {o.call_type, o.call_id, o.file, o.owner})
                 .affected() == "1";
    return c_.exec(
                 "UPDATE transcripts SET status = $1, attempts = attempts + 1, step = $2, "
                 "next_attempt_at = $3, last_error = $4, url = COALESCE(NULLIF($5, ''), url), "
                 "lease_until = 0, lease_owner = '', updated_at = $6 WHERE call_type = $7 AND "
                 "call_id = $8 AND file = $9 AND lease_owner = $10 AND status = 'pending'",
                 {o.status, str(o.step), str(o.next_attempt_at), o.error, o.url, str(now_ns()),
                  o.call_type, o.call_id, o.file, o.owner})
               .affected() == "1";
  }
  std::vector<TranscriptFile> transcript_files(const std::string& type, const std::string& id) {
    const auto r = c_.exec((std::string("SELECT ") + kTranscriptColumns +
                            " FROM transcripts WHERE call_type = $1 AND call_id = $2 "
                            "ORDER BY start_time IS NULL, start_time, file")
                               .c_str(),
                           {type, id});
    std::vector<TranscriptFile> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_transcript(r, i));
    return out;
  }
  TranscriptView transcript(const std::string& type, const std::string& id) {
    TranscriptView v;
    v.files = transcript_files(type, id);
    for (const auto& f : v.files) {
      const auto r = c_.exec(
          "SELECT speaker_id, start_ms, end_ms, text FROM transcript_segments WHERE "
          "call_type = $1 AND call_id = $2 AND file = $3 ORDER BY seq",
          {type, id, f.file});
      auto& list = v.segments.emplace_back();
      list.reserve(static_cast<std::size_t>(r.rows()));
      for (int i = 0; i < r.rows(); ++i)
        list.push_back(
            core::TranscriptSegment{r.text(i, 0), r.int64(i, 1), r.int64(i, 2), r.text(i, 3)});
    }
    return v;
  }
  TranscriptSearchPage search(const TranscriptSearch& q) {
    // ts_rank is higher for better matches; negated, so that lower is better as with bm25.
    const std::string query = core::to_tsquery_text(q.query);
    // An admin's search reads the GIN index. A user's with few meetings reads each meeting's
    // segments by the file index and checks them against the query (OFFSET 0 keeps that
    // subquery per meeting, whatever the statistics say); with many, the planner chooses.
    constexpr int kPerMeetingLimit = 256;
    bool per_meeting = false;
    if (!q.all) {
      const auto n = c_.exec(
          "SELECT count(*) FROM (SELECT 1 FROM meeting_index WHERE user_id = $1 LIMIT $2) x",
          {q.user_id, std::to_string(kPerMeetingLimit + 1)});
      per_meeting = n.int64(0, 0) <= kPerMeetingLimit;
    }
    const std::string sql =
        q.all ? "SELECT s.call_type, s.call_id, s.id, -ts_rank(s.tsv, q) FROM "
                "transcript_segments s, to_tsquery('simple', $1) q WHERE s.tsv @@ q"
        : per_meeting
            ? "SELECT i.call_type, i.call_id, s.id, s.score FROM meeting_index i, "
              "to_tsquery('simple', $1) q, LATERAL (SELECT x.id, -ts_rank(x.tsv, q) AS score "
              "FROM transcript_segments x WHERE x.call_type = i.call_type AND "
              "x.call_id = i.call_id AND x.tsv @@ q OFFSET 0) s WHERE i.user_id = $2"
            : "SELECT s.call_type, s.call_id, s.id, -ts_rank(s.tsv, q) FROM meeting_index i "
              "JOIN transcript_segments s ON s.call_type = i.call_type AND "
              "s.call_id = i.call_id, to_tsquery('simple', $1) q WHERE i.user_id = $2 AND "
              "s.tsv @@ q";
    const auto r = q.all ? c_.exec(sql.c_str(), {query}) : c_.exec(sql.c_str(), {query, q.user_id});
    MeetingRanker ranker(q.matches_per_meeting);
    for (int i = 0; i < r.rows(); ++i) {
      const double score = std::strtod(PQgetvalue(r.get(), i, 3), nullptr);
      ranker.add(r.text(i, 0), r.text(i, 1), r.int64(i, 2), score);
    }
    auto page = ranker.page(q.offset, q.limit);
    TranscriptSearchPage out;
    out.more = page.more;
    for (auto& ranked : page.meetings) {
      auto doc = load_meeting(ranked.call_type, ranked.call_id);
      if (!doc) continue;
      TranscriptHit hit;
      try {
        hit.meeting = meeting_from_document(*doc);
      } catch (const StoreUnavailable&) {
        continue;  // a damaged document is left out
      }
      hit.meeting.call_type = ranked.call_type;
      hit.meeting.call_id = ranked.call_id;
      hit.matching_segments = ranked.count;
      std::string ids = "{";
      for (const auto& [score, id] : ranked.best) ids += (ids.size() > 1 ? "," : "") + str(id);
      ids += "}";
      const auto m = c_.exec(
          "SELECT s.id, s.file, s.speaker_id, s.start_ms, s.end_ms, ts_headline('simple', s.text, "
          "to_tsquery('simple', $1), 'HighlightAll=true, StartSel=' || chr(1) || ', StopSel=' || "
          "chr(2)) FROM transcript_segments s WHERE s.id = ANY($2::BIGINT[])",
          {query, ids});
      for (const auto& [score, id] : ranked.best)
        for (int i = 0; i < m.rows(); ++i)
          if (m.int64(i, 0) == id)
            hit.matches.push_back(TranscriptMatch{m.text(i, 1), m.text(i, 2), m.int64(i, 3),
                                                  m.int64(i, 4), m.text(i, 5)});
      hit.files = transcript_files(ranked.call_type, ranked.call_id);
      out.hits.push_back(std::move(hit));
    }
    return out;
  }
  std::vector<AppEventRecord> claim_app_events(const AppEventClaim& c) {
    // SKIP LOCKED: replicas claiming at the same moment take different events; the lease keeps
    // them apart until the attempt is finished, and frees a dead replica's events.
    const auto r = c_.exec(
        (std::string("UPDATE app_events SET lease_until = $1, lease_owner = $2 WHERE seq IN ("
                     " SELECT seq FROM app_events e WHERE e.status = 'pending' AND "
                     "e.next_attempt_at <= $3 AND e.lease_until <= $3 AND NOT EXISTS ("
                     "SELECT 1 FROM app_events p WHERE p.call_type = e.call_type AND "
                     "p.call_id = e.call_id AND p.endpoint = e.endpoint AND "
                     "p.status = 'pending' AND p.seq < e.seq AND "
                     "(p.next_attempt_at > $3 OR p.lease_until > $3))"
                     " ORDER BY seq LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING ") +
         kAppEventColumns)
            .c_str(),
        {str(c.lease_until), c.owner, str(c.now), std::to_string(c.limit)});
    std::vector<AppEventRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_event(r, i));
    std::sort(out.begin(), out.end(),
              [](const AppEventRecord& a, const AppEventRecord& b) { return a.seq < b.seq; });
    return out;
  }
  bool finish_app_event(const AppEventOutcome& o) {
    if (o.status == "released")
      return c_.exec(
                   "UPDATE app_events SET lease_until = 0, lease_owner = '' WHERE seq = $1 AND "
                   "lease_owner = $2",
                   {str(o.seq), o.owner})
                 .affected() == "1";
    const auto r = c_.exec(
        "UPDATE app_events SET status = $1, attempts = attempts + 1, step = $2, "
        "next_attempt_at = $3, last_error = $4, lease_until = 0, lease_owner = '', "
        "updated_at = $5 WHERE seq = $6 AND lease_owner = $7",
        {o.status, str(o.step), str(o.next_attempt_at), o.error, str(now_ns()), str(o.seq),
         o.owner});
    return r.affected() == "1";
  }
  std::vector<AppEventRecord> list_app_events(const std::string& status, std::int64_t after,
                                              std::size_t limit) {
    const auto r =
        status.empty()
            ? c_.exec((std::string("SELECT ") + kAppEventColumns +
                       " FROM app_events WHERE seq > $1 ORDER BY seq LIMIT $2")
                          .c_str(),
                      {str(after), std::to_string(limit)})
            : c_.exec((std::string("SELECT ") + kAppEventColumns +
                       " FROM app_events WHERE seq > $1 AND status = $3 ORDER BY seq LIMIT $2")
                          .c_str(),
                      {str(after), std::to_string(limit), status});
    std::vector<AppEventRecord> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_event(r, i));
    return out;
  }
  std::int64_t redeliver(const std::string& id, std::int64_t now) {
    const auto r = id.empty() ? c_.exec(
                                    "UPDATE app_events SET status = 'pending', step = 0, "
                                    "next_attempt_at = $1, updated_at = $1 WHERE status = 'failed'",
                                    {str(now)})
                              : c_.exec(
                                    "UPDATE app_events SET status = 'pending', step = 0, "
                                    "next_attempt_at = $1, updated_at = $1 WHERE id = $2",
                                    {str(now), id});
    return core::parse_int64(r.affected()).value_or(0);
  }
  AppEventStats app_event_stats() {
    const auto r =
        c_.exec("SELECT COUNT(*), MIN(created_at) FROM app_events WHERE status = 'pending'");
    AppEventStats st;
    st.pending = r.int64(0, 0);
    if (st.pending > 0) st.oldest_pending_at = r.int64(0, 1);
    return st;
  }
  void archive_sessions(const std::string& type, const std::string& id,
                        const std::vector<core::CallSession>& sessions) override {
    const auto t = [](const std::optional<core::Nanos>& v) {
      return v ? std::optional<std::string>(std::to_string(core::to_unix_nanos(*v))) : std::nullopt;
    };
    for (const auto& session : sessions) {
      const auto started = t(session.started_at);
      const auto ended = t(session.ended_at);
      // NULLIF turns our "absent" marker into SQL NULL.
      write(
          "INSERT INTO meeting_sessions (call_type, call_id, session_id, started_at, ended_at) "
          "VALUES ($1, $2, $3, NULLIF($4, '')::BIGINT, NULLIF($5, '')::BIGINT) "
          "ON CONFLICT (call_type, call_id, session_id) DO UPDATE SET started_at = "
          "EXCLUDED.started_at, "
          "ended_at = EXCLUDED.ended_at",
          {type, id, session.id, started.value_or(""), ended.value_or("")});
    }
  }
  std::optional<core::CallSession> archived_session(const std::string& type, const std::string& id,
                                                    const std::string& session_id) override {
    const auto r = c_.prepared(
        "SELECT started_at, ended_at FROM meeting_sessions WHERE call_type = $1 AND call_id = $2 "
        "AND session_id = $3",
        {type, id, session_id});
    if (r.rows() == 0) return std::nullopt;
    return core::CallSession{session_id, r.time(0, 0), r.time(0, 1)};
  }
  std::vector<std::pair<std::string, std::string>> claim_stale(
      const Store::StaleQuery& q) override {
    // SKIP LOCKED: replicas claiming at the same moment take different meetings.
    const auto r = c_.exec(
        "UPDATE meetings SET reconciled_at = $1 WHERE (call_type, call_id) IN ("
        " SELECT call_type, call_id FROM meetings WHERE reconciled_at < $2 AND ("
        " (status = 'active' AND updated_at < $3) OR"
        " (status = 'processing' AND recording_count = 0 AND updated_at < $4 AND updated_at >= $5))"
        " ORDER BY updated_at LIMIT $6 FOR UPDATE SKIP LOCKED) RETURNING call_type, call_id",
        {std::to_string(q.now), std::to_string(q.retry_before), std::to_string(q.active_before),
         std::to_string(q.processing_before), std::to_string(q.processing_since),
         std::to_string(q.limit)});
    std::vector<std::pair<std::string, std::string>> out;
    for (int i = 0; i < r.rows(); ++i) out.emplace_back(r.text(i, 0), r.text(i, 1));
    return out;
  }
  std::vector<InboxRecord> failed_inbox(const std::vector<std::string>& ids,
                                        std::size_t limit) override {
    std::vector<InboxRecord> out;
    if (!ids.empty()) {
      for (const auto& id : ids)
        if (auto r = inbox(id, false); r && r->status == "failed") out.push_back(std::move(*r));
      return out;
    }
    const auto r = c_.exec(
        "SELECT webhook_id, event_type, call_type, call_id, body, status, error, attempts FROM "
        "webhook_inbox "
        "WHERE status = 'failed' ORDER BY received_at LIMIT $1",
        {std::to_string(limit)});
    for (int i = 0; i < r.rows(); ++i) out.push_back(read(r, i));
    return out;
  }
  std::optional<InboxRecord> inbox(const std::string& id, bool for_update) override {
    const auto r = c_.exec(
        for_update
            ? "SELECT webhook_id, event_type, call_type, call_id, body, status, error, attempts "
              "FROM webhook_inbox WHERE webhook_id = $1 FOR UPDATE"
            : "SELECT webhook_id, event_type, call_type, call_id, body, status, error, attempts "
              "FROM webhook_inbox WHERE webhook_id = $1",
        {id});
    if (r.rows() == 0) return std::nullopt;
    return read(r, 0);
  }

 private:
  static TranscriptFile read_transcript(const Result& r, int i) {
    TranscriptFile f;
    f.call_type = r.text(i, 0);
    f.call_id = r.text(i, 1);
    f.file = r.text(i, 2);
    f.url = r.text(i, 3);
    f.status = r.text(i, 4);
    f.attempts = r.int64(i, 5);
    f.step = r.int64(i, 6);
    f.next_attempt_at = r.int64(i, 7);
    f.error = r.text(i, 8);
    f.segment_count = r.int64(i, 9);
    f.speaker_count = r.int64(i, 10);
    f.malformed_lines = r.int64(i, 11);
    f.bytes = r.int64(i, 12);
    f.duration_ms = r.int64(i, 13);
    if (!PQgetisnull(r.get(), i, 14)) f.start_time = r.int64(i, 14);
    if (!PQgetisnull(r.get(), i, 15)) f.fetched_at = r.int64(i, 15);
    return f;
  }
  static AppEventRecord read_event(const Result& r, int i) {
    AppEventRecord e;
    e.seq = r.int64(i, 0);
    e.id = r.text(i, 1);
    e.type = r.text(i, 2);
    e.call_type = r.text(i, 3);
    e.call_id = r.text(i, 4);
    e.endpoint = r.text(i, 5);
    e.payload = r.text(i, 6);
    e.status = r.text(i, 7);
    e.attempts = r.int64(i, 8);
    e.step = r.int64(i, 9);
    e.next_attempt_at = r.int64(i, 10);
    e.created_at = r.int64(i, 11);
    e.last_error = r.text(i, 12);
    return e;
  }
  static InboxRecord read(const Result& r, int i) {
    return InboxRecord{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3),
                       r.text(i, 4), r.text(i, 5), r.text(i, 6), r.int64(i, 7)};
  }
  Conn& c_;
  std::set<std::string> locked_;  // the calls whose advisory lock this transaction holds
  // From prefetch(): each webhook id's insert outcomes in order, each call's stored document.
  std::map<std::string, std::deque<bool>> inserted_;
  std::map<std::string, std::optional<std::string>> documents_;
};

class PostgresStore final : public Store {
 public:
  PostgresStore(const StoreOptions& o, std::string url)
      : url_(std::move(url)),
        busy_ms_(o.busy_timeout_ms),
        max_batch_(std::max<std::size_t>(1, o.max_batch)),
        queue_limit_(o.queue_limit),
        app_events_(o.app_events),
        transcripts_(o.transcripts) {
    {
      // Migrations may take a while on a big database; they get a minute.
      Conn c(url_, std::chrono::milliseconds(busy_ms_));
      c.arm(std::chrono::seconds(60));
      migrate(c);
    }
    conns_.resize(std::max<std::size_t>(1, o.pool_size));
    // Half the connections at most commit batches; the others stay free for reads and the
    // other writes.
    max_batchers_ = std::max<std::size_t>(1, conns_.size() / 2);
    pool_ = std::make_unique<BlockingPool>(conns_.size(), o.queue_limit,
                                           [this](std::size_t i) { conns_[i].reset(); });
  }
  ~PostgresStore() override { pool_.reset(); }

  std::string backend() const override { return "postgres"; }

  http::Task<InboxOutcome> record_webhook(InboxEvent event, ApplyFn apply) override {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                       void(std::exception_ptr, InboxOutcome)>(
        [this, event = std::move(event), apply = std::move(apply)](auto handler) mutable {
          using Handler = decltype(handler);
          auto h = std::make_shared<Handler>(std::move(handler));
          auto result = std::make_shared<InboxOutcome>(InboxOutcome::failed);
          Delivery d;
          if (!event.call_type.empty() && !event.call_id.empty())
            d.lock_key = event.call_type + ":" + event.call_id;
          d.event = std::make_shared<const InboxEvent>(std::move(event));
          d.run = [e = d.event, apply = std::move(apply), result](Tx& tx) {
            *result = record_webhook_tx(tx, *e, apply);
          };
          d.complete = [h, result](std::exception_ptr ep) {
            auto ex = boost::asio::get_associated_executor(*h);
            boost::asio::post(ex, [h, ep = std::move(ep), result]() { (*h)(ep, *result); });
          };
          enqueue(std::move(d));
        },
        boost::asio::use_awaitable);
  }
  using Store::update_meeting;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string type, std::string id,
                                                          MutateFn mutate,
                                                          std::string session) override {
    return in_tx<std::optional<core::Meeting>>(
        [type, id, mutate = std::move(mutate), session](Tx& tx) {
          return update_meeting_tx(tx, type, id, mutate, session);
        });
  }
  http::Task<std::optional<core::Meeting>> get_meeting(std::string type, std::string id) override {
    return with_conn<std::optional<core::Meeting>>(
        [type, id](Conn& c) -> std::optional<core::Meeting> {
          auto doc = PgTx(c).load_meeting(type, id);
          if (!doc) return std::nullopt;
          return meeting_from_document(*doc);
        });
  }
  http::Task<std::optional<InboxRecord>> get_inbox(std::string id) override {
    return with_conn<std::optional<InboxRecord>>(
        [id](Conn& c) { return PgTx(c).inbox(id, false); });
  }
  http::Task<std::vector<InboxRecord>> failed_inbox(std::vector<std::string> ids,
                                                    std::size_t limit) override {
    return with_conn<std::vector<InboxRecord>>(
        [ids, limit](Conn& c) { return PgTx(c).failed_inbox(ids, limit); });
  }
  http::Task<std::optional<ReplayItem>> replay_one(std::string id, ApplyFactory factory) override {
    return in_tx<std::optional<ReplayItem>>(
        [id, factory](Tx& tx) { return replay_one_tx(tx, id, factory); });
  }
  http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(
      StaleQuery q) override {
    return in_tx<std::vector<std::pair<std::string, std::string>>>(
        [q](Tx& tx) { return tx.claim_stale(q); });
  }

  http::Task<MeetingPage> list_meetings(MeetingListQuery q) override {
    return with_conn<MeetingPage>([q](Conn& c) { return PgTx(c).list_meetings(q); });
  }
  http::Task<std::vector<AppEventRecord>> claim_app_events(AppEventClaim claim) override {
    return in_tx<std::vector<AppEventRecord>>(
        [claim](Tx& tx) { return static_cast<PgTx&>(tx).claim_app_events(claim); });
  }
  http::Task<bool> finish_app_event(AppEventOutcome o) override {
    return with_conn<bool>([o](Conn& c) { return PgTx(c).finish_app_event(o); });
  }
  http::Task<std::vector<AppEventRecord>> list_app_events(std::string status, std::int64_t after,
                                                          std::size_t limit) override {
    return with_conn<std::vector<AppEventRecord>>(
        [status, after, limit](Conn& c) { return PgTx(c).list_app_events(status, after, limit); });
  }
  http::Task<std::int64_t> redeliver_app_events(std::string id, std::int64_t now) override {
    return with_conn<std::int64_t>([id, now](Conn& c) { return PgTx(c).redeliver(id, now); });
  }
  http::Task<AppEventStats> app_event_stats() override {
    return with_conn<AppEventStats>([](Conn& c) { return PgTx(c).app_event_stats(); });
  }

  http::Task<std::vector<TranscriptFile>> claim_transcript_jobs(TranscriptClaim claim) override {
    return in_tx<std::vector<TranscriptFile>>(
        [claim](Tx& tx) { return static_cast<PgTx&>(tx).claim_transcripts(claim); });
  }
  http::Task<bool> finish_transcript_job(TranscriptOutcome o) override {
    return with_conn<bool>([o](Conn& c) { return PgTx(c).finish_transcript(o); });
  }
  http::Task<bool> store_transcript(TranscriptContent content) override {
    auto shared = std::make_shared<const TranscriptContent>(std::move(content));
    return in_tx<bool>([shared](Tx& tx) { return store_transcript_tx(tx, *shared); });
  }
  http::Task<TranscriptView> get_transcript(std::string type, std::string id) override {
    return snapshot<TranscriptView>([type, id](Conn& c) { return PgTx(c).transcript(type, id); });
  }
  http::Task<TranscriptSearchPage> search_transcripts(TranscriptSearch q) override {
    return snapshot<TranscriptSearchPage>([q](Conn& c) { return PgTx(c).search(q); });
  }

  http::Task<bool> ping() override {
    auto probe = with_conn<bool>(
        [](Conn& c) { return c.exec("SELECT 1").rows() == 1; });  // [gcc12-co_await]
    try {
      co_return co_await std::move(probe);
    } catch (const std::exception&) {
    }
    co_return false;
  }

 private:
  static void migrate(Conn& c) {
    c.exec("BEGIN");
    try {
      // Replicas starting together: one migrates, the others wait and find nothing to do.
      c.exec("SELECT pg_advisory_xact_lock(7355608)");
      c.exec(
          "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at "
          "BIGINT NOT NULL)");
      const auto r = c.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      const std::int64_t current = r.int64(0, 0);
      const auto count = static_cast<std::int64_t>(std::size(kMigrations));
      if (current > count)
        throw StoreUnavailable("database schema version " + std::to_string(current) +
                               " is newer than this build");
      for (std::int64_t v = current + 1; v <= count; ++v) {
        c.exec(kMigrations[v - 1]);
        if (v == kBackfillIndexVersion) {
          PgTx tx(c);
          backfill_meeting_index(tx);
        }
        c.exec("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
               {std::to_string(v), std::to_string(now_ns())});
      }
      c.exec("COMMIT");
    } catch (...) {
      try {
        c.exec("ROLLBACK");
      } catch (...) {
      }
      throw;
    }
  }

  Conn& conn(std::size_t worker) {
    auto& c = conns_[worker];
    if (!c || !c->still_open()) {
      c.reset();
      c = std::make_unique<Conn>(url_, std::chrono::milliseconds(busy_ms_));
      c->arm(std::chrono::milliseconds(busy_ms_));
      c->exec(("SET lock_timeout = " + std::to_string(busy_ms_)).c_str());
      c->exec(("SET statement_timeout = " + std::to_string(busy_ms_ * 5)).c_str());
    }
    return *c;
  }

  template <typename R>
  http::Task<R> with_conn(std::function<R(Conn&)> fn) {
    return pool_->run<R>([this, fn = std::move(fn)](std::size_t worker) {
      Conn& c = conn(worker);
      c.arm(std::chrono::milliseconds(busy_ms_));
      return fn(c);
    });
  }

  // Several reads that must agree (a ranking and the rows it names): one read-only snapshot.
  template <typename R>
  http::Task<R> snapshot(std::function<R(Conn&)> fn) {
    return with_conn<R>([fn = std::move(fn)](Conn& c) {
      c.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
      try {
        R result = fn(c);
        c.exec("COMMIT");
        return result;
      } catch (...) {
        try {
          if (c.ok()) c.exec("ROLLBACK");
        } catch (...) {
        }
        throw;
      }
    });
  }

  template <typename R>
  http::Task<R> in_tx(std::function<R(Tx&)> fn) {
    return pool_->run<R>([this, fn = std::move(fn)](std::size_t worker) {
      for (int attempt = 1;; ++attempt) {
        Conn& c = conn(worker);
        c.arm(std::chrono::milliseconds(busy_ms_));
        try {
          c.exec("BEGIN");
          PgTx tx(c);
          tx.app_events = &app_events_;
          tx.transcripts = transcripts_;
          R result = fn(tx);
          c.exec("COMMIT");
          if (tx.wrote_app_events && app_events_.on_written) app_events_.on_written();
          return result;
        } catch (const PgError& e) {
          try {
            if (c.ok()) c.exec("ROLLBACK");
          } catch (...) {
          }
          // Serialisation failure or deadlock: the transaction can simply run again.
          if ((e.sqlstate == "40001" || e.sqlstate == "40P01") && attempt < 3) continue;
          throw;
        } catch (...) {
          try {
            if (c.ok()) c.exec("ROLLBACK");
          } catch (...) {
          }
          throw;
        }
      }
    });
  }

  // Webhook deliveries wait here and are committed in batches by at most max_batchers_ pool
  // threads: while one batch commits, the next gathers. Each delivery runs record_webhook_tx;
  // its 200 waits for the commit that holds it (complete() runs after COMMIT, or with the
  // error that ended the batch).
  struct Delivery {
    std::string lock_key;  // "type:id" of the call it touches, or empty
    std::shared_ptr<const InboxEvent> event;
    std::function<void(Tx&)> run;
    std::function<void(std::exception_ptr)> complete;
  };

  void enqueue(Delivery d) {
    bool start = false;
    {
      std::lock_guard lock(batch_mutex_);
      if (deliveries_.size() >= queue_limit_) {
        // The database is stalled or swamped: refuse at once (see StoreOptions::queue_limit).
        d.complete(std::make_exception_ptr(StoreUnavailable("store queue full")));
        return;
      }
      deliveries_.push_back(std::move(d));
      if (batchers_ < max_batchers_) {
        ++batchers_;
        start = true;
      }
    }
    if (start) start_batcher();
  }

  void start_batcher() {
    if (pool_->try_push([this](std::size_t worker) { drain(worker); })) return;
    // The pool's queue is full: nothing will run the waiting deliveries unless another batcher
    // is at work, so the last one gives them their error.
    std::deque<Delivery> refused;
    {
      std::lock_guard lock(batch_mutex_);
      if (--batchers_ == 0) refused.swap(deliveries_);
    }
    for (auto& d : refused)
      d.complete(std::make_exception_ptr(StoreUnavailable("store queue full")));
  }

  // One batch on this pool thread; then, if more wait, the batcher goes to the back of the
  // pool's queue, so that reads and other writes get their turn on a small pool.
  void drain(std::size_t worker) {
    std::vector<Delivery> batch;
    {
      std::lock_guard lock(batch_mutex_);
      while (!deliveries_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(deliveries_.front()));
        deliveries_.pop_front();
      }
      if (batch.empty()) {
        --batchers_;
        return;
      }
    }
    commit_batch(worker, batch);
    {
      std::lock_guard lock(batch_mutex_);
      if (deliveries_.empty()) {
        --batchers_;
        return;
      }
    }
    start_batcher();
  }

  // Thrown inside a batch run without savepoints when one delivery fails: the batch runs again
  // with a savepoint around each delivery, so that the failure is that delivery's alone.
  struct IsolateFailure {};

  void commit_batch(std::size_t worker, std::vector<Delivery>& batch) {
    // The calls' advisory locks are taken first, all of them, in one order (the lock's hash):
    // two batches can then never wait on each other in a cycle, and a concurrent delivery of
    // the same id (same call) waits at the lock before it reaches the inbox's key.
    std::vector<std::string> keys;
    for (const auto& d : batch)
      if (!d.lock_key.empty()) keys.push_back(d.lock_key);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    const std::string key_array = pg_text_array(keys);
    std::vector<const InboxEvent*> events;
    for (const auto& d : batch) events.push_back(d.event.get());

    std::vector<std::exception_ptr> errors(batch.size());
    std::exception_ptr batch_error;
    bool savepoints = false;
    bool wrote_app_events = false;
    for (int attempt = 1;;) {
      std::fill(errors.begin(), errors.end(), nullptr);
      Conn* conn_used = nullptr;
      try {
        Conn& c = conn(worker);
        conn_used = &c;
        c.arm(std::chrono::milliseconds(busy_ms_));
        c.exec("BEGIN");
        if (!keys.empty())
          c.exec(
              "SELECT count(pg_advisory_xact_lock(h)) FROM (SELECT DISTINCT "
              "hashtextextended(k, 0) AS h FROM unnest($1::text[]) AS k ORDER BY h OFFSET 0) s",
              {key_array});
        PgTx tx(c);
        tx.app_events = &app_events_;
        tx.transcripts = transcripts_;
        for (const auto& key : keys) tx.locked(key);
        tx.in_savepoint = savepoints;
        tx.defer_writes = !savepoints;
        if (!savepoints) {
          try {
            tx.prefetch(events);
          } catch (const PgError& e) {
            if (e.sqlstate == "40001" || e.sqlstate == "40P01") throw;
            throw IsolateFailure{};
          }
        }
        for (std::size_t i = 0; i < batch.size(); ++i) {
          c.arm(std::chrono::milliseconds(busy_ms_));
          if (savepoints) c.exec("SAVEPOINT delivery");
          try {
            batch[i].run(tx);
            if (savepoints) c.exec("RELEASE SAVEPOINT delivery");
          } catch (const PgError& e) {
            if (e.sqlstate == "40001" || e.sqlstate == "40P01") throw;  // the whole batch again
            if (!savepoints) throw IsolateFailure{};
            errors[i] = std::current_exception();
            c.exec("ROLLBACK TO SAVEPOINT delivery");  // throws if the connection is gone
          } catch (const StoreUnavailable&) {
            throw;  // the connection or its deadline: the batch is lost, nothing acknowledged
          } catch (const std::exception&) {
            if (!savepoints) throw IsolateFailure{};
            errors[i] = std::current_exception();
            c.exec("ROLLBACK TO SAVEPOINT delivery");
          }
        }
        if (!savepoints) {
          try {
            c.sync();  // the last deliveries' deferred writes
          } catch (const PgError& e) {
            if (e.sqlstate == "40001" || e.sqlstate == "40P01") throw;
            throw IsolateFailure{};
          }
        }
        c.exec("COMMIT");
        wrote_app_events = tx.wrote_app_events;
        break;
      } catch (const IsolateFailure&) {
        rollback(conn_used);
        savepoints = true;
      } catch (const PgError& e) {
        rollback(conn_used);
        if ((e.sqlstate == "40001" || e.sqlstate == "40P01") && attempt < 3) {
          ++attempt;
          continue;
        }
        batch_error = std::current_exception();
        break;
      } catch (...) {
        rollback(conn_used);
        batch_error = std::current_exception();
        break;
      }
    }
    // The dispatcher is woken before anyone hears of the commit (as in_tx does).
    if (!batch_error && wrote_app_events && app_events_.on_written) app_events_.on_written();
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].complete(batch_error ? batch_error : errors[i]);
  }

  static void rollback(Conn* c) {
    if (c == nullptr) return;
    try {
      c->sync();  // the deferred writes' answers (their errors do not matter now)
    } catch (...) {
    }
    try {
      if (c->ok()) c->exec("ROLLBACK");
    } catch (...) {
    }
  }

  std::string url_;
  int busy_ms_;
  std::size_t max_batch_;
  std::size_t queue_limit_;
  std::size_t max_batchers_ = 1;
  std::mutex batch_mutex_;
  std::deque<Delivery> deliveries_;
  std::size_t batchers_ = 0;
  AppEventOptions app_events_;
  bool transcripts_ = false;
  std::vector<std::unique_ptr<Conn>> conns_;
  std::unique_ptr<BlockingPool> pool_;
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const StoreOptions& options, const std::string& url) {
  return std::make_unique<PostgresStore>(options, url);
}

}  // namespace streamgate::server
