// Hardening: times out of range, stored documents that hold anything, gzip framing, and the
// cost of a call's history (issue "defects found from outside", items 1, 8 and 10).
#include <sqlite3.h>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <climits>

#include "core/meeting.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

// A session event whose times are given as raw JSON values (any type, any range).
std::string session_event(const std::string& type, const std::string& call,
                          const std::string& session, json::value created_at,
                          json::value started_at, json::value ended_at) {
  json::object s{{"id", session}, {"participants", json::array{}}, {"started_at", started_at}};
  if (!ended_at.is_null()) s["ended_at"] = ended_at;
  return json::serialize(json::object{{"type", type},
                                      {"created_at", created_at},
                                      {"call_cid", "default:" + call},
                                      {"session_id", session},
                                      {"call", call_object("default", call, "alice", s)}});
}

std::string iso(int minute) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "2026-04-08T%02d:%02d:00Z", 10 + minute / 60, minute % 60);
  return buf;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hardening_webhooks)

BOOST_AUTO_TEST_CASE(out_of_range_times_are_kept_as_failed_and_reads_stay_up) {
  RunningApp app;
  struct Case {
    const char* name;
    json::value created_at, started_at, ended_at;
  };
  const Case cases[] = {
      {"rfc3339 year 1000", json::value("1000-01-01T00:00:00Z"),
       json::value("1000-01-01T00:00:00Z"), nullptr},
      {"rfc3339 year 9999", json::value("9999-12-31T23:59:59Z"),
       json::value("9999-12-31T23:59:59Z"), nullptr},
      {"integer INT64_MIN", json::value(INT64_MIN), json::value("2026-04-08T14:00:00Z"), nullptr},
      {"integer INT64_MAX", json::value(INT64_MAX), json::value("2026-04-08T14:00:00Z"), nullptr},
      {"uint64 above INT64_MAX", json::value(std::uint64_t{18446744073709551615ULL}), nullptr,
       nullptr},
      {"double 1e300", json::value(1e300), nullptr, nullptr},
      {"double -1e19", json::value(-1e19), nullptr, nullptr},
      {"session -9e18 to +9e18 ns", json::value(std::int64_t{-9'000'000'000'000'000'000}),
       json::value(std::int64_t{-9'000'000'000'000'000'000}),
       json::value(std::int64_t{9'000'000'000'000'000'000})},
      {"before 1970", json::value("1969-12-31T23:59:59Z"), json::value("1969-12-31T23:59:59Z"),
       nullptr},
  };
  int n = 0;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const std::string call = "t" + std::to_string(++n);
      const auto type = c.ended_at.is_null() ? "call.session_started" : "call.session_ended";
      const auto r = post_hook(
          app.port, session_event(type, call, "s1", c.created_at, c.started_at, c.ended_at),
          "oor-" + call);
      // Signed and well-formed JSON: kept for replay, not applied, and never a crash.
      BOOST_TEST(r.status == 200);
      BOOST_TEST(status_of(r) == "failed");
      BOOST_TEST(get_meeting(app.port, call, admin_jwt()).status == 404);
      // The same call with sane times still works afterwards.
      BOOST_TEST(status_of(post_hook(app.port, session_started(call, "s1", "2026-04-08T14:00:00Z"),
                                     "ok-" + call)) == "applied");
      const auto m = meeting_view(app.port, call);
      BOOST_TEST(m.at("status").as_string() == "active");
    }
  }
  // Replaying the failed events fails them again, cleanly.
  const auto replay = http_request(app.port, "POST", "/api/v1/admin/webhooks/replay",
                                   {{"Authorization", "Bearer " + admin_jwt()}}, "{}");
  BOOST_TEST(replay.status == 200);
  BOOST_TEST(replay.json().at("data").at("applied").as_int64() == 0);
  BOOST_TEST(replay.json().at("data").at("failed").as_int64() ==
             static_cast<std::int64_t>(std::size(cases)));
}

BOOST_AUTO_TEST_CASE(a_stored_document_holding_anything_reads_without_crashing) {
  RunningApp app;
  BOOST_TEST(status_of(post_hook(app.port, session_started("doc", "s1", "2026-04-08T14:00:00Z"),
                                 "d1")) == "applied");
  const std::string path = app.temp_dir + "/streamgate.db";
  // What an older build, a hand edit or a bit flip might have left in the row.
  const std::string hostile = json::serialize(json::object{
      {"v", 1},
      {"callType", "default"},
      {"callId", "doc"},
      {"meetingId", 42},
      {"createdBy", json::array{1, 2}},
      {"custom", "not an object"},
      {"members", json::array{"x", 1, json::object{{"userId", 7}},
                              json::object{{"userId", "bob"}, {"role", "host"}}}},
      {"createdAt", INT64_MIN},
      {"endedAt", INT64_MAX},
      {"sessions",
       json::array{json::object{{"id", "a"},
                                {"startedAt", std::int64_t{-9'000'000'000'000'000'000}},
                                {"endedAt", std::int64_t{9'000'000'000'000'000'000}}},
                   json::object{{"id", "b"}, {"startedAt", "yesterday"}, {"endedAt", 1.5}},
                   "not a session"}},
      {"archivedSessions",
       json::object{
           {"count", INT64_MAX}, {"durationNs", INT64_MAX}, {"firstStartedAt", INT64_MIN}}},
      {"recordings", json::array{json::object{{"url", 5}, {"startTime", INT64_MIN}}, 17}},
      {"transcriptions", "none"},
      {"updatedAt", INT64_MIN}});
  sqlite3* db = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_prepare_v2(db,
                                        "UPDATE meetings SET document = ? WHERE call_id = 'doc'",
                                        -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, hostile.c_str(), static_cast<int>(hostile.size()), SQLITE_TRANSIENT);
  BOOST_TEST_REQUIRE(sqlite3_step(st) == SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_close(db);

  const auto r = get_meeting(app.port, "doc", admin_jwt());
  BOOST_TEST_REQUIRE(r.status == 200);
  const auto doc = r.json();
  const auto& m = doc.at("data").as_object();
  BOOST_TEST(m.at("createdAt").is_null());  // out of range reads as absent
  BOOST_TEST(m.at("endedAt").is_null());
  BOOST_TEST(m.at("durationSeconds").as_int64() >= 0);
  BOOST_TEST(m.at("members").as_array().size() == 2u);  // the objects; "x" and 1 are skipped
  // An event on top of it applies, and the meeting reads again.
  BOOST_TEST(status_of(post_hook(app.port, session_ended("doc", "s9", iso(0), iso(5)), "d2")) ==
             "applied");
  BOOST_TEST(get_meeting(app.port, "doc", admin_jwt()).status == 200);
}

BOOST_AUTO_TEST_CASE(gzip_members_are_all_inflated_and_trailing_bytes_refused) {
  RunningApp app;
  const std::string body = session_started("gz", "s1", "2026-04-08T14:00:00Z");
  const std::string sig = sign(kStreamSecret, body);
  const auto half = body.size() / 2;
  // Two members, as `cat a.gz b.gz` makes: gunzip yields the whole body, signed as a whole.
  const std::string two = gzip(body.substr(0, half)) + gzip(body.substr(half));
  const auto ok = post_hook(app.port, two, "gz1", sig);
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(status_of(ok) == "applied");
  // Anything after a member that is not another member is refused, whatever the signature.
  for (const std::string& tail : {std::string("garbage"), std::string(8, '\0'),
                                  std::string("\x1f", 1), std::string("\x1f\x8b", 2)}) {
    BOOST_TEST_CONTEXT("tail of " << tail.size() << " bytes") {
      const auto r = post_hook(app.port, gzip(body) + tail, "gz2", sig);
      BOOST_TEST(r.status == 400);
      BOOST_TEST(r.json().at("error").at("code").as_string() == "invalid_request");
    }
  }
  // Many small members together still obey the inflated size limit.
  std::string many;
  for (int i = 0; i < 200; ++i) many += gzip(std::string(8192, 'a'));
  BOOST_TEST(post_hook(app.port, many, "gz3", sig).status == 413);
}

BOOST_AUTO_TEST_CASE(a_long_history_keeps_exact_totals_in_a_bounded_document) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    constexpr int kSessions = 100;
    // Session i runs from minute 2i to 2i+1 (one minute each), delivered in order.
    for (int i = 0; i < kSessions; ++i) {
      const std::string sid = "s" + std::to_string(i);
      BOOST_TEST_REQUIRE(
          post_hook(app.port, session_started("hist", sid, iso(2 * i)), "hs" + sid).status == 200);
      BOOST_TEST_REQUIRE(
          post_hook(app.port, session_ended("hist", sid, iso(2 * i), iso(2 * i + 1)), "he" + sid)
              .status == 200);
    }
    auto m = meeting_view(app.port, "hist");
    BOOST_TEST(m.at("sessionCount").as_int64() == kSessions);
    BOOST_TEST(m.at("sessions").as_array().size() == core::kKeptEndedSessions);
    BOOST_TEST(m.at("durationSeconds").as_int64() == kSessions * 60);
    BOOST_TEST(m.at("startedAt").as_string() == "2026-04-08T10:00:00.000Z");
    BOOST_TEST(m.at("status").as_string() == "processing");
    // The newest sessions are the ones kept in detail.
    BOOST_TEST(m.at("sessions").as_array().back().at("sessionId").as_string() == "s99");

    // A late repeat for a summarised session (new webhook id) changes nothing...
    BOOST_TEST(status_of(post_hook(app.port, session_ended("hist", "s0", iso(0), iso(1)),
                                   "late-1")) == "applied");
    BOOST_TEST(status_of(post_hook(app.port, session_started("hist", "s0", iso(0)), "late-2")) ==
               "applied");
    m = meeting_view(app.port, "hist");
    BOOST_TEST(m.at("sessionCount").as_int64() == kSessions);
    BOOST_TEST(m.at("durationSeconds").as_int64() == kSessions * 60);
    BOOST_TEST(m.at("status").as_string() == "processing");
    // ...and a later end for it lengthens it exactly (merge rule: the later end wins).
    BOOST_TEST(status_of(post_hook(app.port, session_ended("hist", "s3", iso(6), iso(9)),
                                   "late-3")) == "applied");
    m = meeting_view(app.port, "hist");
    BOOST_TEST(m.at("sessionCount").as_int64() == kSessions);
    BOOST_TEST(m.at("durationSeconds").as_int64() == kSessions * 60 + 120);
    BOOST_TEST(m.at("sessions").as_array().size() == core::kKeptEndedSessions);
    // A new open session makes it active again, and is kept whatever its age.
    BOOST_TEST(status_of(post_hook(app.port, session_started("hist", "open", iso(300)),
                                   "late-4")) == "applied");
    m = meeting_view(app.port, "hist");
    BOOST_TEST(m.at("status").as_string() == "active");
    BOOST_TEST(m.at("sessionCount").as_int64() == kSessions + 1);
  });
}

BOOST_AUTO_TEST_SUITE_END()
