// Transcripts end to end (docs/transcripts.md): the real binary fetches transcript files from a
// fake CDN over HTTPS (test PKI, TRANSCRIPT_CA_FILE), re-lists an expired URL from the fake
// Stream, refuses what the SSRF guard refuses, and serves the result as JSON, WebVTT (checked by
// the npm webvtt-parser library and by Chromium's TextTrack API) and text, and through search.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/stream_events.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string kChecksDir = STREAMGATE_SOURCE_DIR "/tests/transcripts";
const std::vector<std::string> kSpeakers = {"alice", "bob", "chloé", "dmitri", "美玲"};
constexpr std::size_t kLongSegments = 20000;
constexpr std::size_t kRareIndex = 12345;  // the one segment that says "zeppelin"

// The text of segment i of the long meeting: unicode, markup to escape, and one rare word.
std::string long_text(std::size_t i) {
  static const std::vector<std::string> phrases = {
      "Let us go over the quarterly numbers",   "I think the budget is fine — mostly",
      "Grüße aus Köln, the build is green",     "会议记录 will follow after the call",
      "Use <b>bold</b> & \"quotes\" carefully", "Can everyone hear me? 🎧",
      "Next item on the agenda, please"};
  if (i == kRareIndex) return "The zeppelin launch slipped to Thursday";
  return phrases[i % phrases.size()] + " (" + std::to_string(i) + ")";
}

// A two-hour meeting: kLongSegments speech lines over 7,200 s from five speakers, with a system
// line and a malformed line among them.
std::string long_transcript() {
  std::string out;
  for (std::size_t i = 0; i < kLongSegments; ++i) {
    if (i == 1000) out += "{\"type\":\"speech\",\"speaker_id\":\"alice\",\"text\":\"cut off\n";
    if (i == 2000) out += "{\"type\":\"system\",\"text\":\"recording started\"}\n";
    out += json::serialize(json::object{{"type", "speech"},
                                        {"speaker_id", kSpeakers[(i / 3) % kSpeakers.size()]},
                                        {"text", long_text(i)},
                                        {"start_ts", i * 360},
                                        {"stop_ts", i * 360 + 300},
                                        {"confidence", 0.93}});
    out += '\n';
  }
  return out;
}

// A CDN serving files over HTTPS with the test PKI; what each path answers can change.
struct FakeCdn {
  FakeCdn()
      : server(test_pki().server_cert, test_pki().server_key,
               [this](const FakeRequest& r) { return answer(r); }) {}
  FakeResponse answer(const FakeRequest& r) {
    std::lock_guard lock(mutex);
    ++hits[r.path];
    const auto it = files.find(r.target);
    if (it != files.end()) return it->second;
    return FakeResponse{404, {{"Content-Type", "application/xml"}}, "<Error>NoSuchKey</Error>"};
  }
  void serve(const std::string& target, FakeResponse res) {
    std::lock_guard lock(mutex);
    files[target] = std::move(res);
  }
  void serve(const std::string& target, std::string body) {
    serve(target, FakeResponse{200, {{"Content-Type", "application/jsonl"}}, std::move(body)});
  }
  int hits_of(const std::string& path) {
    std::lock_guard lock(mutex);
    return hits[path];
  }
  std::string url(const std::string& target) const { return server.base_url() + target; }
  std::mutex mutex;
  std::map<std::string, FakeResponse> files;
  std::map<std::string, int> hits;
  FakeHttpsServer server;
};

struct Service {
  using Env = std::map<std::string, std::string>;
  explicit Service(const Env& overrides) {
    dir = make_temp_dir("sg-transcripts");
    auto env = base_env();
    env["PATH"] = "/usr/bin:/bin";
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = "sqlite:" + dir + "/streamgate.db";
    env["TRANSCRIPT_CA_FILE"] = test_pki().ca_cert;
    env["TRANSCRIPT_ALLOW_PRIVATE_HOSTS"] = "true";
    env["TRANSCRIPT_POLL_MS"] = "100";
    env["TRANSCRIPT_RETRY_SCHEDULE"] = "1,1,1";
    env["STREAM_CA_FILE"] = test_pki().ca_cert;
    for (const auto& [k, v] : overrides) env[k] = v;
    process = std::make_unique<Process>(std::vector<std::string>{STREAMGATE_BINARY}, env, dir,
                                        dir + "/service.log");
    port = process->wait_for_port();
  }
  ~Service() {
    process->signal(SIGTERM);
    process->wait(20s);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  void hook(const std::string& id, const std::string& body) const {
    const auto r = post_hook(port, body, id);
    BOOST_TEST_REQUIRE(r.status == 200, "webhook answered " << r.status << " " << r.body);
  }
  HttpResponse get(const std::string& target, const std::string& user = "alice") const {
    return http_request(port, "GET", target, {{"Authorization", "Bearer " + app_jwt(user)}});
  }
  // The transcript once it has settled (not pending), or the last answer after `deadline`.
  json::object settled(const std::string& call_id, std::chrono::seconds deadline = 60s) const {
    const auto end = std::chrono::steady_clock::now() + deadline;
    json::object data;
    while (std::chrono::steady_clock::now() < end) {
      const auto r = get("/api/v1/calls/" + call_id + "/transcript");
      BOOST_TEST_REQUIRE(r.status == 200, r.body);
      data = r.json().at("data").as_object();
      const auto status = data.at("status").as_string();
      if (status != "pending" && status != "none") break;
      std::this_thread::sleep_for(100ms);
    }
    return data;
  }
  std::string dir;
  std::unique_ptr<Process> process;
  std::uint16_t port = 0;
};

void npm_install() {
  static bool done = false;
  if (done) return;
  if (!std::filesystem::exists(kChecksDir + "/node_modules/webvtt-parser")) {
    const auto [code, out] =
        run_command({"/bin/sh", "-c", "npm ci --no-audit --no-fund --silent"},
                    {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
                     {"HOME", std::getenv("HOME") ? std::getenv("HOME") : "/tmp"}},
                    kChecksDir);
    BOOST_TEST_REQUIRE(code == 0, "npm ci failed: " << out);
  }
  done = true;
}

std::string file_of(const json::object& data, std::size_t i, const char* field) {
  const auto& f = data.at("files").as_array().at(i).as_object();
  return f.contains(field) && f.at(field).is_string() ? std::string(f.at(field).as_string()) : "";
}

// Sampled cues of the long meeting, as the VTT checks expect them (seconds).
json::object expected_cues() {
  json::array cues;
  for (std::size_t i : {std::size_t{0}, std::size_t{4}, kRareIndex, kLongSegments - 1}) {
    cues.push_back(json::object{{"index", i},
                                {"start", static_cast<double>(i * 360) / 1000.0},
                                {"end", static_cast<double>(i * 360 + 300) / 1000.0},
                                {"voice", kSpeakers[(i / 3) % kSpeakers.size()]},
                                {"text", long_text(i)}});
  }
  return json::object{{"count", kLongSegments}, {"cues", cues}};
}

void the_long_meeting(const std::string& database_url) {
  FakeCdn cdn;
  FakeStream stream(kStreamKey, kStreamSecret);
  const std::string body = long_transcript();
  cdn.serve("/tr/long.jsonl?X-Amz-Signature=abc", body);
  const auto page_port = free_port();
  std::map<std::string, std::string> env = {
      {"STREAM_BASE_URL", stream.base_url()},
      {"CORS_ALLOWED_ORIGINS", "http://127.0.0.1:" + std::to_string(page_port)}};
  if (!database_url.empty()) env["DATABASE_URL"] = database_url;
  Service svc(env);
  svc.hook("w1", session_started("long", "s1", "2026-04-08T14:00:00Z", "alice"));
  svc.hook("w2", transcription_ready("long", "s1", "long.jsonl",
                                     cdn.url("/tr/long.jsonl?X-Amz-Signature=abc")));
  const auto data = svc.settled("long");
  BOOST_TEST_REQUIRE(data.at("status").as_string() == "ready", json::serialize(data.at("files")));
  const auto& segments = data.at("segments").as_array();
  BOOST_TEST_REQUIRE(segments.size() == kLongSegments);
  for (std::size_t i : {std::size_t{0}, std::size_t{4}, kRareIndex, kLongSegments - 1}) {
    const auto& s = segments.at(i).as_object();
    BOOST_TEST(s.at("text").as_string() == long_text(i));
    BOOST_TEST(s.at("speakerId").as_string() == kSpeakers[(i / 3) % kSpeakers.size()]);
    BOOST_TEST(s.at("startMs").as_int64() == static_cast<std::int64_t>(i * 360));
    BOOST_TEST(s.at("endMs").as_int64() == static_cast<std::int64_t>(i * 360 + 300));
  }
  const auto& file = data.at("files").as_array().at(0).as_object();
  BOOST_TEST(file.at("malformedLines").as_int64() == 1);
  BOOST_TEST(file.at("segmentCount").as_int64() == static_cast<std::int64_t>(kLongSegments));
  BOOST_TEST(file.at("speakerCount").as_int64() == 5);
  BOOST_TEST(data.at("speakers").as_array().size() == 5u);
  BOOST_TEST(data.at("speakers").as_array().at(0).at("speakerId").as_string() == "alice");

  // Plain text, as a summariser takes it.
  const auto text = svc.get("/api/v1/calls/long/transcript?format=text");
  BOOST_TEST(text.status == 200);
  BOOST_TEST(text.header("content-type").rfind("text/plain", 0) == 0u);
  BOOST_TEST(text.body.rfind("alice: " + long_text(0) + "\n", 0) == 0u);

  // WebVTT: the npm webvtt-parser library and Chromium read the same cues.
  const auto vtt = svc.get("/api/v1/calls/long/transcript?format=vtt");
  BOOST_TEST_REQUIRE(vtt.status == 200);
  BOOST_TEST(vtt.header("content-type").rfind("text/vtt", 0) == 0u);
  BOOST_TEST(vtt.header("cache-control") == "no-store");
  npm_install();
  const std::string vtt_file = svc.dir + "/long.vtt", expected_file = svc.dir + "/expected.json";
  std::ofstream(vtt_file) << vtt.body;
  std::ofstream(expected_file) << json::serialize(expected_cues());
  const std::map<std::string, std::string> node_env = {{"PATH", "/usr/bin:/bin"},
                                                       {"HOME", svc.dir}};
  {
    const auto [code, out] =
        run_command({"/usr/bin/node", kChecksDir + "/check.mjs", "vtt", vtt_file, expected_file},
                    node_env, kChecksDir);
    BOOST_TEST(code == 0, "webvtt-parser: " << out);
  }
  if (std::filesystem::exists("/usr/bin/chromium")) {
    const auto [code, out] =
        run_command({"/usr/bin/node", kChecksDir + "/check.mjs", "track",
                     "http://127.0.0.1:" + std::to_string(svc.port), app_jwt("alice"), "long",
                     std::to_string(page_port), expected_file},
                    node_env, kChecksDir);
    BOOST_TEST(code == 0, "chromium TextTrack: " << out);
  } else {
    const char* ci = std::getenv("CI");
    BOOST_TEST(!(ci && std::string(ci) == "true"), "chromium is not installed");
  }

  // Search: the rare word, with its time, speaker and a highlighted snippet.
  const auto found = svc.get("/api/v1/meetings/search?q=Zeppelin");
  BOOST_TEST_REQUIRE(found.status == 200, found.body);
  const json::value found_json = found.json();
  const auto& meetings = found_json.at("data").at("meetings").as_array();
  BOOST_TEST_REQUIRE(meetings.size() == 1u);
  const auto& hit = meetings.at(0).as_object();
  BOOST_TEST(hit.at("callId").as_string() == "long");
  BOOST_TEST(hit.at("matchCount").as_int64() == 1);
  const auto& match = hit.at("matches").as_array().at(0).as_object();
  BOOST_TEST(match.at("startMs").as_int64() == static_cast<std::int64_t>(kRareIndex * 360));
  BOOST_TEST(match.at("snippet").as_string() ==
             "The <mark>zeppelin</mark> launch slipped to Thursday");
  // A common phrase: one meeting, three matches shown, all counted.
  const auto common = svc.get("/api/v1/meetings/search?q=%22quarterly%20numbers%22");
  BOOST_TEST_REQUIRE(common.status == 200, common.body);
  const json::value common_json = common.json();
  const auto& cm = common_json.at("data").at("meetings").as_array().at(0).as_object();
  BOOST_TEST(cm.at("matches").as_array().size() == 3u);
  BOOST_TEST(cm.at("matchCount").as_int64() > 2000);
  // Not a member: no transcript, nothing found.
  BOOST_TEST(svc.get("/api/v1/calls/long/transcript", "mallory").status == 404);
  BOOST_TEST(svc.get("/api/v1/meetings/search?q=zeppelin", "mallory")
                 .json()
                 .at("data")
                 .at("meetings")
                 .as_array()
                 .empty());

  // Fetched once: a repeated event and a replayed one fetch nothing again.
  svc.hook("w3", transcription_ready("long", "s1", "long.jsonl",
                                     cdn.url("/tr/long.jsonl?X-Amz-Signature=abc")));
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(cdn.hits_of("/tr/long.jsonl") == 1);
  // The pre-signed query is a credential: never in the log.
  BOOST_TEST(svc.process->log().find("X-Amz-Signature") == std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(transcripts_end_to_end)

BOOST_AUTO_TEST_CASE(a_two_hour_meeting_is_fetched_parsed_served_and_searchable_sqlite) {
  the_long_meeting("");
}

BOOST_AUTO_TEST_CASE(a_two_hour_meeting_is_fetched_parsed_served_and_searchable_postgres) {
  if (!PostgresServer::available()) {
    const char* ci = std::getenv("CI");
    BOOST_TEST(!(ci && std::string(ci) == "true"), "PostgreSQL is required under CI=true");
    return;
  }
  PostgresServer pg;
  the_long_meeting(pg.create_database("sg_transcripts"));
}

BOOST_AUTO_TEST_CASE(empty_large_junk_and_failing_files) {
  FakeCdn cdn;
  cdn.serve("/tr/empty.jsonl", "");
  cdn.serve("/tr/big.jsonl", std::string(2 * 1024 * 1024, 'x'));
  cdn.serve("/tr/junk.jsonl",
            FakeResponse{
                200, {{"Content-Type", "text/html"}}, "<html><body>Access denied</body></html>\n"});
  cdn.serve("/tr/flaky.jsonl", FakeResponse{503, {{"Content-Type", "text/plain"}}, "slow down"});
  Service svc(Service::Env{{"TRANSCRIPT_MAX_BYTES", "1048576"}});
  for (const auto& name : {"empty", "big", "junk", "flaky"}) {
    const std::string id = name;
    svc.hook("s-" + id, session_started(id, "s1", "2026-04-08T14:00:00Z", "alice"));
    svc.hook("t-" + id,
             transcription_ready(id, "s1", id + ".jsonl", cdn.url("/tr/" + id + ".jsonl")));
  }
  const auto empty = svc.settled("empty");
  BOOST_TEST(empty.at("status").as_string() == "ready");
  BOOST_TEST(empty.at("segments").as_array().empty());
  BOOST_TEST(svc.get("/api/v1/calls/empty/transcript?format=vtt").body == "WEBVTT\n");

  const auto big = svc.settled("big");
  BOOST_TEST(big.at("status").as_string() == "failed");
  BOOST_TEST(file_of(big, 0, "error").find("too_large") != std::string::npos,
             file_of(big, 0, "error"));
  const auto junk = svc.settled("junk");
  BOOST_TEST(junk.at("status").as_string() == "failed");
  BOOST_TEST(file_of(junk, 0, "error").find("unparseable") != std::string::npos);

  // 503 then 200: retried on the schedule, then stored.
  std::this_thread::sleep_for(1500ms);
  BOOST_TEST(cdn.hits_of("/tr/flaky.jsonl") >= 1);
  cdn.serve("/tr/flaky.jsonl",
            "{\"type\":\"speech\",\"speaker_id\":\"bob\",\"text\":\"back\",\"start_ts\":0,\"stop_"
            "ts\":5}\n");
  const auto flaky = svc.settled("flaky", 30s);
  BOOST_TEST(flaky.at("status").as_string() == "ready", json::serialize(flaky.at("files")));
  BOOST_TEST(flaky.at("files").as_array().at(0).at("attempts").as_int64() >= 2);

  // Permanent failures were attempted once.
  std::this_thread::sleep_for(2500ms);
  BOOST_TEST(cdn.hits_of("/tr/big.jsonl") == 1);
  BOOST_TEST(cdn.hits_of("/tr/junk.jsonl") == 1);
}

BOOST_AUTO_TEST_CASE(an_expired_url_is_relisted_from_stream) {
  FakeCdn cdn;
  FakeStream stream(kStreamKey, kStreamSecret);
  const std::string fresh = cdn.url("/tr/exp.jsonl?sig=fresh");
  cdn.serve("/tr/exp.jsonl?sig=old",
            FakeResponse{403, {{"Content-Type", "application/xml"}}, "<Error>Expired</Error>"});
  cdn.serve("/tr/exp.jsonl?sig=fresh",
            "{\"type\":\"speech\",\"speaker_id\":\"alice\",\"text\":\"renewed\",\"start_ts\":0,"
            "\"stop_ts\":9}\n");
  stream.with_call("default:exp", [&](FakeStream::Call& c) {
    c.created_by = "alice";
    c.transcriptions.push_back(json::object{{"filename", "exp.jsonl"},
                                            {"url", fresh},
                                            {"start_time", "2026-04-08T14:01:00Z"},
                                            {"end_time", "2026-04-08T14:31:00Z"},
                                            {"session_id", "s1"}});
  });
  Service svc(Service::Env{{"STREAM_BASE_URL", stream.base_url()}});
  svc.hook("w1", session_started("exp", "s1", "2026-04-08T14:00:00Z", "alice"));
  svc.hook("w2", transcription_ready("exp", "s1", "exp.jsonl", cdn.url("/tr/exp.jsonl?sig=old")));
  const auto data = svc.settled("exp");
  BOOST_TEST_REQUIRE(data.at("status").as_string() == "ready", json::serialize(data.at("files")));
  BOOST_TEST(data.at("segments").as_array().at(0).at("text").as_string() == "renewed");
  BOOST_TEST(cdn.hits_of("/tr/exp.jsonl") == 2);  // the expired URL, then the fresh one
  BOOST_TEST(stream.requests_to("GET", "/default/exp/transcriptions").size() == 1u);
  BOOST_TEST(stream.violations().empty());
}

BOOST_AUTO_TEST_CASE(the_ssrf_guard_refuses_loopback_and_plain_http) {
  FakeCdn cdn;
  cdn.serve("/tr/inside.jsonl",
            "{\"type\":\"speech\",\"text\":\"x\",\"start_ts\":0,\"stop_ts\":1}\n");
  Service svc(Service::Env{{"TRANSCRIPT_ALLOW_PRIVATE_HOSTS", "false"}});
  svc.hook("s1", session_started("inside", "s1", "2026-04-08T14:00:00Z", "alice"));
  svc.hook("t1", transcription_ready("inside", "s1", "inside.jsonl", cdn.url("/tr/inside.jsonl")));
  svc.hook("s2", session_started("plain", "s1", "2026-04-08T14:00:00Z", "alice"));
  svc.hook("t2", transcription_ready(
                     "plain", "s1", "plain.jsonl",
                     "http://127.0.0.1:" + std::to_string(cdn.server.port()) + "/tr/inside.jsonl"));
  const auto inside = svc.settled("inside");
  BOOST_TEST(inside.at("status").as_string() == "failed");
  BOOST_TEST(
      file_of(inside, 0, "error").find("127.0.0.1 is a loopback address") != std::string::npos,
      file_of(inside, 0, "error"));
  const auto plain = svc.settled("plain");
  BOOST_TEST(plain.at("status").as_string() == "failed");
  BOOST_TEST(file_of(plain, 0, "error").find("only https") != std::string::npos);
  BOOST_TEST(cdn.hits_of("/tr/inside.jsonl") == 0);  // nothing ever connected
  BOOST_TEST(cdn.server.accepts() == 0u);
}

BOOST_AUTO_TEST_CASE(a_host_outside_the_allow_list_is_refused) {
  FakeCdn cdn;
  cdn.serve("/tr/a.jsonl", "");
  Service svc(Service::Env{{"TRANSCRIPT_HOSTS", "*.stream-io-cdn.com,video.example"}});
  svc.hook("s1", session_started("hosts", "s1", "2026-04-08T14:00:00Z", "alice"));
  svc.hook("t1", transcription_ready("hosts", "s1", "a.jsonl", cdn.url("/tr/a.jsonl")));
  const auto data = svc.settled("hosts");
  BOOST_TEST(data.at("status").as_string() == "failed");
  BOOST_TEST(file_of(data, 0, "error").find("not in TRANSCRIPT_HOSTS") != std::string::npos);
  BOOST_TEST(cdn.server.accepts() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_requests_get_clear_errors_and_off_turns_it_all_off) {
  FakeCdn cdn;
  {
    Service svc(Service::Env{});
    svc.hook("s1", session_started("c1", "s1", "2026-04-08T14:00:00Z", "alice"));
    const auto none = svc.get("/api/v1/calls/c1/transcript");
    BOOST_TEST(none.status == 200);
    BOOST_TEST(none.json().at("data").at("status").as_string() == "none");
    for (const auto& [target, code] : std::vector<std::pair<std::string, int>>{
             {"/api/v1/calls/c1/transcript?format=xml", 400},
             {"/api/v1/calls/c1/transcript?file=nope", 404},
             {"/api/v1/calls/bad$id/transcript", 400},
             {"/api/v1/calls/nope/transcript", 404},
             {"/api/v1/meetings/search", 400},
             {"/api/v1/meetings/search?q=", 400},
             {"/api/v1/meetings/search?q=%F0%9F%98%80", 400},
             {"/api/v1/meetings/search?q=%C3", 400},
             {"/api/v1/meetings/search?q=" + std::string(600, 'a'), 400},
             {"/api/v1/meetings/search?q=a&limit=0", 400},
             {"/api/v1/meetings/search?q=a&limit=51", 400},
             {"/api/v1/meetings/search?q=a&cursor=zzz", 400},
             {"/api/v1/meetings/search?q=a&all=maybe", 400},
             {"/api/v1/meetings/search?q=a&all=true", 403}}) {
      BOOST_TEST_CONTEXT(target) {
        const auto r = svc.get(target);
        BOOST_TEST(r.status == code, r.body);
        BOOST_TEST(r.json().at("success").as_bool() == false);
      }
    }
    // A cursor is bound to its query.
    const auto other = svc.get("/api/v1/meetings/search?q=b&cursor=" +
                               std::string("czEwOg") /* "s10:" without the query's tag */);
    BOOST_TEST(other.status == 400);
    BOOST_TEST(http_request(svc.port, "GET", "/api/v1/meetings/search?q=a", {}).status == 401);
  }
  Service off(Service::Env{{"TRANSCRIPTS", "off"}});
  off.hook("s1", session_started("c1", "s1", "2026-04-08T14:00:00Z", "alice"));
  off.hook("t1", transcription_ready("c1", "s1", "a.jsonl", cdn.url("/tr/a.jsonl")));
  std::this_thread::sleep_for(1s);
  const auto r = off.get("/api/v1/calls/c1/transcript");
  BOOST_TEST(r.status == 404);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "transcripts_disabled");
  BOOST_TEST(off.get("/api/v1/meetings/search?q=a").status == 404);
  BOOST_TEST(cdn.server.accepts() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
