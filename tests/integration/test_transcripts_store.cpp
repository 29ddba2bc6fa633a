// Transcripts in the store, on both backends: a fetch job per new file written with the change,
// leases and outcomes, segments stored with their index and the meeting.transcript_ready event,
// and search (ranking, highlights, who may see what, pages, hostile queries).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <set>

#include "core/transcript.hpp"
#include "server/meetings/events.hpp"
#include "server/store/store.hpp"
#include "server/store/store_tx.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

std::unique_ptr<server::Store> open_store(const std::string& url, bool transcripts = true,
                                          std::vector<std::string> endpoints = {}) {
  server::StoreOptions o;
  o.database_url = url;
  o.pool_size = 2;
  o.busy_timeout_ms = 2000;
  o.transcripts = transcripts;
  o.app_events.endpoints = std::move(endpoints);
  return server::open_store(o);
}

void deliver(server::Store& store, const std::string& id, const std::string& body) {
  const auto prepared = server::prepare_event(body);
  server::InboxEvent e{id,
                       std::string(json::parse(body).at("type").as_string()),
                       prepared.call_type,
                       prepared.call_id,
                       body,
                       1,
                       prepared.session_id};
  run_coro(store.record_webhook(std::move(e), prepared.apply));
}

std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }

std::vector<server::TranscriptFile> claim(server::Store& store, const std::string& owner = "o1",
                                          std::int64_t at = 0) {
  server::TranscriptClaim c;
  c.now = at ? at : now_ns();
  c.lease_until = c.now + 60'000'000'000;
  c.owner = owner;
  c.limit = 10;
  return run_coro(store.claim_transcript_jobs(c));
}

server::TranscriptContent content(const std::string& call_id, const std::string& file,
                                  std::vector<core::TranscriptSegment> segments,
                                  const std::string& owner = "o1") {
  server::TranscriptContent c;
  c.call_type = "default";
  c.call_id = call_id;
  c.file = file;
  c.owner = owner;
  c.segments = std::move(segments);
  c.bytes = 100;
  return c;
}

// A meeting of `creator` with one stored transcript of `segments`.
void meeting_with_transcript(server::Store& store, const std::string& call_id,
                             const std::string& creator,
                             std::vector<core::TranscriptSegment> segments) {
  deliver(store, "s-" + call_id, session_started(call_id, "s1", "2026-04-08T14:00:00Z", creator));
  deliver(store, "t-" + call_id, transcription_ready(call_id, "s1", "tr-" + call_id + ".jsonl"));
  const auto jobs = claim(store, "seed");
  BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
  BOOST_REQUIRE(run_coro(
      store.store_transcript(content(call_id, jobs[0].file, std::move(segments), "seed"))));
}

core::TranscriptSegment seg(std::string speaker, std::int64_t start, std::string text) {
  return core::TranscriptSegment{std::move(speaker), start, start + 1000, std::move(text)};
}

server::TranscriptSearchPage search(server::Store& store, const std::string& q,
                                    const std::string& user, bool all = false,
                                    std::size_t offset = 0, std::size_t limit = 10) {
  std::string error;
  auto parsed = core::parse_search_query(q, error);
  BOOST_REQUIRE_MESSAGE(parsed, error);
  server::TranscriptSearch s;
  s.query = *parsed;
  s.user_id = user;
  s.all = all;
  s.offset = offset;
  s.limit = limit;
  return run_coro(store.search_transcripts(s));
}

std::vector<std::string> ids(const server::TranscriptSearchPage& page) {
  std::vector<std::string> out;
  for (const auto& h : page.hits) out.push_back(h.meeting.call_id);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transcript_store)

BOOST_AUTO_TEST_CASE(a_new_file_enqueues_one_job_and_a_repeat_enqueues_nothing) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url);
    deliver(*store, "w1", session_started("c1", "s1", "2026-04-08T14:00:00Z"));
    BOOST_TEST(claim(*store).empty());
    deliver(*store, "w2",
            transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a?sig=1"));
    deliver(*store, "w3",
            transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a?sig=1"));
    auto jobs = claim(*store);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_TEST(jobs[0].file == "a.jsonl");
    BOOST_TEST(jobs[0].url == "https://cdn.example/a?sig=1");
    BOOST_TEST(jobs[0].status == "pending");
    BOOST_TEST(jobs[0].start_time.value_or(0) == 1775656860000000000);
    // Leased: a second claimer gets nothing.
    BOOST_TEST(claim(*store, "o2").empty());
    BOOST_REQUIRE(run_coro(store->store_transcript(
        content("c1", "a.jsonl", {seg("alice", 0, "hello there"), seg("bob", 1500, "hi")}))));
    // Stored: a replay of the event, or a fresh URL for the file, fetches nothing again.
    deliver(*store, "w4",
            transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a?sig=2",
                                1775660800000000000));
    BOOST_TEST(claim(*store, "o3", now_ns() + 3'600'000'000'000).empty());
    const auto view = run_coro(store->get_transcript("default", "c1"));
    BOOST_REQUIRE_EQUAL(view.files.size(), 1u);
    BOOST_TEST(view.files[0].status == "ready");
    BOOST_TEST(view.files[0].segment_count == 2);
    BOOST_TEST(view.files[0].speaker_count == 2);
    BOOST_TEST(view.files[0].duration_ms == 2500);
    BOOST_REQUIRE_EQUAL(view.segments[0].size(), 2u);
    BOOST_TEST(view.segments[0][0].text == "hello there");
    BOOST_TEST(view.segments[0][1].speaker_id == "bob");
  });
}

BOOST_AUTO_TEST_CASE(off_enqueues_nothing) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url, false);
    deliver(*store, "w1", transcription_ready("c1", "s1", "a.jsonl"));
    BOOST_TEST(claim(*store).empty());
    BOOST_TEST(run_coro(store->get_transcript("default", "c1")).files.empty());
  });
}

BOOST_AUTO_TEST_CASE(a_fresh_url_for_a_pending_file_replaces_the_old_one) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url);
    deliver(*store, "w1",
            transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a?sig=1"));
    auto jobs = claim(*store);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    // The attempt failed; it waits for a retry in an hour.
    server::TranscriptOutcome out{
        "default",  "c1", "a.jsonl", "o1", "pending", 1, now_ns() + 3'600'000'000'000,
        "HTTP 403", ""};
    BOOST_TEST(run_coro(store->finish_transcript_job(out)));
    BOOST_TEST(!run_coro(store->finish_transcript_job(out)));  // the lease is gone
    BOOST_TEST(claim(*store).empty());
    // A later event brings a new URL: due again, from the start of the schedule.
    deliver(*store, "w2",
            transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a?sig=2",
                                1775660800000000000));
    jobs = claim(*store);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_TEST(jobs[0].url == "https://cdn.example/a?sig=2");
    BOOST_TEST(jobs[0].step == 0);
    BOOST_TEST(jobs[0].attempts == 1);
    // A permanent failure settles it, with its reason; a re-listed URL is kept.
    server::TranscriptOutcome failed{"default",
                                     "c1",
                                     "a.jsonl",
                                     "o1",
                                     "failed",
                                     0,
                                     0,
                                     "too_large: the file is larger than 1024 bytes",
                                     "https://cdn.example/a?sig=3"};
    BOOST_TEST(run_coro(store->finish_transcript_job(failed)));
    const auto view = run_coro(store->get_transcript("default", "c1"));
    BOOST_REQUIRE_EQUAL(view.files.size(), 1u);
    BOOST_TEST(view.files[0].status == "failed");
    BOOST_TEST(view.files[0].error == failed.error);
    BOOST_TEST(view.files[0].url == "https://cdn.example/a?sig=3");
    // Releasing gives a lease back without counting an attempt; a lost lease stores nothing.
    BOOST_TEST(!run_coro(store->store_transcript(content("c1", "a.jsonl", {seg("a", 0, "x")}))));
  });
}

BOOST_AUTO_TEST_CASE(storing_writes_the_transcript_ready_event_once) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url, true, {"https://app.example/hook"});
    deliver(*store, "w1", transcription_ready("c1", "s1", "a.jsonl"));
    auto jobs = claim(*store);
    BOOST_REQUIRE_EQUAL(jobs.size(), 1u);
    BOOST_REQUIRE(run_coro(store->store_transcript(
        content("c1", "a.jsonl",
                {seg("alice", 0, "one"), seg("bob", 10, "two"), seg("alice", 20, "three")}))));
    const auto events = run_coro(store->list_app_events("", 0, 100));
    std::vector<server::AppEventRecord> ready;
    for (const auto& e : events)
      if (e.type == "meeting.transcript_ready") ready.push_back(e);
    BOOST_REQUIRE_EQUAL(ready.size(), 1u);
    const auto body = json::parse(ready[0].payload).as_object();
    const auto& t = body.at("data").at("transcript").as_object();
    BOOST_TEST(t.at("file").as_string() == "a.jsonl");
    BOOST_TEST(t.at("segmentCount").as_int64() == 3);
    BOOST_TEST(t.at("speakerCount").as_int64() == 2);
    BOOST_TEST(body.at("data").at("meeting").at("callId").as_string() == "c1");
  });
}

BOOST_AUTO_TEST_CASE(search_ranks_highlights_and_keeps_to_the_callers_meetings) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url);
    meeting_with_transcript(*store, "budget", "alice",
                            {seg("alice", 0, "Let us review the budget for next quarter"),
                             seg("bob", 2000, "The budget looks tight, budget cuts ahead"),
                             seg("alice", 4000, "Unrelated chatter about lunch"),
                             seg("carol", 6000, "Budget approved <script>alert(1)</script>"),
                             seg("bob", 8000, "one more budget remark")});
    meeting_with_transcript(*store, "lunch", "alice",
                            {seg("alice", 0, "Where shall we have lunch"),
                             seg("bob", 1000, "Café près de la gare, budget friendly")});
    meeting_with_transcript(*store, "secret", "mallory",
                            {seg("mallory", 0, "the budget of the secret project")});

    auto page = search(*store, "budget", "alice");
    BOOST_TEST(ids(page) == (std::vector<std::string>{"budget", "lunch"}),
               boost::test_tools::per_element());
    BOOST_REQUIRE(!page.hits.empty());
    const auto& top = page.hits[0];
    BOOST_TEST(top.matching_segments == 4);
    BOOST_TEST(top.matches.size() == 3u);  // at most three per meeting
    for (const auto& m : top.matches) {
      BOOST_TEST(m.highlighted.find(core::kMarkStart) != std::string::npos);
      const auto snippet = core::make_snippet(m.highlighted);
      BOOST_TEST(snippet.find("<mark>") != std::string::npos);
      BOOST_TEST(snippet.find("<script>") == std::string::npos);
    }
    // The stranger's meeting is found by an admin's all=true only.
    BOOST_TEST(ids(search(*store, "secret", "alice")).empty());
    BOOST_TEST(ids(search(*store, "secret", "root", true)) == std::vector<std::string>{"secret"},
               boost::test_tools::per_element());
    // Every term in one segment; phrases in order; prefixes; case and unicode.
    BOOST_TEST(ids(search(*store, "budget lunch", "alice")).empty());
    BOOST_TEST(ids(search(*store, "BUDGET Cuts", "alice")) == std::vector<std::string>{"budget"},
               boost::test_tools::per_element());
    BOOST_TEST(ids(search(*store, "\"cuts ahead\"", "alice")) == std::vector<std::string>{"budget"},
               boost::test_tools::per_element());
    BOOST_TEST(ids(search(*store, "\"ahead cuts\"", "alice")).empty());
    BOOST_TEST(ids(search(*store, "appro*", "alice")) == std::vector<std::string>{"budget"},
               boost::test_tools::per_element());
    BOOST_TEST(ids(search(*store, "café", "alice")) == std::vector<std::string>{"lunch"},
               boost::test_tools::per_element());
    BOOST_TEST(ids(search(*store, "CAFÉ gare", "alice")) == std::vector<std::string>{"lunch"},
               boost::test_tools::per_element());
    // Pages.
    auto first = search(*store, "budget", "alice", false, 0, 1);
    BOOST_TEST(ids(first) == std::vector<std::string>{"budget"}, boost::test_tools::per_element());
    BOOST_TEST(first.more);
    auto second = search(*store, "budget", "alice", false, 1, 1);
    BOOST_TEST(ids(second) == std::vector<std::string>{"lunch"}, boost::test_tools::per_element());
    BOOST_TEST(!second.more);
    BOOST_TEST(search(*store, "budget", "alice", false, 5, 1).hits.empty());
  });
}

// A caller with many meetings is searched in one pass over the index (SQLite maps each match to
// the caller's files by id); the answer is the same as file by file.
BOOST_AUTO_TEST_CASE(a_caller_with_many_meetings_finds_only_their_own) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url);
    meeting_with_transcript(*store, "other", "someone", {seg("x", 0, "a needle elsewhere")});
    for (int i = 0; i < 300; ++i) {
      const std::string id = "many" + std::to_string(i);
      deliver(*store, "s-" + id, session_started(id, "s1", "2026-04-08T14:00:00Z", "busy"));
      deliver(*store, "t-" + id, transcription_ready(id, "s1", id + ".jsonl"));
    }
    for (auto jobs = claim(*store, "fill"); !jobs.empty(); jobs = claim(*store, "fill"))
      for (const auto& j : jobs) {
        const bool needle = j.call_id == "many137" || j.call_id == "many299";
        BOOST_REQUIRE(run_coro(store->store_transcript(
            content(j.call_id, j.file,
                    {seg("busy", 0, needle ? "the needle is here" : "nothing to see")}, "fill"))));
      }
    auto page = search(*store, "needle", "busy");
    auto found = ids(page);
    std::sort(found.begin(), found.end());
    BOOST_TEST(found == (std::vector<std::string>{"many137", "many299"}),
               boost::test_tools::per_element());
    BOOST_TEST(search(*store, "needle", "root", true).hits.size() == 3u);
    BOOST_TEST(search(*store, "nothing", "busy", false, 0, 50).hits.size() == 50u);
    BOOST_TEST(search(*store, "nothing", "busy", false, 0, 50).more);
  });
}

BOOST_AUTO_TEST_CASE(hostile_queries_reach_the_index_as_plain_words) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_store(url);
    meeting_with_transcript(*store, "c1", "alice",
                            {seg("alice", 0, "near the end or not and maybe"),
                             seg("bob", 10, "quote \" and apostrophe ' here")});
    // Operators and syntax of FTS5 and tsquery: each is a word, or nothing, never syntax.
    for (const std::string q : {"\"",
                                "NEAR(end not)",
                                "end OR lunch",
                                "not AND maybe",
                                "end NOT maybe",
                                "a:b",
                                "'",
                                "''",
                                "\\",
                                "!end",
                                "end & | !",
                                "(end",
                                "end)",
                                "<->",
                                "end:*",
                                "text:end",
                                "^end",
                                "end -maybe",
                                "+end",
                                "{end}",
                                "*",
                                "end**",
                                "\"unclosed phrase",
                                "😀",
                                "😀 end",
                                "—",
                                "end—maybe",
                                "١٢٣",
                                "ＡＢＣ",
                                "ß",
                                "中文",
                                "\xef\xbb\xbf"
                                "end"}) {
      BOOST_TEST_CONTEXT("q = " << q) {
        std::string error;
        const auto parsed = core::parse_search_query(q, error);
        if (!parsed) {
          BOOST_TEST(!error.empty());
          continue;
        }
        server::TranscriptSearch s;
        s.query = *parsed;
        s.user_id = "alice";
        BOOST_CHECK_NO_THROW(run_coro(store->search_transcripts(s)));
      }
    }
    BOOST_TEST(ids(search(*store, "NEAR(end not)", "alice")) == std::vector<std::string>{"c1"},
               boost::test_tools::per_element());
    BOOST_TEST(ids(search(*store, "end OR lunch", "alice")).empty());  // OR is a word here
  });
}

BOOST_AUTO_TEST_CASE(a_stored_file_survives_a_reopen_and_offsets_follow_the_files) {
  for_each_backend([](const std::string&, const std::string& url) {
    {
      auto store = open_store(url);
      deliver(*store, "w1",
              transcription_ready("c1", "s1", "a.jsonl", "https://cdn.example/a",
                                  1775660700000000000, 1775656860000000000));
      deliver(*store, "w2",
              transcription_ready("c1", "s2", "b.jsonl", "https://cdn.example/b",
                                  1775660800000000000, 1775656860000000000 + 600'000'000'000));
      const auto jobs = claim(*store);
      BOOST_REQUIRE_EQUAL(jobs.size(), 2u);
      BOOST_REQUIRE(run_coro(
          store->store_transcript(content("c1", "b.jsonl", {seg("b", 5, "second file")}))));
      BOOST_REQUIRE(
          run_coro(store->store_transcript(content("c1", "a.jsonl", {seg("a", 7, "first file")}))));
    }
    auto store = open_store(url);
    const auto view = run_coro(store->get_transcript("default", "c1"));
    BOOST_REQUIRE_EQUAL(view.files.size(), 2u);
    BOOST_TEST(view.files[0].file == "a.jsonl");  // by start time
    BOOST_TEST(view.files[1].file == "b.jsonl");
    BOOST_TEST(server::transcript_offsets(view.files) == (std::vector<std::int64_t>{0, 600000}),
               boost::test_tools::per_element());
    BOOST_TEST(view.segments[1][0].text == "second file");
  });
}

BOOST_AUTO_TEST_SUITE_END()
