// App events end to end (docs/app-events.md): the real binary delivers to an app endpoint
// written with the npm `standardwebhooks` library (tests/app_events/receiver.mjs), which verifies
// every delivery; the tests assert on what that library accepted and rejected.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "core/app_events.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kReceiverDir = STREAMGATE_SOURCE_DIR "/tests/app_events";

// The receiver's npm packages, installed once from its lockfile.
void install_receiver() {
  static bool done = false;
  if (done) return;
  if (!std::filesystem::exists(kReceiverDir + "/node_modules/standardwebhooks")) {
    const auto [code, out] =
        run_command({"/bin/sh", "-c", "npm ci --no-audit --no-fund --silent"},
                    {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                     {"HOME", std::getenv("HOME") ? std::getenv("HOME") : "/tmp"}},
                    kReceiverDir);
    BOOST_TEST_REQUIRE(code == 0, "npm ci failed: " << out);
  }
  done = true;
}

// The app's endpoint: node, verifying with `secret`.
struct Receiver {
  Receiver(const std::string& secret, std::uint16_t fixed_port = 0) {
    install_receiver();
    dir = make_temp_dir("sg-receiver");
    process = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/node", kReceiverDir + "/receiver.mjs"},
        std::map<std::string, std::string>{{"PATH", "/usr/bin:/bin"},
                                           {"RECEIVER_SECRET", secret},
                                           {"RECEIVER_PORT", std::to_string(fixed_port)}},
        dir, dir + "/receiver.log");
    port = process->wait_for_port();
  }
  ~Receiver() {
    process->signal(SIGTERM);
    process->wait(5s);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  json::object received() const {
    const auto r = http_request(port, "GET", "/_received", {});
    BOOST_TEST_REQUIRE(r.status == 200);
    return r.json().as_object();
  }
  json::array accepted() const { return received().at("accepted").as_array(); }
  json::array rejected() const { return received().at("rejected").as_array(); }
  std::int64_t answers() const { return received().at("answers").as_int64(); }
  void answer_with(int status) const {
    const auto r = http_request(port, "POST", "/_mode", {{"Content-Type", "application/json"}},
                                json::serialize(json::object{{"status", status}}));
    BOOST_TEST_REQUIRE(r.status == 204);
  }
  // Waits until `n` deliveries were accepted (or the deadline); returns them.
  json::array wait_for(std::size_t n, std::chrono::seconds deadline = 30s) const {
    const auto end = std::chrono::steady_clock::now() + deadline;
    json::array got;
    while (std::chrono::steady_clock::now() < end) {
      got = accepted();
      if (got.size() >= n) break;
      std::this_thread::sleep_for(50ms);
    }
    return got;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hooks"; }
  std::string dir;
  std::unique_ptr<Process> process;
  std::uint16_t port = 0;
};

struct Service {
  Service(const std::map<std::string, std::string>& overrides, std::string data_dir = "") {
    dir = data_dir.empty() ? make_temp_dir("sg-events") : data_dir;
    owns_dir = data_dir.empty();
    auto env = base_env();
    env["PATH"] = "/usr/bin:/bin";
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = "sqlite:" + dir + "/streamgate.db";
    env["APP_WEBHOOK_POLL_MS"] = "200";
    for (const auto& [k, v] : overrides) env[k] = v;
    process = std::make_unique<Process>(std::vector<std::string>{STREAMGATE_BINARY}, env, dir,
                                        dir + "/service-" + std::to_string(++starts) + ".log");
    port = process->wait_for_port();
    metrics_port = process->wait_for_metrics_port();
  }
  ~Service() {
    if (process->wait(0ms) < 0) {
      process->signal(SIGTERM);
      process->wait(20s);
    }
    if (owns_dir) {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  }
  std::string log() const { return process->log(); }
  void hook(const std::string& id, const std::string& body) const {
    const auto r = post_hook(port, body, id);
    BOOST_TEST_REQUIRE(r.status == 200, "webhook answered " << r.status << " " << r.body);
  }
  std::string dir;
  bool owns_dir = true;
  static inline int starts = 0;
  std::unique_ptr<Process> process;
  std::uint16_t port = 0;
  std::uint16_t metrics_port = 0;
};

const std::string kSecret = core::make_webhook_secret();
const std::string kStart = "2026-04-08T14:00:00Z";
const std::string kEnd = "2026-04-08T14:30:00Z";

std::map<std::string, std::string> events_env(const std::string& urls,
                                              const std::string& secret = kSecret) {
  return {{"APP_WEBHOOK_URL", urls},
          {"APP_WEBHOOK_SECRET", secret},
          {"APP_WEBHOOK_RETRY_SCHEDULE", "1,1,1,1,1,1,1,1"},
          {"APP_WEBHOOK_TIMEOUT_MS", "2000"},
          {"APP_WEBHOOK_CONCURRENCY", "4"}};
}

// The Stream webhooks of one whole meeting of `call`: (webhook id, body).
std::vector<std::pair<std::string, std::string>> meeting_hooks(const std::string& call) {
  return {{call + "-1", session_started(call, "s1", kStart)},
          {call + "-2", session_ended(call, "s1", kStart, kEnd)},
          {call + "-3", recording_ready(call, "s1", "rec-" + call + ".mp4")},
          {call + "-4", transcription_ready(call, "s1", "tr-" + call + ".jsonl")},
          {call + "-5", call_ended(call, "alice", "2026-04-08T14:31:00Z")}};
}
const std::vector<std::string> kLifecycle = {"meeting.created",
                                             "meeting.started",
                                             "meeting.ended",
                                             "meeting.recording_ready",
                                             "meeting.transcription_ready",
                                             "meeting.call_ended"};

std::vector<std::string> types_of(const json::array& deliveries) {
  std::vector<std::string> out;
  for (const auto& d : deliveries) out.emplace_back(d.at("body").at("type").as_string());
  return out;
}

std::set<std::string> ids_of(const json::array& deliveries) {
  std::set<std::string> out;
  for (const auto& d : deliveries) out.emplace(d.at("id").as_string());
  return out;
}

json::object admin_get(std::uint16_t port, const std::string& target, int expect = 200) {
  const auto r = http_request(port, "GET", target, {{"Authorization", "Bearer " + admin_jwt()}});
  BOOST_TEST_REQUIRE(r.status == expect, target << " answered " << r.status << " " << r.body);
  return r.json().as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_events_delivered)

BOOST_AUTO_TEST_CASE(a_meeting_lifecycle_arrives_verified_once_in_order) {
  Receiver app(kSecret);
  Service sg(events_env(app.url()));
  for (const auto& [id, body] : meeting_hooks("life")) sg.hook(id, body);
  auto got = app.wait_for(kLifecycle.size());
  // Then the same Stream events again: repeated ids, new ids for the same facts (Stream's
  // retries after a lost answer), and out of order. None may announce anything.
  const auto hooks = meeting_hooks("life");
  sg.hook(hooks[1].first, hooks[1].second);
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it)
    sg.hook(it->first + "-again", it->second);
  std::this_thread::sleep_for(2s);
  got = app.accepted();
  BOOST_TEST(types_of(got) == kLifecycle, boost::test_tools::per_element());
  BOOST_TEST(ids_of(got).size() == kLifecycle.size());
  BOOST_TEST(app.rejected().empty());
  std::int64_t last_version = 0;
  for (const auto& d : got) {
    const auto& body = d.at("body").as_object();
    const auto version = body.at("data").at("version").as_int64();
    BOOST_TEST(version >= last_version);
    last_version = version;
    BOOST_TEST(body.at("data").at("meeting").at("callCid").as_string() == "default:life");
    BOOST_TEST(std::string(d.at("id").as_string()).rfind("evt_", 0) == 0u);
    BOOST_TEST(std::string(d.at("contentType").as_string()).rfind("application/json", 0) == 0u);
    BOOST_TEST(d.at("path").as_string() == "/hooks");
  }
  BOOST_TEST(got[2].at("body").at("data").at("meeting").at("status").as_string() == "processing");
  BOOST_TEST(got[2].at("body").at("data").at("meeting").at("durationSeconds").as_int64() == 1800);

  // The admin view of the same deliveries, and its guards.
  auto list = admin_get(sg.port, "/api/v1/admin/app-events?status=delivered&limit=4");
  auto events = list.at("data").at("events").as_array();
  BOOST_TEST_REQUIRE(events.size() == 4u);
  BOOST_TEST(events[0].at("type").as_string() == "meeting.created");
  BOOST_TEST(events[0].at("status").as_string() == "delivered");
  BOOST_TEST(events[0].at("attempts").as_int64() == 1);
  BOOST_TEST(events[0].at("nextAttemptAt").is_null());
  BOOST_TEST(events[0].at("lastError").is_null());
  BOOST_TEST(events[0].at("meeting").at("callCid").as_string() == "default:life");
  const std::string cursor(list.at("data").at("nextCursor").as_string());
  list = admin_get(sg.port, "/api/v1/admin/app-events?status=delivered&cursor=" + cursor);
  BOOST_TEST(list.at("data").at("events").as_array().size() == 2u);
  BOOST_TEST(list.at("data").at("nextCursor").is_null());
  BOOST_TEST(admin_get(sg.port, "/api/v1/admin/app-events?status=pending")
                 .at("data")
                 .at("events")
                 .as_array()
                 .empty());
  admin_get(sg.port, "/api/v1/admin/app-events?status=nope", 400);
  admin_get(sg.port, "/api/v1/admin/app-events?cursor=%%%", 400);
  const auto stranger = http_request(sg.port, "GET", "/api/v1/admin/app-events",
                                     {{"Authorization", "Bearer " + app_jwt("alice")}});
  BOOST_TEST(stranger.status == 403);

  // Redelivery keeps the webhook-id: the app sees the same id again, verified.
  const std::string first_id(events[0].at("id").as_string());
  const auto redo =
      http_request(sg.port, "POST", "/api/v1/admin/app-events/" + first_id + "/redeliver",
                   {{"Authorization", "Bearer " + admin_jwt()}});
  BOOST_TEST(redo.status == 202);
  got = app.wait_for(kLifecycle.size() + 1);
  BOOST_TEST_REQUIRE(got.size() == kLifecycle.size() + 1);
  BOOST_TEST(got.back().at("id").as_string() == first_id);
  const auto unknown = http_request(sg.port, "POST", "/api/v1/admin/app-events/evt_nope/redeliver",
                                    {{"Authorization", "Bearer " + admin_jwt()}});
  BOOST_TEST(unknown.status == 404);

  // The meeting list shows the meeting to its creator, not to others.
  const auto mine = http_request(sg.port, "GET", "/api/v1/meetings",
                                 {{"Authorization", "Bearer " + app_jwt("alice")}});
  BOOST_TEST_REQUIRE(mine.status == 200);
  const auto meetings = mine.json().at("data").at("meetings").as_array();
  BOOST_TEST_REQUIRE(meetings.size() == 1u);
  BOOST_TEST(meetings[0].at("callId").as_string() == "life");
  BOOST_TEST(mine.json().at("data").at("nextCursor").is_null());
  const auto theirs = http_request(sg.port, "GET", "/api/v1/meetings",
                                   {{"Authorization", "Bearer " + app_jwt("mallory")}});
  BOOST_TEST(theirs.json().at("data").at("meetings").as_array().empty());
  const auto bad = http_request(sg.port, "GET", "/api/v1/meetings?limit=101",
                                {{"Authorization", "Bearer " + app_jwt("alice")}});
  BOOST_TEST(bad.status == 400);
  const auto not_admin = http_request(sg.port, "GET", "/api/v1/meetings?all=true",
                                      {{"Authorization", "Bearer " + app_jwt("alice")}});
  BOOST_TEST(not_admin.status == 403);
  BOOST_TEST(sg.log().find(kSecret.substr(6)) == std::string::npos);

  // The deliveries are counted by type and outcome.
  const auto metrics = http_request(sg.metrics_port, "GET", "/metrics", {});
  BOOST_TEST(
      metrics.body.find(
          R"(streamgate_app_event_deliveries_total{outcome="delivered",type="meeting.created"} 2)") !=
      std::string::npos);
  BOOST_TEST(metrics.body.find("streamgate_app_events_pending 0") != std::string::npos);
}

// `streamgate trigger meeting` (the developer loop without Stream): the app receives the
// events of a whole meeting.
BOOST_AUTO_TEST_CASE(trigger_meeting_sends_a_whole_meeting) {
  Receiver app(kSecret);
  Service sg(events_env(app.url()));
  auto env = base_env();
  env["PATH"] = "/usr/bin:/bin";
  const auto [code, out] = run_command({STREAMGATE_BINARY, "trigger", "meeting", "--call", "trig",
                                        "--url", "http://127.0.0.1:" + std::to_string(sg.port)},
                                       env, sg.dir);
  BOOST_TEST(code == 0, out);
  BOOST_TEST(out.find("call.transcription_ready default:trig -> 200") != std::string::npos, out);
  const auto got = app.wait_for(5);
  BOOST_TEST(types_of(got) == (std::vector<std::string>{"meeting.created", "meeting.started",
                                                        "meeting.ended", "meeting.recording_ready",
                                                        "meeting.transcription_ready"}),
             boost::test_tools::per_element());
  const auto bad =
      run_command({STREAMGATE_BINARY, "trigger", "meeting", "--call", "bad id!"}, env, sg.dir);
  BOOST_TEST(bad.first == 2);
}

// The receiver knows another secret: the library refuses every delivery (so these tests can
// fail), and the events end failed after their retries, each attempt logged without a secret.
BOOST_AUTO_TEST_CASE(a_wrong_secret_is_refused_by_the_library) {
  Receiver app(core::make_webhook_secret());
  auto env = events_env(app.url());
  env["APP_WEBHOOK_RETRY_SCHEDULE"] = "1";
  Service sg(env);
  sg.hook("bad-1", session_started("badsig", "s1", kStart));
  const auto end = std::chrono::steady_clock::now() + 20s;
  json::array failed;
  while (std::chrono::steady_clock::now() < end) {
    failed = admin_get(sg.port, "/api/v1/admin/app-events?status=failed")
                 .at("data")
                 .at("events")
                 .as_array();
    if (failed.size() == 2u) break;
    std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST_REQUIRE(failed.size() == 2u);
  BOOST_TEST(failed[0].at("attempts").as_int64() == 2);
  BOOST_TEST(failed[0].at("lastError").as_string() == "HTTP 401");
  BOOST_TEST(app.accepted().empty());
  BOOST_TEST(app.rejected().size() == 4u);
  const auto log = sg.log();
  BOOST_TEST(log.find("app event attempt failed") != std::string::npos);
  BOOST_TEST(log.find("app event failed") != std::string::npos);
  BOOST_TEST(log.find(kSecret.substr(6)) == std::string::npos);
  // redeliver-failed queues both again.
  const auto redo = http_request(sg.port, "POST", "/api/v1/admin/app-events/redeliver-failed",
                                 {{"Authorization", "Bearer " + admin_jwt()}});
  BOOST_TEST(redo.status == 202);
  BOOST_TEST(redo.json().at("data").at("redelivered").as_int64() == 2);
}

// During a rotation the header carries both signatures: an app still on the old secret and one
// already on the new secret both verify every delivery.
BOOST_AUTO_TEST_CASE(secret_rotation_verifies_with_either_secret) {
  const std::string old_secret = core::make_webhook_secret();
  const std::string new_secret = core::make_webhook_secret();
  Receiver on_old(old_secret);
  Receiver on_new(new_secret);
  auto env = events_env(on_old.url() + "," + on_new.url(), new_secret);
  env["APP_WEBHOOK_SECRET_PREVIOUS"] = old_secret;
  Service sg(env);
  sg.hook("rot-1", session_started("rot", "s1", kStart));
  const auto a = on_old.wait_for(2);
  const auto b = on_new.wait_for(2);
  BOOST_TEST(a.size() == 2u);
  BOOST_TEST(b.size() == 2u);
  BOOST_TEST(on_old.rejected().empty());
  BOOST_TEST(on_new.rejected().empty());
  BOOST_TEST(ids_of(a) == ids_of(b));  // one webhook-id per event, whatever the endpoint
  BOOST_TEST(std::string(a[0].at("signature").as_string()).find(' ') != std::string::npos);
}

// The endpoint answers 500 for a while, and is then down altogether: the events are retried
// and each arrives once when it is back.
BOOST_AUTO_TEST_CASE(a_receiver_that_fails_or_is_down_gets_every_event_when_back) {
  auto app = std::make_unique<Receiver>(kSecret);
  const auto port = app->port;
  app->answer_with(500);
  Service sg(events_env(app->url()));
  sg.hook("down-1", session_started("down", "s1", kStart));
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (app->answers() < 4 && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(50ms);
  BOOST_TEST(app->answers() >= 4);  // created and started, each tried at least twice
  BOOST_TEST(app->accepted().empty());
  app.reset();  // down: connections refused
  sg.hook("down-2", session_ended("down", "s1", kStart, kEnd));
  std::this_thread::sleep_for(1500ms);
  const auto pending = admin_get(sg.port, "/api/v1/admin/app-events?status=pending")
                           .at("data")
                           .at("events")
                           .as_array();
  BOOST_TEST(pending.size() == 3u);
  BOOST_TEST(!pending[0].at("lastError").is_null());
  BOOST_TEST(!pending[0].at("nextAttemptAt").is_null());
  app = std::make_unique<Receiver>(kSecret, port);
  const auto got = app->wait_for(3);
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(types_of(app->accepted()) ==
                 (std::vector<std::string>{"meeting.created", "meeting.started", "meeting.ended"}),
             boost::test_tools::per_element());
  BOOST_TEST(ids_of(got).size() == 3u);
}

// SIGKILL with events still pending: after a restart on the same store, every event arrives.
BOOST_AUTO_TEST_CASE(events_pending_at_a_sigkill_are_delivered_after_the_restart) {
  Receiver app(kSecret);
  app.answer_with(503);
  const std::string dir = make_temp_dir("sg-kill");
  {
    Service sg(events_env(app.url()), dir);
    for (const auto& [id, body] : meeting_hooks("killed")) sg.hook(id, body);
    std::this_thread::sleep_for(500ms);
    sg.process->signal(SIGKILL);
    sg.process->wait(5s);
  }
  BOOST_TEST(app.accepted().empty());
  app.answer_with(200);
  {
    Service sg(events_env(app.url()), dir);
    const auto got = app.wait_for(kLifecycle.size(), 30s);
    std::this_thread::sleep_for(1s);
    BOOST_TEST(types_of(app.accepted()) == kLifecycle, boost::test_tools::per_element());
    BOOST_TEST(ids_of(got).size() == kLifecycle.size());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// Two replicas on one PostgreSQL, webhooks spread over both: every event is delivered, and no
// event twice (their claims never overlap).
BOOST_AUTO_TEST_CASE(two_replicas_on_one_postgres_deliver_each_event_once) {
  if (!PostgresServer::available()) {
    const char* ci = std::getenv("CI");
    if (ci && std::string(ci) == "true") BOOST_ERROR("CI=true needs PostgreSQL for this test");
    return;
  }
  PostgresServer pg;
  const std::string url = pg.create_database("sg_app_events");
  Receiver app(kSecret);
  auto env = events_env(app.url());
  env["DATABASE_URL"] = url;
  Service a(env);
  Service b(env);
  constexpr int kCalls = 20;
  for (int i = 0; i < kCalls; ++i) {
    const std::string call = "rep" + std::to_string(i);
    const Service& first = i % 2 ? a : b;
    const Service& second = i % 2 ? b : a;
    first.hook(call + "-1", session_started(call, "s1", kStart));
    second.hook(call + "-2", session_ended(call, "s1", kStart, kEnd));
  }
  const std::size_t expected = kCalls * 3;  // created, started, ended
  auto got = app.wait_for(expected, 60s);
  std::this_thread::sleep_for(2s);
  got = app.accepted();
  BOOST_TEST(got.size() == expected);
  BOOST_TEST(ids_of(got).size() == expected);
  BOOST_TEST(app.rejected().empty());
  // Both replicas delivered: each logs nothing about it, so ask the outbox who is idle.
  for (const auto* s : {&a, &b})
    BOOST_TEST(admin_get(s->port, "/api/v1/admin/app-events?status=pending")
                   .at("data")
                   .at("events")
                   .as_array()
                   .empty());
}

BOOST_AUTO_TEST_SUITE_END()
