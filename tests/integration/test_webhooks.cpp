#include <sqlite3.h>
#include <zlib.h>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

#include "server/meetings/meeting_handlers.hpp"
#include "server/store/store.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/client.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/stream_events.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(webhooks)

BOOST_AUTO_TEST_CASE(a_signed_event_updates_the_meeting) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    const auto r =
        post_hook(app.port, session_started("m1", "s1", "2026-04-08T14:00:00.879421674Z"), "wh-1");
    BOOST_TEST_REQUIRE(r.status == 200);
    BOOST_TEST(status_of(r) == "applied");
    BOOST_TEST(r.json().at("data").at("webhookId").as_string() == "wh-1");
    const auto m = meeting_view(app.port, "m1");
    BOOST_TEST(m.at("status").as_string() == "active");
    BOOST_TEST(m.at("callCid").as_string() == "default:m1");
    BOOST_TEST(m.at("meetingId").as_string() == "m-m1");
    BOOST_TEST(m.at("createdBy").as_string() == "alice");
    BOOST_TEST(m.at("startedAt").as_string() == "2026-04-08T14:00:00.879Z");
    BOOST_TEST(m.at("sessions").as_array().size() == 1u);
    BOOST_TEST(http_request(app.port, "GET", "/readyz").status == 200);
  });
}

BOOST_AUTO_TEST_CASE(bad_signatures_and_keys_get_401_and_store_nothing) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    const std::string body = session_started("m2", "s1", "2026-04-08T14:00:00Z");
    std::string upper = sign(kStreamSecret, body);
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    std::string tampered = body;
    tampered.replace(tampered.find("alice"), 5, "mallo");
    struct Case {
      const char* name;
      HttpResponse response;
    };
    const std::vector<Case> cases = {
        {"tampered body", post_hook(app.port, tampered, "x1", sign(kStreamSecret, body))},
        {"wrong secret", post_hook(app.port, body, "x2", sign("not-the-secret", body))},
        {"upper-case hex", post_hook(app.port, body, "x3", upper)},
        {"missing signature", post_hook(app.port, body, "x4", std::string())},
        {"sha256= prefix", post_hook(app.port, body, "x5", "sha256=" + sign(kStreamSecret, body))},
        {"wrong api key",
         post_hook(app.port, body, "x6", std::nullopt, {{"X-Api-Key", "someone-else"}})},
    };
    for (const auto& c : cases) {
      BOOST_TEST_CONTEXT(c.name) {
        BOOST_TEST(c.response.status == 401);
        BOOST_TEST(c.response.json().at("success").as_bool() == false);
      }
    }
    BOOST_TEST(get_meeting(app.port, "m2", admin_jwt()).status == 404);
    auto store = open_store(url);
    for (const char* id : {"x1", "x2", "x3", "x4", "x5", "x6"})
      BOOST_TEST(!run_coro(store->get_inbox(id)).has_value());
  });
}

BOOST_AUTO_TEST_CASE(previous_secret_is_accepted_during_rotation) {
  RunningApp app({{"STREAM_API_SECRET_PREVIOUS", "the-old-secret"}});
  const std::string body = session_started("m3", "s1", "2026-04-08T14:00:00Z");
  BOOST_TEST(post_hook(app.port, body, "r1", sign("the-old-secret", body)).status == 200);
  BOOST_TEST(post_hook(app.port, body, "r2", sign("another-secret", body)).status == 401);
}

BOOST_AUTO_TEST_CASE(gzip_bodies_are_verified_after_inflating_and_bombs_refused) {
  RunningApp app({{"WEBHOOK_BODY_LIMIT_BYTES", "65536"}});
  const std::string body = session_started("m4", "s1", "2026-04-08T14:00:00Z");
  const std::string zipped = gzip(body);
  const auto ok =
      post_hook(app.port, zipped, "g1", sign(kStreamSecret, body), {{"Content-Encoding", "gzip"}});
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(status_of(ok) == "applied");
  // A signature over the compressed bytes is not Stream's signature.
  BOOST_TEST(post_hook(app.port, zipped, "g2", sign(kStreamSecret, zipped)).status == 401);
  // 10 MB of zeros squeezed into a few KB.
  const std::string bomb = gzip(std::string(10 * 1024 * 1024, '0'));
  BOOST_TEST(bomb.size() < 65536u);
  const auto refused = post_hook(app.port, bomb, "g3", sign(kStreamSecret, "x"));
  BOOST_TEST(refused.status == 413);
  BOOST_TEST(refused.json().at("error").at("code").as_string() == "payload_too_large");
  BOOST_TEST(
      post_hook(app.port, std::string("\x1f\x8bnot gzip", 10), "g4", sign(kStreamSecret, "x"))
          .status == 400);
}

BOOST_AUTO_TEST_CASE(valid_signature_on_bad_json_is_400) {
  RunningApp app;
  for (const std::string& body :
       {std::string("not json"), std::string("[1,2]"), std::string(R"({"call_cid":"default:x"})"),
        std::string(R"({"type":""})"), std::string(R"({"type":5})")}) {
    BOOST_TEST_CONTEXT(body) {
      const auto r = post_hook(app.port, body, "j-" + std::to_string(body.size()));
      BOOST_TEST(r.status == 400);
      BOOST_TEST(r.json().at("error").at("code").as_string() == "invalid_request");
    }
  }
}

BOOST_AUTO_TEST_CASE(retries_with_the_same_id_change_nothing) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    const std::string body =
        session_ended("m5", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:20:00Z");
    BOOST_TEST(status_of(post_hook(app.port, body, "d1")) == "applied");
    const auto first = meeting_view(app.port, "m5");
    for (int attempt = 2; attempt <= 3; ++attempt) {
      const auto r = post_hook(app.port, body, "d1", std::nullopt,
                               {{"X-Webhook-Attempt", std::to_string(attempt)}});
      BOOST_TEST(r.status == 200);
      BOOST_TEST(status_of(r) == "duplicate");
    }
    BOOST_TEST(meeting_view(app.port, "m5") == first);
    BOOST_TEST(first.at("durationSeconds").as_int64() == 1200);
  });
}

BOOST_AUTO_TEST_CASE(out_of_order_delivery_ends_in_the_same_meeting) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    const auto events = [](const std::string& call) {
      return std::vector<std::string>{
          session_started(call, "s1", "2026-04-08T14:00:00Z"),
          session_ended(call, "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:30:00Z"),
          recording_ready(call, "s1", "rec.mp4"), transcription_ready(call, "s1", "tr.txt"),
          call_ended(call, "alice", "2026-04-08T14:31:00Z")};
    };
    const std::vector<std::vector<int>> orders = {
        {0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 1, 4, 0, 3}, {1, 0, 3, 2, 4}};
    std::vector<json::object> views;
    for (std::size_t o = 0; o < orders.size(); ++o) {
      const std::string call = "order-" + std::to_string(o);
      const auto list = events(call);
      for (int i : orders[o])
        BOOST_TEST(post_hook(app.port, list[i], call + "-" + std::to_string(i)).status == 200);
      auto v = meeting_view(app.port, call);
      for (const char* k : {"callId", "callCid", "meetingId", "custom"}) v.erase(k);
      views.push_back(std::move(v));
    }
    for (const auto& v : views)
      BOOST_TEST(v == views.front(), json::serialize(v) << "\n  vs\n"
                                                        << json::serialize(views.front()));
    BOOST_TEST(views.front().at("status").as_string() == "processing");
    BOOST_TEST(views.front().at("recordings").as_array().size() == 1u);
    BOOST_TEST(views.front().at("transcriptions").as_array().size() == 1u);
    BOOST_TEST(views.front().at("endedAt").as_string() == "2026-04-08T14:31:00.000Z");
    // A late session_started for the ended session does not make it active again.
    BOOST_TEST(
        post_hook(app.port, session_started("order-0", "s1", "2026-04-08T14:00:00Z"), "late-1")
            .status == 200);
    BOOST_TEST(meeting_view(app.port, "order-0").at("status").as_string() == "processing");
  });
}

BOOST_AUTO_TEST_CASE(other_event_types_are_acknowledged_not_stored) {
  RunningApp app;
  const std::string body =
      R"({"type":"call.session_participant_joined","call_cid":"default:m6","session_id":"s1",)"
      R"("participant":{"user":{"id":"bob"},"user_session_id":"u1","role":"user",)"
      R"("joined_at":"2026-04-08T14:00:00Z"}})";
  const auto r = post_hook(app.port, body, "o1");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(status_of(r) == "ignored");
  BOOST_TEST(get_meeting(app.port, "m6", admin_jwt()).status == 404);
}

BOOST_AUTO_TEST_CASE(meetings_are_visible_to_their_creator_and_admins_only) {
  RunningApp app;
  BOOST_TEST(post_hook(app.port, session_started("m7", "s1", "2026-04-08T14:00:00Z", "alice"), "v1")
                 .status == 200);
  BOOST_TEST(get_meeting(app.port, "m7", app_jwt("alice")).status == 200);
  BOOST_TEST(get_meeting(app.port, "m7", admin_jwt()).status == 200);
  const auto other = get_meeting(app.port, "m7", app_jwt("mallory"));
  BOOST_TEST(other.status == 404);
  BOOST_TEST(other.json().at("error").at("code").as_string() == "not_found");
  BOOST_TEST(get_meeting(app.port, "nope", admin_jwt()).status == 404);
  BOOST_TEST(http_request(app.port, "GET", "/api/v1/calls/m7").status == 401);
  BOOST_TEST(get_meeting(app.port, "bad%20id", admin_jwt()).status == 400);
  BOOST_TEST(http_request(app.port, "GET", "/api/v1/calls/m7?type=livestream",
                          {{"Authorization", "Bearer " + admin_jwt()}})
                 .status == 404);
  BOOST_TEST(http_request(app.port, "GET", "/api/v1/calls/m7?type=default",
                          {{"Authorization", "Bearer " + admin_jwt()}})
                 .status == 200);
}

BOOST_AUTO_TEST_CASE(call_tokens_for_members_follow_the_meeting) {
  RunningApp app({{"CALL_TOKEN_POLICY", "members"}});
  BOOST_TEST(
      post_hook(app.port, session_started("m8", "s1", "2026-04-08T14:00:00Z", "alice"), "ct1")
          .status == 200);
  const auto token = [&](const std::string& jwt, const std::string& body) {
    return http_request(app.port, "POST", "/api/v1/stream/token",
                        {{"Authorization", "Bearer " + jwt}}, body);
  };
  const auto ok = token(app_jwt("alice"), R"({"callCids":["default:m8"]})");
  BOOST_TEST_REQUIRE(ok.status == 200);
  const auto claims =
      core::decode_jwt(std::string(ok.json().at("data").at("token").as_string())).jwt->claims;
  BOOST_TEST(claims.at("call_cids").as_array()[0].as_string() == "default:m8");
  BOOST_TEST(token(app_jwt("mallory"), R"({"callCids":["default:m8"]})").status == 403);
  BOOST_TEST(token(app_jwt("alice"), R"({"callCids":["default:m8"],"role":"admin"})").status ==
             403);
  const auto admin = token(admin_jwt(), R"({"callCids":["default:m8"],"role":"admin"})");
  BOOST_TEST(admin.status == 200);
}

BOOST_AUTO_TEST_CASE(replay_is_for_admins_and_reapplies_failed_events) {
  for_each_backend([](const std::string&, const std::string& url) {
    RunningApp app({{"DATABASE_URL", url}});
    const auto failed =
        post_hook(app.port, R"({"type":"call.session_started","call_cid":"default:m9"})", "f1");
    BOOST_TEST(failed.status == 200);
    BOOST_TEST(status_of(failed) == "failed");
    {
      // An event an older build refused, now applicable.
      auto store = open_store(url);
      const std::string good =
          session_ended("m9", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:05:00Z");
      run_coro(store->record_webhook(
          server::InboxEvent{"f2", "call.session_ended", "default", "m9", good, 1, ""},
          [](std::optional<core::Meeting>) {
            return server::ApplyResult{std::nullopt, "old bug"};
          }));
    }
    const auto replay = [&](const std::string& jwt, const std::string& body) {
      return http_request(app.port, "POST", "/api/v1/admin/webhooks/replay",
                          {{"Authorization", "Bearer " + jwt}}, body);
    };
    BOOST_TEST(replay(app_jwt("alice"), "").status == 403);
    BOOST_TEST(replay(admin_jwt(), R"({"limit":0})").status == 400);
    const auto r = replay(admin_jwt(), "");
    BOOST_TEST_REQUIRE(r.status == 200);
    const auto data = r.json().at("data").as_object();
    BOOST_TEST(data.at("replayed").as_int64() == 2);
    BOOST_TEST(data.at("applied").as_int64() == 1);
    BOOST_TEST(data.at("failed").as_int64() == 1);
    BOOST_TEST(meeting_view(app.port, "m9").at("durationSeconds").as_int64() == 300);
    const auto again = replay(admin_jwt(), R"({"webhookIds":["f2"]})");
    BOOST_TEST(again.json().at("data").at("replayed").as_int64() == 0);
  });
}

BOOST_AUTO_TEST_CASE(store_down_answers_503_and_the_retry_is_applied) {
  // SQLite: another process holds the write lock longer than the busy timeout.
  {
    RunningApp app({{"DATABASE_BUSY_TIMEOUT_MS", "200"}});
    const std::string path = app.temp_dir + "/streamgate.db";
    sqlite3* db = nullptr;
    BOOST_TEST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    // The service's background loops read and write now and then: wait for their transaction.
    sqlite3_busy_timeout(db, 5000);
    BOOST_TEST_REQUIRE(sqlite3_exec(db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
    const std::string body = session_started("down1", "s1", "2026-04-08T14:00:00Z");
    const auto refused = post_hook(app.port, body, "sd1");
    BOOST_TEST(refused.status == 503);
    BOOST_TEST(refused.json().at("error").at("code").as_string() == "store_unavailable");
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    const auto retried = post_hook(app.port, body, "sd1");
    BOOST_TEST(retried.status == 200);
    BOOST_TEST(status_of(retried) == "applied");
    BOOST_TEST(meeting_view(app.port, "down1").at("status").as_string() == "active");
  }
  // PostgreSQL: the server is stopped, then started again.
  PostgresServer* pg = shared_postgres();
  if (pg == nullptr) return;  // reported by for_each_backend elsewhere
  RunningApp app({{"DATABASE_URL", pg->create_database(fresh_database_name())},
                  {"DATABASE_BUSY_TIMEOUT_MS", "500"}});
  const std::string body = session_started("down2", "s1", "2026-04-08T14:00:00Z");
  pg->stop();
  const auto refused = post_hook(app.port, body, "sd2");
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(http_request(app.port, "GET", "/readyz").status == 503);
  pg->start();
  const auto retried = post_hook(app.port, body, "sd2");
  BOOST_TEST(retried.status == 200);
  BOOST_TEST(status_of(retried) == "applied");
  BOOST_TEST(http_request(app.port, "GET", "/readyz").status == 200);
}

BOOST_AUTO_TEST_CASE(two_replicas_on_one_postgres_apply_a_retry_once) {
  PostgresServer* pg = shared_postgres();
  if (pg == nullptr) {
    for_each_backend([](const std::string&, const std::string&) {});  // reports the skip
    return;
  }
  const std::string url = pg->create_database(fresh_database_name());
  RunningApp a({{"DATABASE_URL", url}});
  RunningApp b({{"DATABASE_URL", url}});
  const std::string body =
      session_ended("shared", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:15:00Z");
  BOOST_TEST(status_of(post_hook(a.port, body, "rep-1")) == "applied");
  BOOST_TEST(status_of(post_hook(b.port, body, "rep-1")) == "duplicate");
  // Both at once, many times: one applies, the rest are duplicates.
  std::atomic<int> applied{0}, dup{0};
  std::vector<std::thread> threads;
  const std::string second =
      session_ended("shared", "s2", "2026-04-08T15:00:00Z", "2026-04-08T15:05:00Z");
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      const auto s = status_of(post_hook(i % 2 ? a.port : b.port, second, "rep-2"));
      (s == "applied" ? applied : dup)++;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(applied.load() == 1);
  BOOST_TEST(dup.load() == 7);
  const auto va = meeting_view(a.port, "shared");
  BOOST_TEST(va == meeting_view(b.port, "shared"));
  BOOST_TEST(va.at("durationSeconds").as_int64() == 1200);
}

BOOST_AUTO_TEST_SUITE_END()
