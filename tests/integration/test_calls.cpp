#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/app_events.hpp"
#include "core/jwt.hpp"
#include "http/trace.hpp"

#include <set>
#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/calls_client.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(calls)

BOOST_AUTO_TEST_CASE(create_call_upserts_users_creates_the_call_and_stores_the_meeting) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  const auto r = api(
      app.port, "POST", "/api/v1/calls", app_jwt("alice"),
      R"({"callId":"meeting-123","members":[{"userId":"bob"},{"userId":"carol","role":"admin"}],)"
      R"("custom":{"agentId":"agent-456","agentName":"Sales Assistant"}})");
  BOOST_TEST_REQUIRE(r.status == 201, r.body);
  const auto data = r.json().at("data").as_object();
  BOOST_TEST(data.at("callCid").as_string() == "default:meeting-123");
  BOOST_TEST(data.at("meetingId").as_string() == "meeting-123");
  BOOST_TEST(data.at("createdBy").as_string() == "alice");
  BOOST_TEST(data.at("status").as_string() == "created");
  BOOST_TEST(data.at("custom").at("agentName").as_string() == "Sales Assistant");
  BOOST_TEST(data.at("members").as_array().size() == 3u);

  // What Stream received: users first, then the call with its creator and members.
  const auto users = fake.requests_to("POST", "/api/v2/users");
  BOOST_TEST_REQUIRE(users.size() == 1u);
  const auto ubody = json::parse(users[0].body).as_object();
  for (const char* u : {"alice", "bob", "carol"})
    BOOST_TEST(ubody.at("users").as_object().contains(u));
  const auto create = fake.requests_to("POST", "/api/v2/video/call/default/meeting-123");
  BOOST_TEST_REQUIRE(create.size() == 1u);
  BOOST_TEST((users[0].at < create[0].at));
  const auto cdata = json::parse(create[0].body).at("data").as_object();
  BOOST_TEST(cdata.at("created_by_id").as_string() == "alice");
  BOOST_TEST(cdata.at("custom").at("meetingId").as_string() == "meeting-123");
  const auto& members = cdata.at("members").as_array();
  BOOST_TEST(members[0].at("user_id").as_string() == "alice");
  BOOST_TEST(members[0].at("role").as_string() == "host");
  BOOST_TEST(members[2].at("role").as_string() == "admin");
  BOOST_TEST(fake.violations().empty(),
             fake.violations().size() << " violations, first: "
                                      << (fake.violations().empty() ? "" : fake.violations()[0]));

  // Stored before answering: the creator and a member read it; a stranger does not.
  BOOST_TEST(api(app.port, "GET", "/api/v1/calls/meeting-123", app_jwt("alice")).status == 200);
  BOOST_TEST(api(app.port, "GET", "/api/v1/calls/meeting-123", app_jwt("bob")).status == 200);
  BOOST_TEST(api(app.port, "GET", "/api/v1/calls/meeting-123", app_jwt("mallory")).status == 404);

  // Idempotent: the same call again is 200 with the existing meeting.
  const auto again =
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"meeting-123"})");
  BOOST_TEST(again.status == 200);
  BOOST_TEST(again.json().at("message").as_string() == "Call already exists");
  expect_error(
      api(app.port, "POST", "/api/v1/calls", app_jwt("mallory"), R"({"callId":"meeting-123"})"),
      409, "call_exists");
}

BOOST_AUTO_TEST_CASE(a_call_without_an_id_gets_a_uuid_and_bad_bodies_get_400) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), "");
  BOOST_TEST_REQUIRE(r.status == 201);
  const std::string id(r.json().at("data").at("callId").as_string());
  BOOST_TEST(id.size() == 36u);
  BOOST_TEST(id[14] == '4');
  for (const char* body :
       {"[1]", R"({"callId":"bad id"})", R"({"callId":5})", R"({"members":"bob"})",
        R"({"members":[{"userId":"a b"}]})", R"({"custom":[1]})", R"({"callType":"x/y"})"}) {
    BOOST_TEST_CONTEXT(body) {
      expect_error(api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), body), 400,
                   "invalid_request");
    }
  }
  BOOST_TEST(http_request(app.port, "POST", "/api/v1/calls", {}, "{}").status == 401);
}

BOOST_AUTO_TEST_CASE(participants_and_end_are_for_the_creator_or_admins) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  BOOST_TEST_REQUIRE(api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                         R"({"callId":"c2","members":[{"userId":"bob"}]})")
                         .status == 201);
  const auto add = api(app.port, "POST", "/api/v1/calls/c2/participants", app_jwt("alice"),
                       R"({"userId":"dave"})");
  BOOST_TEST_REQUIRE(add.status == 200, add.body);
  const auto upd = fake.requests_to("POST", "/api/v2/video/call/default/c2/members");
  BOOST_TEST_REQUIRE(upd.size() == 1u);
  const auto um = json::parse(upd[0].body).at("update_members").as_array();
  BOOST_TEST(um[0].at("user_id").as_string() == "dave");
  BOOST_TEST(um[0].at("role").as_string() == "participant");
  BOOST_TEST(fake.has_user("dave"));
  bool listed = false;
  const auto added = add.json();
  for (const auto& m : added.at("data").at("members").as_array())
    if (m.at("userId").as_string() == "dave") listed = m.at("role").as_string() == "participant";
  BOOST_TEST(listed);
  BOOST_TEST(api(app.port, "GET", "/api/v1/calls/c2", app_jwt("dave")).status == 200);

  expect_error(
      api(app.port, "POST", "/api/v1/calls/c2/participants", app_jwt("bob"), R"({"userId":"eve"})"),
      403, "forbidden");
  expect_error(api(app.port, "POST", "/api/v1/calls/c2/participants", app_jwt("mallory"),
                   R"({"userId":"eve"})"),
               404, "not_found");
  expect_error(
      api(app.port, "POST", "/api/v1/calls/c2/participants", app_jwt("alice"), R"({"userId":""})"),
      400, "invalid_request");
  BOOST_TEST(api(app.port, "POST", "/api/v1/calls/c2/participants", admin(),
                 R"({"userId":"erin","role":"host"})")
                 .status == 200);

  expect_error(api(app.port, "POST", "/api/v1/calls/c2/end", app_jwt("bob")), 403, "forbidden");
  const auto end = api(app.port, "POST", "/api/v1/calls/c2/end", app_jwt("alice"));
  BOOST_TEST_REQUIRE(end.status == 200, end.body);
  BOOST_TEST(end.json().at("data").at("endedBy").as_string() == "alice");
  BOOST_TEST(!end.json().at("data").at("endedAt").is_null());
  BOOST_TEST(fake.requests_to("POST", "/c2/mark_ended").size() == 1u);
  BOOST_TEST(api(app.port, "POST", "/api/v1/calls/c2/end", app_jwt("alice")).status == 200);
  BOOST_TEST(fake.requests_to("POST", "/c2/mark_ended").size() == 1u);  // not asked twice
  expect_error(api(app.port, "POST", "/api/v1/calls/nope/end", app_jwt("alice")), 404, "not_found");
  BOOST_TEST(fake.violations().empty());
}

BOOST_AUTO_TEST_CASE(stream_errors_are_mapped) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"STREAM_MAX_ATTEMPTS", "3"}}));
  struct Case {
    const char* name;
    FakeResponse response;
    int status;
    const char* code;
  };
  const std::vector<Case> table = {
      {"input error", FakeStream::error(400, 4, "custom is too large"), 400, "upstream_rejected"},
      {"not found", FakeStream::error(404, 16, "does not exist"), 404, "upstream_rejected"},
      {"bad credentials", FakeStream::error(401, 2, "api key invalid"), 502, "upstream_rejected"},
      {"unrecoverable 5xx", FakeStream::error(500, -1, "broken", true), 502,
       "upstream_unavailable"},
      {"not JSON", FakeResponse{502, {}, "<html>bad gateway</html>"}, 502, "upstream_unavailable"},
  };
  int n = 0;
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.name) {
      const auto before = fake.requests().size();
      fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
        if (r.path.rfind("/api/v2/video/call/", 0) == 0) return c.response;
        return std::nullopt;
      });
      const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                         R"({"callId":"err-)" + std::to_string(n++) + "\"}");
      expect_error(r, c.status, c.code);
      const auto rj = r.json();
      const auto& err = rj.at("error").as_object();
      if (c.response.status == 400) BOOST_TEST(err.at("upstreamCode").as_int64() == 4);
      // 4xx and unrecoverable errors are not retried: users + one call attempt.
      const auto sent = fake.requests().size() - before;
      if (std::string(c.name) != "not JSON") BOOST_TEST(sent == 2u);
      BOOST_TEST(r.body.find(kStreamSecret) == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(transient_failures_are_retried) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  std::atomic<int> failures{1};
  fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
    if (r.path.rfind("/api/v2/video/call/", 0) == 0 && failures-- > 0)
      return FakeStream::error(503, -1, "busy");
    return std::nullopt;
  });
  BOOST_TEST(
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"r1"})").status == 201);
  BOOST_TEST(fake.requests_to("POST", "/call/default/r1").size() == 2u);

  // 429 with Retry-After: 1 is waited out before the next attempt.
  failures = 1;
  fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
    if (r.path.rfind("/api/v2/video/call/", 0) == 0 && failures-- > 0) {
      auto res = FakeStream::error(429, 9, "rate limited");
      res.headers.emplace_back("Retry-After", "1");
      return res;
    }
    return std::nullopt;
  });
  BOOST_TEST(
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"r2"})").status == 201);
  const auto attempts = fake.requests_to("POST", "/call/default/r2");
  BOOST_TEST_REQUIRE(attempts.size() == 2u);
  BOOST_TEST((attempts[1].at - attempts[0].at >= 950ms));

  // Still 429 after every attempt: 503 with Retry-After for our caller.
  fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
    if (r.path.rfind("/api/v2/video/call/", 0) == 0) {
      auto res = FakeStream::error(429, 9, "rate limited");
      res.headers.emplace_back("X-RateLimit-Reset", "0");
      return res;
    }
    return std::nullopt;
  });
  const auto limited =
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"r3"})");
  expect_error(limited, 503, "upstream_unavailable");
  BOOST_TEST(!limited.header("retry-after").empty());
  BOOST_TEST(fake.requests_to("POST", "/call/default/r3").size() == 3u);
}

BOOST_AUTO_TEST_CASE(a_hanging_stream_gets_504_within_the_deadline) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"STREAM_TIMEOUT_MS", "400"},
                                {"STREAM_MAX_ATTEMPTS", "2"},
                                {"STREAM_RETRY_BUDGET_MS", "1500"}}));
  fake.set_override([](const FakeRequest& r) -> std::optional<FakeResponse> {
    if (r.path.rfind("/api/v2/video/call/", 0) == 0) return FakeResponse{200, {}, "", 0ms, true};
    return std::nullopt;
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"slow"})");
  expect_error(r, 504, "upstream_unavailable");
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(a_call_slower_than_the_connection_timeouts_is_still_answered) {
  // The header, body and idle timeouts bound the client's reads, not the time the handler
  // takes: a Stream that answers after 900 ms is waited for (up to STREAM_TIMEOUT_MS).
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"HTTP_HEADER_TIMEOUT_MS", "200"},
                                {"HTTP_BODY_TIMEOUT_MS", "200"},
                                {"HTTP_IDLE_TIMEOUT_MS", "200"}}));
  fake.set_override([](const FakeRequest& r) -> std::optional<FakeResponse> {
    if (r.method == "POST" && r.path == "/api/v2/users") std::this_thread::sleep_for(900ms);
    return std::nullopt;  // then the fake's own answer
  });
  const auto start = std::chrono::steady_clock::now();
  const auto r =
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"slow-ok"})");
  BOOST_TEST(r.status == 201, r.body);
  BOOST_TEST((std::chrono::steady_clock::now() - start >= 900ms));
}

BOOST_AUTO_TEST_CASE(tls_with_a_wrong_host_name_or_an_unknown_ca_is_refused) {
  {
    FakeStream wrong_host(kStreamKey, kStreamSecret, /*wrong_host_certificate=*/true);
    RunningApp app(against(wrong_host));
    expect_error(api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"t1"})"),
                 503, "upstream_unavailable");
    BOOST_TEST(wrong_host.requests().empty());  // nothing was sent over the refused connection
  }
  {
    FakeStream fake(kStreamKey, kStreamSecret);
    auto env = against(fake);
    env.erase("STREAM_CA_FILE");  // the system store does not know the test CA
    RunningApp app(env);
    expect_error(api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"t2"})"),
                 503, "upstream_unavailable");
    BOOST_TEST(fake.requests().empty());
  }
}

BOOST_AUTO_TEST_CASE(connections_to_stream_are_reused) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"HTTP_THREADS", "1"}}));
  for (int i = 0; i < 6; ++i)
    BOOST_TEST(api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                   R"({"callId":"p)" + std::to_string(i) + "\"}")
                   .status == 201);
  BOOST_TEST(fake.requests().size() == 12u);
  BOOST_TEST(fake.accepts() == 1u);
}

BOOST_AUTO_TEST_CASE(sync_heals_a_meeting_whose_webhooks_were_lost) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  BOOST_TEST_REQUIRE(
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"heal"})").status ==
      201);
  // Only session_started arrives; session_ended and recording_ready are lost.
  const std::string started = session_started("heal", "sess-1", "2026-04-08T14:00:00Z");
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", sign(kStreamSecret, started)}}, started)
                 .status == 200);
  BOOST_TEST(api(app.port, "GET", "/api/v1/calls/heal", app_jwt("alice"))
                 .json()
                 .at("data")
                 .at("status")
                 .as_string() == "active");
  fake.with_call("default:heal", [](FakeStream::Call& c) {
    c.session_id = "sess-1";
    c.session_started_at = 1775656800000000000;  // 14:00:00Z in nanoseconds
    c.session_ended_at = 1775658600000000000;    // 14:30:00Z
    c.recordings.push_back({{"filename", "heal.mp4"},
                            {"url", "https://cdn.example/heal.mp4"},
                            {"start_time", "2026-04-08T14:00:05Z"},
                            {"end_time", "2026-04-08T14:29:55Z"}});
    c.transcriptions.push_back({{"filename", "heal.txt"},
                                {"url", "https://cdn.example/heal.txt"},
                                {"start_time", 1775656805000000000},
                                {"end_time", 1775658595000000000}});
  });
  expect_error(api(app.port, "POST", "/api/v1/calls/heal/sync", app_jwt("mallory")), 404,
               "not_found");
  const auto r = api(app.port, "POST", "/api/v1/calls/heal/sync", app_jwt("alice"));
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  const auto m = r.json().at("data").as_object();
  BOOST_TEST(m.at("status").as_string() == "processing");
  BOOST_TEST(m.at("durationSeconds").as_int64() == 1800);
  BOOST_TEST(m.at("recordings").as_array().size() == 1u);
  BOOST_TEST(m.at("transcriptions").as_array().size() == 1u);
  // Applying it again changes nothing.
  const auto again = api(app.port, "POST", "/api/v1/calls/heal/sync", app_jwt("alice"))
                         .json()
                         .at("data")
                         .as_object();
  BOOST_TEST(again.at("sessions") == m.at("sessions"));
  BOOST_TEST(again.at("recordings") == m.at("recordings"));
  // An admin can import a call that was created elsewhere.
  fake.with_call("default:elsewhere", [](FakeStream::Call& c) { c.created_by = "zoe"; });
  const auto imported = api(app.port, "POST", "/api/v1/calls/elsewhere/sync", admin());
  BOOST_TEST(imported.status == 200);
  BOOST_TEST(imported.json().at("data").at("createdBy").as_string() == "zoe");
  BOOST_TEST(fake.violations().empty());
}

// A meeting healed from Stream's REST view announces, as app events, the transitions its lost
// webhooks would have: each once, whatever is synced again.
BOOST_AUTO_TEST_CASE(a_healed_meeting_announces_what_it_missed) {
  FakeStream fake(kStreamKey, kStreamSecret);
  auto env = against(fake);
  env["APP_WEBHOOK_URL"] = "http://127.0.0.1:9/unreachable";
  env["APP_WEBHOOK_SECRET"] = core::make_webhook_secret();
  env["APP_WEBHOOK_RETRY_SCHEDULE"] = "3600";
  RunningApp app(env);
  BOOST_TEST_REQUIRE(
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"missed"})").status ==
      201);
  const std::string started = session_started("missed", "sess-1", "2026-04-08T14:00:00Z");
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", sign(kStreamSecret, started)}}, started)
                 .status == 200);
  fake.with_call("default:missed", [](FakeStream::Call& c) {
    c.session_id = "sess-1";
    c.session_started_at = 1775656800000000000;
    c.session_ended_at = 1775658600000000000;
    c.recordings.push_back({{"filename", "missed.mp4"},
                            {"url", "https://cdn.example/missed.mp4"},
                            {"start_time", "2026-04-08T14:00:05Z"},
                            {"end_time", "2026-04-08T14:29:55Z"}});
  });
  for (int i = 0; i < 2; ++i)
    BOOST_TEST_REQUIRE(
        api(app.port, "POST", "/api/v1/calls/missed/sync", app_jwt("alice")).status == 200);
  const auto list = api(app.port, "GET", "/api/v1/admin/app-events", admin());
  BOOST_TEST_REQUIRE(list.status == 200, list.body);
  std::vector<std::string> types;
  const auto events = list.json().at("data").at("events").as_array();
  for (const auto& e : events) types.emplace_back(e.at("type").as_string());
  BOOST_TEST(types == (std::vector<std::string>{"meeting.created", "meeting.started",
                                                "meeting.ended", "meeting.recording_ready"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_background_reconciler_heals_stale_meetings) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"RECONCILE_INTERVAL_SECONDS", "1"},
                                {"RECONCILE_ACTIVE_AFTER_SECONDS", "0"},
                                {"RECONCILE_RETRY_SECONDS", "0"}}));
  BOOST_TEST_REQUIRE(
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"bg"})").status == 201);
  const std::string started = session_started("bg", "sess-9", "2026-04-08T14:00:00Z");
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", sign(kStreamSecret, started)}}, started)
                 .status == 200);
  fake.with_call("default:bg", [](FakeStream::Call& c) {
    c.session_id = "sess-9";
    c.session_started_at = 1775656800000000000;
    c.session_ended_at = 1775657400000000000;
    c.recordings.push_back({{"filename", "bg.mp4"}, {"url", "https://cdn.example/bg.mp4"}});
  });
  std::string status;
  for (int i = 0; i < 100 && status != "processing"; ++i) {
    std::this_thread::sleep_for(100ms);
    status = std::string(api(app.port, "GET", "/api/v1/calls/bg", app_jwt("alice"))
                             .json()
                             .at("data")
                             .at("status")
                             .as_string());
  }
  BOOST_TEST(status == "processing");
}

BOOST_AUTO_TEST_CASE(a_traceparent_follows_the_request_to_every_stream_call) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string parent = "00-" + trace + "-00f067aa0ba902b7-01";
  const auto r = http_request(app.port, "POST", "/api/v1/calls",
                              {{"Authorization", "Bearer " + app_jwt("alice")},
                               {"Content-Type", "application/json"},
                               {"traceparent", parent}},
                              R"({"callId":"traced","members":[{"userId":"bob"}]})");
  BOOST_TEST_REQUIRE(r.status == 201, r.body);
  // The trace id is the request id.
  BOOST_TEST(r.header("x-request-id") == trace);
  const auto sent = fake.requests();
  BOOST_TEST_REQUIRE(sent.size() == 2u);  // upsert users, get-or-create
  std::set<std::string> spans;
  for (const auto& q : sent) {
    const std::string tp = q.header("traceparent");
    const auto parsed = http::parse_traceparent(tp);
    BOOST_TEST_REQUIRE(parsed.has_value(), "traceparent " << tp);
    BOOST_TEST(parsed->trace_id == trace);
    BOOST_TEST(parsed->parent_id != "00f067aa0ba902b7");  // a span of ours, not the caller's
    BOOST_TEST(parsed->flags == 1);
    spans.insert(parsed->parent_id);
    BOOST_TEST(q.header("x-request-id") == trace);
  }
  BOOST_TEST(spans.size() == 2u);  // a new span per Stream request

  // Without a traceparent: the client's X-Request-Id is the request id, sent on to Stream, with
  // a new trace id (it is not in a trace id's form).
  const auto e = http_request(
      app.port, "POST", "/api/v1/calls/traced/end",
      {{"Authorization", "Bearer " + app_jwt("alice")}, {"X-Request-Id", "client-req-42"}});
  BOOST_TEST_REQUIRE(e.status == 200, e.body);
  BOOST_TEST(e.header("x-request-id") == "client-req-42");
  const auto ended = fake.requests_to("POST", "/mark_ended");
  BOOST_TEST_REQUIRE(ended.size() == 1u);
  BOOST_TEST(ended[0].header("x-request-id") == "client-req-42");
  const auto tp = http::parse_traceparent(ended[0].header("traceparent"));
  BOOST_TEST_REQUIRE(tp.has_value());
  BOOST_TEST(tp->trace_id != trace);

  // An X-Request-Id in a trace id's form (nginx's $request_id) is the trace id too; a malformed
  // traceparent is ignored.
  const std::string nginx_id = "0af7651916cd43dd8448eb211c80319c";
  const auto g =
      http_request(app.port, "POST", "/api/v1/calls/traced/sync",
                   {{"Authorization", "Bearer " + app_jwt("alice")},
                    {"X-Request-Id", nginx_id},
                    {"traceparent", "00-" + std::string(32, '0') + "-00f067aa0ba902b7-01"}});
  BOOST_TEST_REQUIRE(g.status == 200, g.body);
  BOOST_TEST(g.header("x-request-id") == nginx_id);
  const auto got = fake.requests_to("GET", "/api/v2/video/call/default/traced");
  BOOST_TEST_REQUIRE(!got.empty());
  BOOST_TEST(http::parse_traceparent(got.back().header("traceparent"))->trace_id == nginx_id);
  BOOST_TEST(fake.violations().empty());
}

BOOST_AUTO_TEST_CASE(the_server_token_expires_and_is_reminted_before_it_does) {
  FakeStream fake(kStreamKey, kStreamSecret);
  // A 4-second token: re-minted after 1 s (half its life, less a second), never per request.
  RunningApp app(against(fake, {{"STREAM_SERVER_TOKEN_TTL_SECONDS", "4"}}));
  const auto started = std::chrono::steady_clock::now();
  int n = 0;
  while (std::chrono::steady_clock::now() - started < 6s) {
    const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                       R"({"callId":"tok-)" + std::to_string(n++) + R"("})");
    BOOST_TEST_REQUIRE(r.status == 201, r.body);
    std::this_thread::sleep_for(150ms);
  }
  // Nothing Stream received had expired, across more than one lifetime.
  BOOST_TEST(fake.expired_tokens() == 0);
  BOOST_TEST(fake.violations().empty(),
             (fake.violations().empty() ? std::string() : fake.violations().front()));
  const auto tokens = fake.server_tokens();
  BOOST_TEST(tokens.size() >= 3u);
  // Each token served several requests in a row: one per lifetime, not one per request.
  BOOST_TEST(tokens.front().second >= 4);
  std::set<std::string> distinct;
  for (const auto& [token, uses] : tokens) distinct.insert(token);
  BOOST_TEST(distinct.size() == tokens.size());
  // The claims: {"server":true,"iat":now-5,"exp":now+4}.
  const auto decoded = core::decode_jwt(tokens.back().first);
  BOOST_TEST_REQUIRE(decoded.jwt.has_value());
  const auto& claims = decoded.jwt->claims;
  BOOST_TEST(claims.at("server").as_bool());
  BOOST_TEST(claims.at("exp").as_int64() - claims.at("iat").as_int64() == 9);

  // A token that has run out is refused the way Stream refuses it (401, code 40), and the
  // caller gets 502 without a retry storm.
  FakeStream strict(kStreamKey, kStreamSecret);
  strict.set_override([](const FakeRequest&) -> std::optional<FakeResponse> {
    return FakeStream::error(401, 40, "JWTAuth error: token is expired");
  });
  RunningApp other(against(strict));
  const auto r = api(other.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"x"})");
  BOOST_TEST(r.status >= 500);
  BOOST_TEST(strict.requests().size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
