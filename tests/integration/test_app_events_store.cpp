// The outbox and the meeting list, on both backends: events written in the change's own
// transaction, once per transition; leases, retries and redelivery; keyset pages.
#include <sqlite3.h>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <set>

#include "core/meeting.hpp"
#include "server/meetings/events.hpp"
#include "server/store/store.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

std::unique_ptr<server::Store> open_with(const std::string& url, std::vector<std::string> endpoints,
                                         std::vector<std::string> types = {},
                                         std::function<void()> on_written = nullptr) {
  server::StoreOptions o;
  o.database_url = url;
  o.pool_size = 2;
  o.busy_timeout_ms = 2000;
  o.app_events.endpoints = std::move(endpoints);
  o.app_events.types = std::move(types);
  o.app_events.on_written = std::move(on_written);
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

std::vector<server::AppEventRecord> events(server::Store& store, const std::string& status = "") {
  return run_coro(store.list_app_events(status, 0, 1000));
}

std::multiset<std::string> types_of(const std::vector<server::AppEventRecord>& es) {
  std::multiset<std::string> out;
  for (const auto& e : es) out.insert(e.type);
  return out;
}

std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }

const std::string kStart = "2026-04-08T14:00:00Z";
const std::string kEnd = "2026-04-08T14:30:00Z";

}  // namespace

BOOST_AUTO_TEST_SUITE(app_event_outbox)

BOOST_AUTO_TEST_CASE(each_transition_is_written_once_per_endpoint_with_the_change) {
  for_each_backend([](const std::string&, const std::string& url) {
    std::atomic<int> wakes{0};
    auto store =
        open_with(url, {"http://127.0.0.1:1/a", "https://example.com/b"}, {}, [&] { ++wakes; });
    deliver(*store, "w1", session_started("c1", "s1", kStart));
    auto es = events(*store);
    BOOST_TEST(es.size() == 4u);  // created and started, to both endpoints
    BOOST_TEST(types_of(es) == (std::multiset<std::string>{"meeting.created", "meeting.created",
                                                           "meeting.started", "meeting.started"}),
               boost::test_tools::per_element());
    BOOST_TEST(wakes.load() >= 1);
    // The same id for both endpoints; each row pending and due.
    BOOST_TEST(es[0].id == es[1].id);
    BOOST_TEST(es[0].endpoint != es[1].endpoint);
    for (const auto& e : es) {
      BOOST_TEST(e.status == "pending");
      BOOST_TEST(e.next_attempt_at <= now_ns());
      const auto body = json::parse(e.payload).as_object();
      BOOST_TEST(body.at("type").as_string() == e.type);
      BOOST_TEST(body.at("data").at("version").as_int64() == 1);
    }
    auto m = run_coro(store->get_meeting("default", "c1"));
    BOOST_TEST(m->version == 1);

    // A duplicate delivery, and the same facts under a new webhook id: no event, no version.
    deliver(*store, "w1", session_started("c1", "s1", kStart));
    deliver(*store, "w2", session_started("c1", "s1", kStart));
    BOOST_TEST(events(*store).size() == 4u);
    BOOST_TEST(run_coro(store->get_meeting("default", "c1"))->version == 1);

    deliver(*store, "w3", session_ended("c1", "s1", kStart, kEnd));
    deliver(*store, "w4", recording_ready("c1", "s1", "r1.mp4"));
    es = events(*store);
    BOOST_TEST(es.size() == 8u);
    BOOST_TEST(run_coro(store->get_meeting("default", "c1"))->version == 3);
    // The outbox keeps the order of the changes, and each body the version it announced.
    std::vector<std::string> order;
    for (const auto& e : es)
      if (e.endpoint == "https://example.com/b") {
        order.push_back(e.type);
      }
    BOOST_TEST(order == (std::vector<std::string>{"meeting.created", "meeting.started",
                                                  "meeting.ended", "meeting.recording_ready"}),
               boost::test_tools::per_element());
    BOOST_TEST(json::parse(es.back().payload).at("data").at("version").as_int64() == 3);
  });
}

BOOST_AUTO_TEST_CASE(the_filter_and_the_off_switch_write_nothing_else) {
  for_each_backend([](const std::string&, const std::string& url) {
    {
      auto store = open_with(url, {"http://127.0.0.1:1/a"}, {"meeting.ended"});
      deliver(*store, "f1", session_started("c2", "s1", kStart));
      deliver(*store, "f2", session_ended("c2", "s1", kStart, kEnd));
      const auto es = events(*store);
      BOOST_TEST_REQUIRE(es.size() == 1u);
      BOOST_TEST(es[0].type == "meeting.ended");
    }
    {
      auto store = open_with(url, {});  // no URL: the feature is off
      deliver(*store, "f3", session_started("c3", "s1", kStart));
      BOOST_TEST(events(*store).size() == 1u);  // only the earlier one
      BOOST_TEST(run_coro(store->get_meeting("default", "c3"))->version == 1);
    }
  });
}

BOOST_AUTO_TEST_CASE(claims_are_leased_retried_failed_and_redelivered) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_with(url, {"http://127.0.0.1:1/a"});
    deliver(*store, "l1", session_started("c4", "s1", kStart));  // created, started
    const std::int64_t now = now_ns();
    server::AppEventClaim a{now, now + 60'000'000'000, "A", 10};
    auto mine = run_coro(store->claim_app_events(a));
    BOOST_TEST_REQUIRE(mine.size() == 2u);
    BOOST_TEST(mine[0].seq < mine[1].seq);
    // Leased: another replica claims nothing, and cannot record an outcome.
    server::AppEventClaim b{now, now + 60'000'000'000, "B", 10};
    BOOST_TEST(run_coro(store->claim_app_events(b)).empty());
    BOOST_TEST(!run_coro(store->finish_app_event({mine[0].seq, "B", "delivered", 0, 0, ""})));
    // A: the first delivered, the second to be retried in 10 s.
    BOOST_TEST(run_coro(store->finish_app_event({mine[0].seq, "A", "delivered", 0, 0, ""})));
    BOOST_TEST(run_coro(store->finish_app_event(
        {mine[1].seq, "A", "pending", 1, now + 10'000'000'000, "HTTP 500"})));
    BOOST_TEST(run_coro(store->claim_app_events(b)).empty());  // not due yet
    b.now = now + 11'000'000'000;
    auto later = run_coro(store->claim_app_events(b));
    BOOST_TEST_REQUIRE(later.size() == 1u);
    BOOST_TEST(later[0].attempts == 1);
    BOOST_TEST(later[0].step == 1);
    BOOST_TEST(later[0].last_error == "HTTP 500");
    BOOST_TEST(run_coro(store->finish_app_event({later[0].seq, "B", "failed", 1, 0, "HTTP 503"})));
    BOOST_TEST(events(*store, "failed").size() == 1u);
    BOOST_TEST(events(*store, "delivered").size() == 1u);
    const auto stats = run_coro(store->app_event_stats());
    BOOST_TEST(stats.pending == 0);
    // A lease that ran out frees the event for another replica.
    deliver(*store, "l2", session_ended("c4", "s1", kStart, kEnd));
    const std::int64_t t = now_ns();
    BOOST_TEST(run_coro(store->claim_app_events({t, t + 1'000'000'000, "dead", 10})).size() == 1u);
    BOOST_TEST(run_coro(store->claim_app_events({t, t + 1, "C", 10})).empty());
    BOOST_TEST(
        run_coro(store->claim_app_events({t + 2'000'000'000, t + 9'000'000'000, "C", 10})).size() ==
        1u);
    BOOST_TEST(run_coro(store->app_event_stats()).pending == 1);
    BOOST_TEST(run_coro(store->app_event_stats()).oldest_pending_at.has_value());

    // Redelivery: one event by id (every endpoint), or every failed one; unknown ids change
    // nothing.
    BOOST_TEST(run_coro(store->redeliver_app_events("evt_unknown", t)) == 0);
    BOOST_TEST(run_coro(store->redeliver_app_events(mine[0].id, t)) == 1);
    BOOST_TEST(run_coro(store->redeliver_app_events("", t)) == 1);
    const auto pending = events(*store, "pending");
    BOOST_TEST(pending.size() == 3u);
    for (const auto& e : pending) BOOST_TEST(e.step == 0);
  });
}

// A meeting's events reach an endpoint in order: an event waiting for a retry holds back the
// later events of its meeting and endpoint, not those of other meetings or endpoints.
BOOST_AUTO_TEST_CASE(a_retry_holds_back_only_its_own_meeting_and_endpoint) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_with(url, {"http://127.0.0.1:1/a", "http://127.0.0.1:1/b"});
    deliver(*store, "o1", session_started("o1", "s1", kStart));  // created, started (×2)
    deliver(*store, "o2", session_started("o2", "s1", kStart));  // another meeting (×2)
    const std::int64_t now = now_ns();
    auto first = run_coro(store->claim_app_events({now, now + 60'000'000'000, "A", 100}));
    BOOST_TEST_REQUIRE(first.size() == 8u);
    // o1's created to endpoint a fails; the rest of o1/a is given back unattempted.
    for (const auto& e : first) {
      std::string status = "delivered";
      if (e.call_id == "o1" && e.endpoint.back() == 'a')
        status = e.type == "meeting.created" ? "pending" : "released";
      BOOST_TEST(run_coro(store->finish_app_event(
          {e.seq, "A", status, 1, status == "pending" ? now + 5'000'000'000 : 0, "HTTP 500"})));
    }
    deliver(*store, "o3", session_ended("o1", "s1", kStart, kEnd));  // o1 ended (×2)
    const auto t = now_ns();                                         // before the retry is due
    const auto next = run_coro(store->claim_app_events({t, t + 60'000'000'000, "A", 100}));
    BOOST_TEST_REQUIRE(next.size() == 1u);  // only o1's ended to b
    BOOST_TEST(next[0].endpoint.back() == 'b');
    BOOST_TEST(run_coro(store->finish_app_event({next[0].seq, "A", "delivered", 0, 0, ""})));
    // Once the retry is due, o1/a goes on in order.
    const auto later = t + 6'000'000'000;
    const auto rest = run_coro(store->claim_app_events({later, later + 60'000'000'000, "A", 100}));
    std::vector<std::string> order;
    for (const auto& e : rest) order.push_back(e.type);
    BOOST_TEST(
        order == (std::vector<std::string>{"meeting.created", "meeting.started", "meeting.ended"}),
        boost::test_tools::per_element());
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(meeting_list)

namespace {

// A meeting created `i` seconds after a base time, by `creator`, with `members`.
void make_meeting(server::Store& store, const std::string& id, std::int64_t i,
                  const std::string& creator, std::vector<std::string> members) {
  run_coro(store.update_meeting(
      "default", id, [&](std::optional<core::Meeting>) -> std::optional<core::Meeting> {
        auto m = core::new_meeting("default", id, creator, {},
                                   core::from_unix_nanos((1'775'000'000 + i) * 1'000'000'000));
        for (const auto& u : members) m.members.push_back({u, "participant"});
        return m;
      }));
}

std::vector<std::string> all_pages(server::Store& store, server::MeetingListQuery q,
                                   std::size_t* pages = nullptr) {
  std::vector<std::string> ids;
  for (std::size_t n = 0; n < 1000; ++n) {
    const auto page = run_coro(store.list_meetings(q));
    for (const auto& m : page.meetings) ids.push_back(m.call_id);
    if (pages) *pages = n + 1;
    if (!page.next) break;
    q.after = page.next;
  }
  return ids;
}

}  // namespace

BOOST_AUTO_TEST_CASE(newest_first_keyset_pages_by_membership_and_status) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open_with(url, {});
    // 45 meetings: alice creates the even ones, bob the odd ones; carol is a member of every
    // third. Two share a creation time (the call id breaks the tie).
    for (int i = 0; i < 45; ++i)
      make_meeting(*store, "m" + std::to_string(100 + i), i == 44 ? 43 : i, i % 2 ? "bob" : "alice",
                   i % 3 == 0 ? std::vector<std::string>{"carol"} : std::vector<std::string>{});
    server::MeetingListQuery q;
    q.user_id = "alice";
    q.limit = 5;
    std::size_t pages = 0;
    auto ids = all_pages(*store, q, &pages);
    BOOST_TEST(ids.size() == 23u);
    BOOST_TEST(pages == 5u);
    BOOST_TEST(ids.front() == "m144");  // newest first
    BOOST_TEST(ids.back() == "m100");
    BOOST_TEST(std::set<std::string>(ids.begin(), ids.end()).size() == ids.size());
    q.user_id = "carol";
    BOOST_TEST(all_pages(*store, q).size() == 15u);
    q.user_id = "mallory";
    const auto none = run_coro(store->list_meetings(q));
    BOOST_TEST(none.meetings.empty());
    BOOST_TEST(!none.next.has_value());
    // A page exactly full is the last: no cursor to an empty page.
    q.user_id = "alice";
    q.limit = 23;
    BOOST_TEST(!run_coro(store->list_meetings(q)).next.has_value());
    // all (admins).
    server::MeetingListQuery all;
    all.all = true;
    all.limit = 7;
    BOOST_TEST(all_pages(*store, all).size() == 45u);

    // Stable under inserts: a page taken, newer meetings added, the next page continues where
    // the first stopped.
    server::MeetingListQuery alice;
    alice.user_id = "alice";
    alice.limit = 10;
    const auto first = run_coro(store->list_meetings(alice));
    make_meeting(*store, "new1", 1000, "alice", {});
    make_meeting(*store, "new2", 1001, "alice", {});
    alice.after = first.next;
    const auto second = run_coro(store->list_meetings(alice));
    BOOST_TEST(second.meetings.front().call_id == "m124");
    BOOST_TEST(first.meetings.back().call_id == "m126");

    // Status: a session makes a meeting active, and the list follows.
    deliver(*store, "st1", session_started("m110", "s1", kStart, "alice"));
    server::MeetingListQuery active;
    active.user_id = "alice";
    active.status = "active";
    const auto a = all_pages(*store, active);
    BOOST_TEST_REQUIRE(a.size() == 1u);
    BOOST_TEST(a[0] == "m110");
    active.all = true;
    BOOST_TEST(all_pages(*store, active).size() == 1u);
    active.status = "processing";
    BOOST_TEST(all_pages(*store, active).empty());

    // A member added later finds the meeting in their list.
    run_coro(store->update_meeting(
        "default", "m101", [](std::optional<core::Meeting> m) -> std::optional<core::Meeting> {
          m->members.push_back({"dave", "participant"});
          return m;
        }));
    server::MeetingListQuery dave;
    dave.user_id = "dave";
    BOOST_TEST(all_pages(*store, dave) == (std::vector<std::string>{"m101"}),
               boost::test_tools::per_element());
  });
}

// The migration that brought the list fills its index from the meetings already stored.
BOOST_AUTO_TEST_CASE(the_migration_indexes_meetings_stored_before_it) {
  const std::string dir = make_temp_dir("sg-backfill");
  const std::string path = dir + "/streamgate.db";
  {
    auto store = open_with("sqlite:" + path, {});
    make_meeting(*store, "old1", 1, "alice", {"bob"});
    make_meeting(*store, "old2", 2, "bob", {});
  }
  {
    // Back to schema 3, as a database of an earlier release.
    sqlite3* db = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* sql =
        "DROP TABLE meeting_index; DROP TABLE app_events; DROP INDEX meetings_list;"
        "DROP INDEX meetings_list_status; ALTER TABLE meetings DROP COLUMN created_at;"
        "DROP TABLE transcript_fts; DROP TABLE transcript_segments; DROP TABLE transcripts;"
        "DELETE FROM schema_migrations WHERE version >= 4;";
    char* err = nullptr;
    BOOST_TEST(sqlite3_exec(db, sql, nullptr, nullptr, &err) == SQLITE_OK, (err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(db);
  }
  auto store = open_with("sqlite:" + path, {});
  server::MeetingListQuery bob;
  bob.user_id = "bob";
  BOOST_TEST(all_pages(*store, bob) == (std::vector<std::string>{"old2", "old1"}),
             boost::test_tools::per_element());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BOOST_AUTO_TEST_SUITE_END()
