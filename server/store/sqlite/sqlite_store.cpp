// SQLite backend: WAL, synchronous=FULL (a commit is on disk before it returns), one writer
// thread that commits concurrent transactions together (group commit: one fsync for a batch,
// each job in its own savepoint so one failure does not touch the others), and a pool of
// reader connections.
#include <sqlite3.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>

#include "server/store/blocking_pool.hpp"
#include "server/store/sqlite/sqlite_store.hpp"
#include "server/store/store_tx.hpp"

namespace streamgate::server {
namespace {

std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }

// The search rank of a matching segment: how often the query matched, against the segment's
// length (lower is better, as with bm25). bm25's term rarity would have FTS5 count every segment
// that holds each term on every query (~10 ms per query for a common word over a million
// segments); like PostgreSQL's ts_rank, this reads only the row's own match positions.
void segment_rank(const Fts5ExtensionApi* api, Fts5Context* fts, sqlite3_context* ctx, int,
                  sqlite3_value**) {
  int hits = 0, tokens = 0;
  if (api->xInstCount(fts, &hits) != SQLITE_OK || api->xColumnSize(fts, 0, &tokens) != SQLITE_OK) {
    sqlite3_result_double(ctx, 0.0);
    return;
  }
  sqlite3_result_double(ctx, -static_cast<double>(hits) / (static_cast<double>(tokens) + 8.0));
}

// Registers segment_rank as the FTS5 function sg_rank on a connection.
bool register_rank(sqlite3* db) {
  fts5_api* api = nullptr;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) != SQLITE_OK) return false;
  sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
  sqlite3_step(st);
  sqlite3_finalize(st);
  return api != nullptr &&
         api->xCreateFunction(api, "sg_rank", nullptr, segment_rank, nullptr) == SQLITE_OK;
}

class Db {
 public:
  Db(const std::string& path, int busy_ms, bool readonly) {
    const int flags =
        readonly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (sqlite3_open_v2(path.c_str(), &db_, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
      const std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      throw StoreUnavailable("cannot open SQLite database " + path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, busy_ms);
    sqlite3_extended_result_codes(db_, 1);
    if (!register_rank(db_)) {
      sqlite3_close(db_);
      throw StoreUnavailable("SQLite " + path + ": this SQLite has no FTS5");
    }
  }
  ~Db() { sqlite3_close_v2(db_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* raw() { return db_; }

  void exec(const char* sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
      const std::string msg = err ? err : sqlite3_errmsg(db_);
      sqlite3_free(err);
      throw StoreUnavailable(std::string("SQLite: ") + msg);
    }
  }

 private:
  sqlite3* db_ = nullptr;
};

class Stmt {
 public:
  Stmt(Db& db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db.raw(), sql, -1, &s_, nullptr) != SQLITE_OK)
      throw StoreUnavailable(std::string("SQLite prepare: ") + sqlite3_errmsg(db.raw()));
  }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt& bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& bind_null(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // true: a row is ready; false: done.
  bool step() {
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw StoreUnavailable(std::string("SQLite: ") + sqlite3_errmsg(db_.raw()));
  }
  std::string text(int col) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }
  std::int64_t int64(int col) { return sqlite3_column_int64(s_, col); }
  double real(int col) { return sqlite3_column_double(s_, col); }
  std::optional<std::int64_t> optional_int64(int col) {
    if (sqlite3_column_type(s_, col) != SQLITE_INTEGER) return std::nullopt;
    return sqlite3_column_int64(s_, col);
  }
  // A stored time, range-checked like any other input (NULL or out of range: none).
  std::optional<core::Nanos> time(int col) {
    if (sqlite3_column_type(s_, col) != SQLITE_INTEGER) return std::nullopt;
    return core::checked_unix_nanos(sqlite3_column_int64(s_, col));
  }
  void reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

 private:
  Db& db_;
  sqlite3_stmt* s_ = nullptr;
};

void configure(Db& db, bool writer) {
  db.exec("PRAGMA journal_mode=WAL");
  if (writer) db.exec("PRAGMA synchronous=FULL");
  db.exec("PRAGMA foreign_keys=ON");
}

constexpr const char* kMigrations[] = {
    // 1: meetings and the webhook inbox
    "CREATE TABLE meetings ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL,"
    "  created_by TEXT NOT NULL DEFAULT '',"
    "  document TEXT NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (call_type, call_id));"
    "CREATE TABLE webhook_inbox ("
    "  webhook_id TEXT PRIMARY KEY,"
    "  event_type TEXT NOT NULL,"
    "  call_type TEXT NOT NULL DEFAULT '', call_id TEXT NOT NULL DEFAULT '',"
    "  body TEXT NOT NULL,"
    "  received_at INTEGER NOT NULL,"
    "  status TEXT NOT NULL,"
    "  error TEXT NOT NULL DEFAULT '',"
    "  attempts INTEGER NOT NULL DEFAULT 1,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX webhook_inbox_failed ON webhook_inbox (received_at) WHERE status = 'failed';",
    // 2: what the reconciler selects on
    "ALTER TABLE meetings ADD COLUMN status TEXT NOT NULL DEFAULT 'created';"
    "ALTER TABLE meetings ADD COLUMN recording_count INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE meetings ADD COLUMN reconciled_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX meetings_stale ON meetings (status, updated_at);",
    // 3: sessions summarised out of a meeting's document (its cost stays bounded)
    "CREATE TABLE meeting_sessions ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, session_id TEXT NOT NULL,"
    "  started_at INTEGER, ended_at INTEGER,"
    "  PRIMARY KEY (call_type, call_id, session_id)) WITHOUT ROWID;",
    // 4: the meeting list (an index by user and creation time) and the outbox of app events;
    // the index is then filled from the stored meetings (backfill_meeting_index).
    "ALTER TABLE meetings ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX meetings_list ON meetings (created_at, call_type, call_id);"
    "CREATE INDEX meetings_list_status ON meetings (status, created_at, call_type, call_id);"
    "CREATE TABLE meeting_index ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, user_id TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL, status TEXT NOT NULL,"
    "  PRIMARY KEY (call_type, call_id, user_id)) WITHOUT ROWID;"
    "CREATE INDEX meeting_index_user ON meeting_index (user_id, created_at, call_type, call_id);"
    "CREATE INDEX meeting_index_user_status ON meeting_index"
    "  (user_id, status, created_at, call_type, call_id);"
    "CREATE TABLE app_events ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  id TEXT NOT NULL, event_type TEXT NOT NULL,"
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL,"
    "  endpoint TEXT NOT NULL, payload TEXT NOT NULL,"
    "  status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  lease_until INTEGER NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  UNIQUE (id, endpoint));"
    "CREATE INDEX app_events_due ON app_events (next_attempt_at) WHERE status = 'pending';"
    "CREATE INDEX app_events_status ON app_events (status, seq);"
    "CREATE INDEX app_events_order ON app_events (call_type, call_id, endpoint, seq)"
    "  WHERE status = 'pending';",
    // 5: transcripts: a fetch job per transcription file, the parsed segments, and their full-text
    // index (FTS5 over the segments' text, kept in step by triggers)
    "CREATE TABLE transcripts ("
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, file TEXT NOT NULL,"
    "  url TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending',"
    "  attempts INTEGER NOT NULL DEFAULT 0, step INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_at INTEGER NOT NULL,"
    "  lease_until INTEGER NOT NULL DEFAULT 0, lease_owner TEXT NOT NULL DEFAULT '',"
    "  last_error TEXT NOT NULL DEFAULT '',"
    "  segment_count INTEGER NOT NULL DEFAULT 0, speaker_count INTEGER NOT NULL DEFAULT 0,"
    "  malformed_lines INTEGER NOT NULL DEFAULT 0, bytes INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0, start_time INTEGER, fetched_at INTEGER,"
    "  first_segment INTEGER NOT NULL DEFAULT 0, last_segment INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    "  PRIMARY KEY (call_type, call_id, file));"
    "CREATE INDEX transcripts_due ON transcripts (next_attempt_at) WHERE status = 'pending';"
    "CREATE TABLE transcript_segments ("
    "  id INTEGER PRIMARY KEY,"
    "  call_type TEXT NOT NULL, call_id TEXT NOT NULL, file TEXT NOT NULL,"
    "  seq INTEGER NOT NULL, speaker_id TEXT NOT NULL,"
    "  start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL, text TEXT NOT NULL);"
    "CREATE INDEX transcript_segments_file ON transcript_segments (call_type, call_id, file, seq);"
    "CREATE VIRTUAL TABLE transcript_fts USING fts5(text, content='transcript_segments',"
    "  content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3');"
    "CREATE TRIGGER transcript_segments_ai AFTER INSERT ON transcript_segments BEGIN"
    "  INSERT INTO transcript_fts (rowid, text) VALUES (new.id, new.text); END;"
    "CREATE TRIGGER transcript_segments_ad AFTER DELETE ON transcript_segments BEGIN"
    "  INSERT INTO transcript_fts (transcript_fts, rowid, text) VALUES ('delete', old.id, "
    "old.text);"
    "  END;",
};
// Run after the migration of that version, in its transaction.
constexpr std::int64_t kBackfillIndexVersion = 4;

// Due, not leased, and not behind an earlier event of its meeting and endpoint that waits for a
// retry or is leased: events of one meeting reach an endpoint in order. Parameters: now ×4.
constexpr const char* kClaimable =
    "e.status = 'pending' AND e.next_attempt_at <= ? AND e.lease_until <= ? AND NOT EXISTS ("
    "SELECT 1 FROM app_events p WHERE p.call_type = e.call_type AND p.call_id = e.call_id AND "
    "p.endpoint = e.endpoint AND p.status = 'pending' AND p.seq < e.seq AND "
    "(p.next_attempt_at > ? OR p.lease_until > ?))";

constexpr const char* kTranscriptColumns =
    "call_type, call_id, file, url, status, attempts, step, next_attempt_at, last_error, "
    "segment_count, speaker_count, malformed_lines, bytes, duration_ms, start_time, fetched_at";

constexpr const char* kAppEventColumns =
    "seq, id, event_type, call_type, call_id, endpoint, payload, status, attempts, step, "
    "next_attempt_at, created_at, last_error";

class SqliteTx final : public Tx {
 public:
  explicit SqliteTx(Db& db) : db_(db) {}
  bool insert_inbox(const InboxEvent& e, std::string_view status, std::string_view error) override {
    Stmt s(db_,
           "INSERT OR IGNORE INTO webhook_inbox (webhook_id, event_type, call_type, call_id, body, "
           "received_at, "
           "status, error, attempts, updated_at) VALUES (?,?,?,?,?,?,?,?,1,?)");
    s.bind(1, e.webhook_id).bind(2, e.type).bind(3, e.call_type).bind(4, e.call_id).bind(5, e.body);
    s.bind(6, e.received_at_ns).bind(7, status).bind(8, error).bind(9, now_ns());
    s.step();
    return sqlite3_changes(db_.raw()) == 1;
  }
  void update_inbox(const std::string& id, std::string_view status, std::string_view error,
                    bool count) override {
    Stmt s(
        db_,
        "UPDATE webhook_inbox SET status = ?, error = ?, attempts = attempts + ?, updated_at = ? "
        "WHERE webhook_id = ?");
    s.bind(1, status)
        .bind(2, error)
        .bind(3, std::int64_t{count ? 1 : 0})
        .bind(4, now_ns())
        .bind(5, id);
    s.step();
  }
  void lock_call(const std::string&, const std::string&) override {}  // one writer already
  std::optional<std::string> load_meeting(const std::string& type, const std::string& id) override {
    Stmt s(db_, "SELECT document FROM meetings WHERE call_type = ? AND call_id = ?");
    s.bind(1, type).bind(2, id);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }
  void save_meeting(const core::Meeting& m, const std::string& doc) override {
    Stmt s(
        db_,
        "INSERT INTO meetings (call_type, call_id, created_by, document, updated_at, status, "
        "recording_count, created_at) "
        "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (call_type, call_id) DO UPDATE SET created_by = "
        "excluded.created_by, "
        "document = excluded.document, updated_at = excluded.updated_at, status = excluded.status, "
        "recording_count = excluded.recording_count, created_at = excluded.created_at");
    s.bind(1, m.call_type).bind(2, m.call_id).bind(3, m.created_by).bind(4, doc);
    s.bind(5, core::to_unix_nanos(m.updated_at)).bind(6, core::to_string(m.status()));
    s.bind(7, static_cast<std::int64_t>(m.recordings.size())).bind(8, meeting_list_time(m));
    s.step();
  }
  void index_meeting(const core::Meeting& m) override {
    {
      Stmt d(db_, "DELETE FROM meeting_index WHERE call_type = ? AND call_id = ?");
      d.bind(1, m.call_type).bind(2, m.call_id);
      d.step();
    }
    Stmt s(db_,
           "INSERT INTO meeting_index (call_type, call_id, user_id, created_at, status) "
           "VALUES (?,?,?,?,?)");
    for (const auto& user : meeting_list_users(m)) {
      s.reset();
      s.bind(1, m.call_type).bind(2, m.call_id).bind(3, user).bind(4, meeting_list_time(m));
      s.bind(5, core::to_string(m.status()));
      s.step();
    }
  }
  void insert_app_event(const AppEventRow& r) override {
    Stmt s(db_,
           "INSERT OR IGNORE INTO app_events (id, event_type, call_type, call_id, endpoint, "
           "payload, next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)");
    s.bind(1, r.id).bind(2, r.type).bind(3, r.call_type).bind(4, r.call_id).bind(5, r.endpoint);
    s.bind(6, r.payload).bind(7, r.created_at).bind(8, r.created_at).bind(9, r.created_at);
    s.step();
  }
  void upsert_transcript_job(const TranscriptFile& j) override {
    Stmt s(db_,
           "INSERT INTO transcripts (call_type, call_id, file, url, next_attempt_at, start_time, "
           "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?) "
           "ON CONFLICT (call_type, call_id, file) DO UPDATE SET url = excluded.url, "
           "status = 'pending', step = 0, next_attempt_at = excluded.next_attempt_at, "
           "updated_at = excluded.updated_at WHERE transcripts.status <> 'ready' AND "
           "transcripts.url <> excluded.url");
    s.bind(1, j.call_type).bind(2, j.call_id).bind(3, j.file).bind(4, j.url);
    s.bind(5, j.next_attempt_at);
    if (j.start_time)
      s.bind(6, *j.start_time);
    else
      s.bind_null(6);
    s.bind(7, now_ns()).bind(8, now_ns());
    s.step();
  }
  bool transcript_leased(const std::string& type, const std::string& id, const std::string& file,
                         const std::string& owner) override {
    Stmt s(db_,
           "SELECT 1 FROM transcripts WHERE call_type = ? AND call_id = ? AND file = ? AND "
           "status = 'pending' AND lease_owner = ?");
    s.bind(1, type).bind(2, id).bind(3, file).bind(4, owner);
    return s.step();
  }
  std::pair<std::int64_t, std::int64_t> replace_transcript_segments(
      const TranscriptContent& c) override {
    {
      Stmt d(db_,
             "DELETE FROM transcript_segments WHERE call_type = ? AND call_id = ? AND file = ?");
      d.bind(1, c.call_type).bind(2, c.call_id).bind(3, c.file);
      d.step();
    }
    Stmt s(db_,
           "INSERT INTO transcript_segments (call_type, call_id, file, seq, speaker_id, start_ms, "
           "end_ms, text) VALUES (?,?,?,?,?,?,?,?)");
    // One writer, one statement after the other: the ids come out consecutive.
    std::int64_t seq = 0, first = 0, last = 0;
    for (const auto& seg : c.segments) {
      s.reset();
      s.bind(1, c.call_type).bind(2, c.call_id).bind(3, c.file).bind(4, seq++);
      s.bind(5, seg.speaker_id).bind(6, seg.start_ms).bind(7, seg.end_ms).bind(8, seg.text);
      s.step();
      last = sqlite3_last_insert_rowid(db_.raw());
      if (first == 0) first = last;
    }
    if (last - first + 1 != static_cast<std::int64_t>(c.segments.size())) first = last = 0;
    return {first, last};
  }
  void mark_transcript_ready(const TranscriptFile& f) override {
    Stmt s(db_,
           "UPDATE transcripts SET status = 'ready', attempts = attempts + 1, last_error = '', "
           "segment_count = ?, speaker_count = ?, malformed_lines = ?, bytes = ?, duration_ms = ?, "
           "fetched_at = ?, lease_until = 0, lease_owner = '', updated_at = ?, "
           "first_segment = ?, last_segment = ? WHERE call_type = ? AND call_id = ? AND file = ?");
    s.bind(1, f.segment_count).bind(2, f.speaker_count).bind(3, f.malformed_lines);
    s.bind(4, f.bytes).bind(5, f.duration_ms).bind(6, f.fetched_at.value_or(0)).bind(7, now_ns());
    s.bind(8, f.first_segment).bind(9, f.last_segment);
    s.bind(10, f.call_type).bind(11, f.call_id).bind(12, f.file);
    s.step();
  }
  std::vector<TranscriptFile> claim_transcripts(const TranscriptClaim& c) {
    std::vector<TranscriptFile> out;
    {
      Stmt s(db_, (std::string("SELECT ") + kTranscriptColumns +
                   " FROM transcripts WHERE status = 'pending' AND next_attempt_at <= ? AND "
                   "lease_until <= ? ORDER BY next_attempt_at LIMIT ?")
                      .c_str());
      s.bind(1, c.now).bind(2, c.now).bind(3, static_cast<std::int64_t>(c.limit));
      while (s.step()) out.push_back(read_transcript(s));
    }
    Stmt u(db_,
           "UPDATE transcripts SET lease_until = ?, lease_owner = ? WHERE call_type = ? AND "
           "call_id = ? AND file = ?");
    for (const auto& f : out) {
      u.reset();
      u.bind(1, c.lease_until).bind(2, c.owner).bind(3, f.call_type).bind(4, f.call_id);
      u.bind(5, f.file);
      u.step();
    }
    return out;
  }
  bool finish_transcript(const TranscriptOutcome& o) {
    if (o.status == "released") {
      Stmt r(db_,
             "UPDATE transcripts SET lease_until = 0, lease_owner = '' WHERE call_type = ? AND "
             "call_id = ? AND file = ? AND lease_owner = ? AND status = 'pending'");
      r.bind(1, o.call_type).bind(2, o.call_id).bind(3, o.file).bind(4, o.owner);
      r.step();
      return sqlite3_changes(db_.raw()) == 1;
    }
    Stmt s(db_,
           "UPDATE transcripts SET status = ?, attempts = attempts + 1, step = ?, "
           "next_attempt_at = ?, last_error = ?, url = CASE WHEN ? = '' THEN url ELSE ? END, "
           "lease_until = 0, lease_owner = '', updated_at = ? WHERE call_type = ? AND "
           "call_id = ? AND file = ? AND lease_owner = ? AND status = 'pending'");
    s.bind(1, o.status).bind(2, o.step).bind(3, o.next_attempt_at).bind(4, o.error);
    s.bind(5, o.url).bind(6, o.url).bind(7, now_ns());
    s.bind(8, o.call_type).bind(9, o.call_id).bind(10, o.file).bind(11, o.owner);
    s.step();
    return sqlite3_changes(db_.raw()) == 1;
  }
  std::vector<TranscriptFile> transcript_files(const std::string& type, const std::string& id) {
    Stmt s(db_, (std::string("SELECT ") + kTranscriptColumns +
                 " FROM transcripts WHERE call_type = ? AND call_id = ? "
                 "ORDER BY start_time IS NULL, start_time, file")
                    .c_str());
    s.bind(1, type).bind(2, id);
    std::vector<TranscriptFile> out;
    while (s.step()) out.push_back(read_transcript(s));
    return out;
  }
  TranscriptView transcript(const std::string& type, const std::string& id) {
    TranscriptView v;
    v.files = transcript_files(type, id);
    Stmt s(db_,
           "SELECT speaker_id, start_ms, end_ms, text FROM transcript_segments WHERE "
           "call_type = ? AND call_id = ? AND file = ? ORDER BY seq");
    for (const auto& f : v.files) {
      s.reset();
      s.bind(1, type).bind(2, id).bind(3, f.file);
      auto& list = v.segments.emplace_back();
      while (s.step()) list.push_back(read_segment(s, 0));
    }
    return v;
  }
  TranscriptSearchPage search(const TranscriptSearch& q) {
    // The files the caller may see, as ranges of segment ids, in id order.
    struct Range {
      std::int64_t first, last;
      std::string call_type, call_id;
    };
    std::vector<Range> ranges;
    {
      Stmt s(db_, q.all ? "SELECT t.first_segment, t.last_segment, t.call_type, t.call_id FROM "
                          "transcripts t WHERE t.status = 'ready' AND t.first_segment > 0"
                        : "SELECT t.first_segment, t.last_segment, t.call_type, t.call_id FROM "
                          "meeting_index i JOIN transcripts t ON t.call_type = i.call_type AND "
                          "t.call_id = i.call_id WHERE i.user_id = ? AND t.status = 'ready' AND "
                          "t.first_segment > 0");
      if (!q.all) s.bind(1, q.user_id);
      while (s.step()) ranges.push_back({s.int64(0), s.int64(1), s.text(2), s.text(3)});
    }
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.first < b.first; });
    // Every matching segment with its rank (sg_rank: lower is better). A caller with few files: the
    // index is read within each file's id range. Many: one pass over the index, each match
    // mapped to its file (or dropped) by its id.
    const std::string match = core::to_fts5_match(q.query);
    MeetingRanker ranker(q.matches_per_meeting);
    constexpr std::size_t kPerFileLimit = 256;
    if (ranges.size() <= kPerFileLimit) {
      Stmt s(db_,
             "SELECT rowid, sg_rank(transcript_fts) FROM transcript_fts WHERE transcript_fts "
             "MATCH ? AND rowid >= ? AND rowid <= ?");
      for (const auto& r : ranges) {
        s.reset();
        s.bind(1, match).bind(2, r.first).bind(3, r.last);
        while (s.step()) ranker.add(r.call_type, r.call_id, s.int64(0), s.real(1));
      }
    } else {
      Stmt s(db_,
             "SELECT rowid, sg_rank(transcript_fts) FROM transcript_fts WHERE transcript_fts "
             "MATCH ?");
      s.bind(1, match);
      while (s.step()) {
        const auto id = s.int64(0);
        auto it = std::upper_bound(ranges.begin(), ranges.end(), id,
                                   [](std::int64_t v, const Range& r) { return v < r.first; });
        if (it == ranges.begin()) continue;
        --it;
        if (id <= it->last) ranker.add(it->call_type, it->call_id, id, s.real(1));
      }
    }
    auto page = ranker.page(q.offset, q.limit);
    Stmt seg(db_,
             "SELECT s.file, s.speaker_id, s.start_ms, s.end_ms, "
             "highlight(transcript_fts, 0, char(1), char(2)) FROM transcript_fts f "
             "JOIN transcript_segments s ON s.id = f.rowid WHERE transcript_fts MATCH ? AND "
             "f.rowid = ?");
    Stmt meeting(db_, "SELECT document FROM meetings WHERE call_type = ? AND call_id = ?");
    TranscriptSearchPage out;
    out.more = page.more;
    for (auto& ranked : page.meetings) {
      meeting.reset();
      meeting.bind(1, ranked.call_type).bind(2, ranked.call_id);
      if (!meeting.step()) continue;
      TranscriptHit hit;
      try {
        hit.meeting = meeting_from_document(meeting.text(0));
      } catch (const StoreUnavailable&) {
        continue;  // a damaged document is left out
      }
      hit.meeting.call_type = ranked.call_type;
      hit.meeting.call_id = ranked.call_id;
      hit.matching_segments = ranked.count;
      for (const auto& [score, id] : ranked.best) {
        seg.reset();
        seg.bind(1, match).bind(2, id);
        if (seg.step())
          hit.matches.push_back(
              TranscriptMatch{seg.text(0), seg.text(1), seg.int64(2), seg.int64(3), seg.text(4)});
      }
      hit.files = transcript_files(ranked.call_type, ranked.call_id);
      out.hits.push_back(std::move(hit));
    }
    return out;
  }
  std::vector<std::pair<std::pair<std::string, std::string>, std::string>> meeting_page(
      const std::string& type, const std::string& id, std::size_t limit) override {
    Stmt s(db_,
           "SELECT call_type, call_id, document FROM meetings WHERE (call_type, call_id) > (?, ?) "
           "ORDER BY call_type, call_id LIMIT ?");
    s.bind(1, type).bind(2, id).bind(3, static_cast<std::int64_t>(limit));
    std::vector<std::pair<std::pair<std::string, std::string>, std::string>> out;
    while (s.step()) out.push_back({{s.text(0), s.text(1)}, s.text(2)});
    return out;
  }
  MeetingPage list_meetings(const MeetingListQuery& q) {
    std::string sql = q.all
                          ? "SELECT document, call_type, call_id, created_at FROM meetings WHERE 1"
                          : "SELECT m.document, i.call_type, i.call_id, i.created_at FROM "
                            "meeting_index i JOIN meetings m ON m.call_type = i.call_type AND "
                            "m.call_id = i.call_id WHERE i.user_id = ?";
    const std::string p = q.all ? "" : "i.";
    if (!q.status.empty()) sql += " AND " + p + "status = ?";
    if (q.after)
      sql += " AND (" + p + "created_at, " + p + "call_type, " + p + "call_id) < (?,?,?)";
    sql += " ORDER BY " + p + "created_at DESC, " + p + "call_type DESC, " + p +
           "call_id DESC LIMIT ?";
    Stmt s(db_, sql.c_str());
    int i = 1;
    if (!q.all) s.bind(i++, q.user_id);
    if (!q.status.empty()) s.bind(i++, q.status);
    if (q.after) {
      s.bind(i, q.after->created_at).bind(i + 1, q.after->call_type).bind(i + 2, q.after->call_id);
      i += 3;
    }
    s.bind(i, static_cast<std::int64_t>(q.limit + 1));
    MeetingPage page;
    std::optional<MeetingCursor> last;
    std::size_t rows = 0;
    while (s.step()) {
      if (rows == q.limit) {
        page.next = last;
        break;
      }
      ++rows;
      last = MeetingCursor{s.int64(3), s.text(1), s.text(2)};
      try {
        auto m = meeting_from_document(s.text(0));
        m.call_type = last->call_type;
        m.call_id = last->call_id;
        page.meetings.push_back(std::move(m));
      } catch (const StoreUnavailable&) {
        // A damaged document is left out of the list (GET of that call answers for it).
      }
    }
    return page;
  }
  std::vector<AppEventRecord> claim_app_events(const AppEventClaim& c) {
    std::vector<AppEventRecord> out;
    {
      Stmt s(db_, (std::string("SELECT ") + kAppEventColumns + " FROM app_events e WHERE " +
                   kClaimable + " ORDER BY seq LIMIT ?")
                      .c_str());
      s.bind(1, c.now).bind(2, c.now).bind(3, c.now).bind(4, c.now);
      s.bind(5, static_cast<std::int64_t>(c.limit));
      while (s.step()) out.push_back(read_event(s));
    }
    Stmt u(db_, "UPDATE app_events SET lease_until = ?, lease_owner = ? WHERE seq = ?");
    for (const auto& e : out) {
      u.reset();
      u.bind(1, c.lease_until).bind(2, c.owner).bind(3, e.seq);
      u.step();
    }
    return out;
  }
  bool finish_app_event(const AppEventOutcome& o) {
    if (o.status == "released") {
      Stmt r(db_,
             "UPDATE app_events SET lease_until = 0, lease_owner = '' WHERE seq = ? AND "
             "lease_owner = ?");
      r.bind(1, o.seq).bind(2, o.owner);
      r.step();
      return sqlite3_changes(db_.raw()) == 1;
    }
    Stmt s(db_,
           "UPDATE app_events SET status = ?, attempts = attempts + 1, step = ?, "
           "next_attempt_at = ?, last_error = ?, lease_until = 0, lease_owner = '', "
           "updated_at = ? WHERE seq = ? AND lease_owner = ?");
    s.bind(1, o.status).bind(2, o.step).bind(3, o.next_attempt_at).bind(4, o.error);
    s.bind(5, now_ns()).bind(6, o.seq).bind(7, o.owner);
    s.step();
    return sqlite3_changes(db_.raw()) == 1;
  }
  std::vector<AppEventRecord> list_app_events(const std::string& status, std::int64_t after,
                                              std::size_t limit) {
    std::string sql = std::string("SELECT ") + kAppEventColumns + " FROM app_events WHERE seq > ?";
    if (!status.empty()) sql += " AND status = ?";
    sql += " ORDER BY seq LIMIT ?";
    Stmt s(db_, sql.c_str());
    int i = 1;
    s.bind(i++, after);
    if (!status.empty()) s.bind(i++, status);
    s.bind(i, static_cast<std::int64_t>(limit));
    std::vector<AppEventRecord> out;
    while (s.step()) out.push_back(read_event(s));
    return out;
  }
  std::int64_t redeliver(const std::string& id, std::int64_t now) {
    Stmt s(db_, id.empty() ? "UPDATE app_events SET status = 'pending', step = 0, "
                             "next_attempt_at = ?, updated_at = ? WHERE status = 'failed'"
                           : "UPDATE app_events SET status = 'pending', step = 0, "
                             "next_attempt_at = ?, updated_at = ? WHERE id = ?");
    s.bind(1, now).bind(2, now);
    if (!id.empty()) s.bind(3, id);
    s.step();
    return sqlite3_changes(db_.raw());
  }
  AppEventStats app_event_stats() {
    Stmt s(db_, "SELECT COUNT(*), MIN(created_at) FROM app_events WHERE status = 'pending'");
    AppEventStats st;
    if (s.step()) {
      st.pending = s.int64(0);
      if (st.pending > 0) st.oldest_pending_at = s.int64(1);
    }
    return st;
  }
  void archive_sessions(const std::string& type, const std::string& id,
                        const std::vector<core::CallSession>& sessions) override {
    Stmt s(db_,
           "INSERT INTO meeting_sessions (call_type, call_id, session_id, started_at, ended_at) "
           "VALUES (?,?,?,?,?) "
           "ON CONFLICT (call_type, call_id, session_id) DO UPDATE SET started_at = "
           "excluded.started_at, "
           "ended_at = excluded.ended_at");
    for (const auto& session : sessions) {
      s.reset();
      s.bind(1, type).bind(2, id).bind(3, session.id);
      bind_time(s, 4, session.started_at);
      bind_time(s, 5, session.ended_at);
      s.step();
    }
  }
  std::optional<core::CallSession> archived_session(const std::string& type, const std::string& id,
                                                    const std::string& session_id) override {
    Stmt s(db_,
           "SELECT started_at, ended_at FROM meeting_sessions WHERE call_type = ? AND call_id = ? "
           "AND session_id = ?");
    s.bind(1, type).bind(2, id).bind(3, session_id);
    if (!s.step()) return std::nullopt;
    return core::CallSession{session_id, s.time(0), s.time(1)};
  }
  std::vector<std::pair<std::string, std::string>> claim_stale(
      const Store::StaleQuery& q) override {
    std::vector<std::pair<std::string, std::string>> out;
    {
      Stmt s(
          db_,
          "SELECT call_type, call_id FROM meetings WHERE reconciled_at < ? AND ("
          "(status = 'active' AND updated_at < ?) OR "
          "(status = 'processing' AND recording_count = 0 AND updated_at < ? AND updated_at >= ?)) "
          "ORDER BY updated_at LIMIT ?");
      s.bind(1, q.retry_before)
          .bind(2, q.active_before)
          .bind(3, q.processing_before)
          .bind(4, q.processing_since);
      s.bind(5, static_cast<std::int64_t>(q.limit));
      while (s.step()) out.emplace_back(s.text(0), s.text(1));
    }
    for (const auto& [type, id] : out) {
      Stmt u(db_, "UPDATE meetings SET reconciled_at = ? WHERE call_type = ? AND call_id = ?");
      u.bind(1, q.now).bind(2, type).bind(3, id);
      u.step();
    }
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
    Stmt s(db_,
           "SELECT webhook_id, event_type, call_type, call_id, body, status, error, attempts FROM "
           "webhook_inbox "
           "WHERE status = 'failed' ORDER BY received_at LIMIT ?");
    s.bind(1, static_cast<std::int64_t>(limit));
    while (s.step()) out.push_back(read(s));
    return out;
  }
  std::optional<InboxRecord> inbox(const std::string& id, bool) override {
    Stmt s(db_,
           "SELECT webhook_id, event_type, call_type, call_id, body, status, error, attempts FROM "
           "webhook_inbox "
           "WHERE webhook_id = ?");
    s.bind(1, id);
    if (!s.step()) return std::nullopt;
    return read(s);
  }

 private:
  static void bind_time(Stmt& s, int i, const std::optional<core::Nanos>& t) {
    if (t)
      s.bind(i, core::to_unix_nanos(*t));
    else
      s.bind_null(i);
  }
  static TranscriptFile read_transcript(Stmt& s) {
    TranscriptFile f;
    f.call_type = s.text(0);
    f.call_id = s.text(1);
    f.file = s.text(2);
    f.url = s.text(3);
    f.status = s.text(4);
    f.attempts = s.int64(5);
    f.step = s.int64(6);
    f.next_attempt_at = s.int64(7);
    f.error = s.text(8);
    f.segment_count = s.int64(9);
    f.speaker_count = s.int64(10);
    f.malformed_lines = s.int64(11);
    f.bytes = s.int64(12);
    f.duration_ms = s.int64(13);
    f.start_time = s.optional_int64(14);
    f.fetched_at = s.optional_int64(15);
    return f;
  }
  static core::TranscriptSegment read_segment(Stmt& s, int col) {
    return core::TranscriptSegment{s.text(col), s.int64(col + 1), s.int64(col + 2),
                                   s.text(col + 3)};
  }
  static AppEventRecord read_event(Stmt& s) {
    AppEventRecord r;
    r.seq = s.int64(0);
    r.id = s.text(1);
    r.type = s.text(2);
    r.call_type = s.text(3);
    r.call_id = s.text(4);
    r.endpoint = s.text(5);
    r.payload = s.text(6);
    r.status = s.text(7);
    r.attempts = s.int64(8);
    r.step = s.int64(9);
    r.next_attempt_at = s.int64(10);
    r.created_at = s.int64(11);
    r.last_error = s.text(12);
    return r;
  }
  static InboxRecord read(Stmt& s) {
    return InboxRecord{s.text(0), s.text(1), s.text(2), s.text(3),
                       s.text(4), s.text(5), s.text(6), s.int64(7)};
  }
  Db& db_;
};

void migrate(Db& db) {
  db.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at "
      "INTEGER NOT NULL)");
  db.exec("BEGIN IMMEDIATE");
  try {
    std::int64_t current = 0;
    {
      Stmt s(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
      if (s.step()) current = s.int64(0);
    }
    const auto count = static_cast<std::int64_t>(std::size(kMigrations));
    if (current > count)
      throw StoreUnavailable("database schema version " + std::to_string(current) +
                             " is newer than this build");
    for (std::int64_t v = current + 1; v <= count; ++v) {
      db.exec(kMigrations[v - 1]);
      if (v == kBackfillIndexVersion) {
        SqliteTx tx(db);
        backfill_meeting_index(tx);
      }
      Stmt s(db, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
      s.bind(1, v).bind(2, now_ns());
      s.step();
    }
    db.exec("COMMIT");
  } catch (...) {
    sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const StoreOptions& o, std::string path)
      : path_(std::move(path)),
        busy_ms_(o.busy_timeout_ms),
        max_batch_(o.max_batch),
        queue_limit_(o.queue_limit),
        app_events_(o.app_events),
        transcripts_(o.transcripts) {
    const auto dir = std::filesystem::path(path_).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir);
    writer_db_ = std::make_unique<Db>(path_, busy_ms_, false);
    configure(*writer_db_, true);
    migrate(*writer_db_);
    readers_.resize(std::max<std::size_t>(1, o.pool_size));
    reader_pool_ = std::make_unique<BlockingPool>(readers_.size(), queue_limit_,
                                                  [this](std::size_t i) { readers_[i].reset(); });
    writer_ = std::thread([this] { write_loop(); });
  }

  ~SqliteStore() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    writer_.join();
    reader_pool_.reset();
  }

  std::string backend() const override { return "sqlite"; }

  http::Task<InboxOutcome> record_webhook(InboxEvent event, ApplyFn apply) override {
    return write<InboxOutcome>([event = std::move(event), apply = std::move(apply)](Tx& tx) {
      return record_webhook_tx(tx, event, apply);
    });
  }

  using Store::update_meeting;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string type, std::string id,
                                                          MutateFn mutate,
                                                          std::string session) override {
    return write<std::optional<core::Meeting>>(
        [type, id, mutate = std::move(mutate), session](Tx& tx) {
          return update_meeting_tx(tx, type, id, mutate, session);
        });
  }

  http::Task<std::optional<core::Meeting>> get_meeting(std::string type, std::string id) override {
    return read<std::optional<core::Meeting>>([type, id](Db& db) -> std::optional<core::Meeting> {
      SqliteTx tx(db);
      auto doc = tx.load_meeting(type, id);
      if (!doc) return std::nullopt;
      return meeting_from_document(*doc);
    });
  }

  http::Task<std::optional<InboxRecord>> get_inbox(std::string id) override {
    return read<std::optional<InboxRecord>>([id](Db& db) { return SqliteTx(db).inbox(id, false); });
  }

  http::Task<std::vector<InboxRecord>> failed_inbox(std::vector<std::string> ids,
                                                    std::size_t limit) override {
    return read<std::vector<InboxRecord>>(
        [ids, limit](Db& db) { return SqliteTx(db).failed_inbox(ids, limit); });
  }

  http::Task<std::optional<ReplayItem>> replay_one(std::string id, ApplyFactory factory) override {
    return write<std::optional<ReplayItem>>(
        [id, factory](Tx& tx) { return replay_one_tx(tx, id, factory); });
  }

  http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(
      StaleQuery q) override {
    return write<std::vector<std::pair<std::string, std::string>>>(
        [q](Tx& tx) { return tx.claim_stale(q); });
  }

  http::Task<MeetingPage> list_meetings(MeetingListQuery q) override {
    return read<MeetingPage>([q](Db& db) { return SqliteTx(db).list_meetings(q); });
  }
  http::Task<std::vector<AppEventRecord>> claim_app_events(AppEventClaim c) override {
    return write<std::vector<AppEventRecord>>(
        [c](Tx& tx) { return static_cast<SqliteTx&>(tx).claim_app_events(c); });
  }
  http::Task<bool> finish_app_event(AppEventOutcome o) override {
    return write<bool>([o](Tx& tx) { return static_cast<SqliteTx&>(tx).finish_app_event(o); });
  }
  http::Task<std::vector<AppEventRecord>> list_app_events(std::string status, std::int64_t after,
                                                          std::size_t limit) override {
    return read<std::vector<AppEventRecord>>([status, after, limit](Db& db) {
      return SqliteTx(db).list_app_events(status, after, limit);
    });
  }
  http::Task<std::int64_t> redeliver_app_events(std::string id, std::int64_t now) override {
    return write<std::int64_t>(
        [id, now](Tx& tx) { return static_cast<SqliteTx&>(tx).redeliver(id, now); });
  }
  http::Task<AppEventStats> app_event_stats() override {
    return read<AppEventStats>([](Db& db) { return SqliteTx(db).app_event_stats(); });
  }

  http::Task<std::vector<TranscriptFile>> claim_transcript_jobs(TranscriptClaim c) override {
    return write<std::vector<TranscriptFile>>(
        [c](Tx& tx) { return static_cast<SqliteTx&>(tx).claim_transcripts(c); });
  }
  http::Task<bool> finish_transcript_job(TranscriptOutcome o) override {
    return write<bool>([o](Tx& tx) { return static_cast<SqliteTx&>(tx).finish_transcript(o); });
  }
  http::Task<bool> store_transcript(TranscriptContent content) override {
    auto shared = std::make_shared<const TranscriptContent>(std::move(content));
    return write<bool>([shared](Tx& tx) { return store_transcript_tx(tx, *shared); });
  }
  http::Task<TranscriptView> get_transcript(std::string type, std::string id) override {
    return snapshot<TranscriptView>(
        [type, id](Db& db) { return SqliteTx(db).transcript(type, id); });
  }
  http::Task<TranscriptSearchPage> search_transcripts(TranscriptSearch q) override {
    return snapshot<TranscriptSearchPage>([q](Db& db) { return SqliteTx(db).search(q); });
  }

  http::Task<bool> ping() override {
    auto probe = read<bool>([](Db& db) {  // [gcc12-co_await]
      Stmt s(db, "SELECT 1");
      return s.step();
    });
    try {
      co_return co_await std::move(probe);
    } catch (const std::exception&) {
    }
    co_return false;
  }

 private:
  struct Job {
    std::function<void(Tx&)> run;                      // inside a savepoint
    std::function<void(std::exception_ptr)> complete;  // after COMMIT (or its failure)
  };

  template <typename R>
  http::Task<R> write(std::function<R(Tx&)> fn) {
    return boost::asio::async_initiate<decltype(boost::asio::use_awaitable),
                                       void(std::exception_ptr, R)>(
        [this, fn = std::move(fn)](auto handler) mutable {
          using Handler = decltype(handler);
          auto h = std::make_shared<Handler>(std::move(handler));
          auto result = std::make_shared<R>();
          Job job;
          job.run = [fn = std::move(fn), result](Tx& tx) { *result = fn(tx); };
          job.complete = [h, result](std::exception_ptr ep) {
            auto ex = boost::asio::get_associated_executor(*h);
            boost::asio::post(ex, [h, ep, result]() mutable { (*h)(ep, std::move(*result)); });
          };
          {
            std::lock_guard lock(mutex_);
            if (queue_.size() >= queue_limit_) {
              // The writer is stalled or swamped: refuse at once (see StoreOptions::queue_limit).
              job.complete(std::make_exception_ptr(StoreUnavailable("store queue full")));
              return;
            }
            queue_.push_back(std::move(job));
          }
          cv_.notify_one();
        },
        boost::asio::use_awaitable);
  }

  // Several reads that must agree (a ranking and the rows it names): one read transaction.
  template <typename R>
  http::Task<R> snapshot(std::function<R(Db&)> fn) {
    return read<R>([fn = std::move(fn)](Db& db) {
      db.exec("BEGIN");
      try {
        R result = fn(db);
        db.exec("COMMIT");
        return result;
      } catch (...) {
        sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
      }
    });
  }

  template <typename R>
  http::Task<R> read(std::function<R(Db&)> fn) {
    return reader_pool_->run<R>([this, fn = std::move(fn)](std::size_t worker) {
      auto& db = readers_[worker];
      if (!db) {
        db = std::make_unique<Db>(path_, busy_ms_, false);
        db->exec("PRAGMA query_only=ON");
      }
      return fn(*db);
    });
  }

  void write_loop() {
    for (;;) {
      std::vector<Job> batch;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty() && batch.size() < max_batch_) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      commit_batch(batch);
    }
  }

  void commit_batch(std::vector<Job>& batch) {
    Db& db = *writer_db_;
    std::vector<std::exception_ptr> errors(batch.size());
    std::exception_ptr batch_error;
    SqliteTx tx(db);
    tx.app_events = &app_events_;
    tx.transcripts = transcripts_;
    try {
      db.exec("BEGIN IMMEDIATE");
      for (std::size_t i = 0; i < batch.size(); ++i) {
        db.exec("SAVEPOINT job");
        try {
          batch[i].run(tx);
          db.exec("RELEASE job");
        } catch (...) {
          errors[i] = std::current_exception();
          sqlite3_exec(db.raw(), "ROLLBACK TO job", nullptr, nullptr, nullptr);
          sqlite3_exec(db.raw(), "RELEASE job", nullptr, nullptr, nullptr);
        }
      }
      db.exec("COMMIT");
    } catch (...) {
      batch_error = std::current_exception();
      if (!sqlite3_get_autocommit(db.raw()))
        sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    }
    // The dispatcher is woken before anyone hears of the commit.
    if (!batch_error && tx.wrote_app_events && app_events_.on_written) app_events_.on_written();
    for (std::size_t i = 0; i < batch.size(); ++i)
      batch[i].complete(batch_error ? batch_error : errors[i]);
  }

  std::string path_;
  int busy_ms_;
  std::size_t max_batch_;
  std::size_t queue_limit_;
  AppEventOptions app_events_;
  bool transcripts_;
  std::unique_ptr<Db> writer_db_;
  std::vector<std::unique_ptr<Db>> readers_;
  std::unique_ptr<BlockingPool> reader_pool_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const StoreOptions& options, const std::string& path) {
  return std::make_unique<SqliteStore>(options, path);
}

}  // namespace streamgate::server
