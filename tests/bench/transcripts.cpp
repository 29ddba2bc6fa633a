// Transcript figures (docs/transcripts.md):
//   ingest  the real binary fetches a two-hour transcript (20,000 segments, ~2.4 MB of JSON Lines)
//           from a fake CDN over HTTPS, parses and stores it: time from the webhook to `ready`,
//           and the process's peak RSS before and after.
//   search  N meetings (default 10,000) with a 100-segment transcript each, stored through the
//           store; then GET /api/v1/meetings/search over HTTP: a rare word, a common word, a
//           phrase and a prefix, for a typical user (10 meetings) and for an admin (all=true).
// Usage: build/bench/bench/transcripts ingest [database-url]
//        build/bench/bench/transcripts search [meetings] [database-url]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/meeting.hpp"
#include "server/store/store.hpp"
#include "tests/bench/stats.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"
#include "tests/support/process.hpp"
#include "tests/support/stream_events.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using streamgate::bench::pct;
namespace json = boost::json;

namespace {

// A deterministic word stream with a skewed distribution: a few words are everywhere, most rare.
struct Words {
  std::uint64_t state = 88172645463325252ULL;
  std::vector<std::string> vocab;
  Words() {
    static const char* common[] = {"the",  "we",   "budget", "meeting",  "project",
                                   "team", "next", "week",   "customer", "release"};
    for (const char* w : common) vocab.emplace_back(w);
    for (int i = 0; i < 5000; ++i) vocab.push_back("w" + std::to_string(i));
  }
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
  std::string sentence(int words) {
    std::string out;
    for (int i = 0; i < words; ++i) {
      const auto r = next() % 100;
      // 40 % one of ten common words, else one of 5,000 rare ones.
      const auto& w = r < 40 ? vocab[next() % 10] : vocab[10 + next() % 5000];
      if (!out.empty()) out += ' ';
      out += w;
    }
    return out;
  }
};

long rss_kb(int pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
  return 0;
}

int ingest(const std::string& url) {
  std::string body;
  for (int i = 0; i < 20000; ++i)
    body += json::serialize(json::object{{"type", "speech"},
                                         {"speaker_id", "speaker-" + std::to_string(i / 7 % 6)},
                                         {"text", "Line " + std::to_string(i) +
                                                      ": Grüße, let us go over the quarterly "
                                                      "numbers and the budget once more"},
                                         {"start_ts", i * 360},
                                         {"stop_ts", i * 360 + 300}}) +
            "\n";
  FakeHttpsServer cdn(test_pki().server_cert, test_pki().server_key, [&](const FakeRequest&) {
    return FakeResponse{200, {{"Content-Type", "application/jsonl"}}, body};
  });
  const std::string dir = make_temp_dir("sg-bench-transcripts");
  auto env = base_env();
  env["PATH"] = "/usr/bin:/bin";
  env["LOG_LEVEL"] = "info";  // the "listening" line tells the port
  env["DATABASE_URL"] = url.empty() ? "sqlite:" + dir + "/streamgate.db" : url;
  env["TRANSCRIPT_CA_FILE"] = test_pki().ca_cert;
  env["TRANSCRIPT_ALLOW_PRIVATE_HOSTS"] = "true";
  env["TRANSCRIPT_POLL_MS"] = "10";
  Process svc({STREAMGATE_BINARY}, env, dir, dir + "/service.log");
  const auto port = svc.wait_for_port();
  const auto metrics_port = svc.wait_for_metrics_port();
  post_hook(port, session_started("long", "s1", "2026-04-08T14:00:00Z", "alice"), "w1");
  const long before = rss_kb(svc.pid(), "VmHWM:");
  const auto start = Clock::now();
  post_hook(port, transcription_ready("long", "s1", "long.jsonl", cdn.base_url() + "/long.jsonl"),
            "w2");
  double seconds = 0;
  for (;;) {
    // The fetcher counts a stored file in /metrics: polling it reads nothing of the transcript.
    const auto r = http_request(metrics_port, "GET", "/metrics");
    if (r.body.find("streamgate_transcript_fetches_total{outcome=\"ready\"} 1") !=
        std::string::npos) {
      seconds = std::chrono::duration<double>(Clock::now() - start).count();
      break;
    }
    if (std::chrono::duration<double>(Clock::now() - start).count() > 120) {
      std::fprintf(stderr, "not ready after 120 s\n%s\n", svc.log().c_str());
      return 1;
    }
    std::this_thread::sleep_for(5ms);
  }
  const long after_ingest = rss_kb(svc.pid(), "VmHWM:");
  const auto full = http_request(port, "GET", "/api/v1/calls/long/transcript",
                                 {{"Authorization", "Bearer " + app_jwt("alice")}});
  const auto data = full.json().at("data");
  const auto t0 = Clock::now();
  for (int i = 0; i < 20; ++i)
    http_request(port, "GET", "/api/v1/calls/long/transcript?format=vtt",
                 {{"Authorization", "Bearer " + app_jwt("alice")}});
  const double vtt_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / 20.0;
  std::printf("backend %s: %zu bytes, %zu segments, status %s\n",
              url.empty() ? "sqlite" : "postgres", body.size(),
              data.at("segments").as_array().size(),
              std::string(data.at("status").as_string()).c_str());
  std::printf(
      "| webhook to ready | peak RSS before | after the ingest | after reading it (JSON, 20 x VTT) "
      "| VTT answer (20,000 cues) |\n");
  std::printf("|---|---|---|---|---|\n| %.2f s | %.1f MB | %.1f MB | %.1f MB | %.1f ms |\n",
              seconds, before / 1024.0, after_ingest / 1024.0, rss_kb(svc.pid(), "VmHWM:") / 1024.0,
              vtt_ms);
  svc.signal(SIGTERM);
  svc.wait(20s);
  std::filesystem::remove_all(dir);
  return 0;
}

void fill(server::Store& store, int n) {
  const auto start = Clock::now();
  boost::asio::io_context ctx;
  for (int i = 0; i < n; ++i) {
    boost::asio::co_spawn(
        ctx,
        [&, i]() -> http::Task<void> {
          const std::string id = "m" + std::to_string(i);
          auto op = store.update_meeting(
              "default", id, [i, id](std::optional<core::Meeting>) -> std::optional<core::Meeting> {
                auto m = core::new_meeting(
                    "default", id, "u" + std::to_string(i % 1000), {},
                    core::from_unix_nanos(1'760'000'000'000'000'000 + i * 1'000'000'000LL));
                core::MediaAsset t;
                t.filename = id + ".jsonl";
                t.url = "https://cdn.example/" + id + ".jsonl";
                m.transcriptions.push_back(t);
                return m;
              });
          co_await std::move(op);
        },
        boost::asio::detached);
    if (i % 2000 == 1999) ctx.run(), ctx.restart();
  }
  ctx.run();
  ctx.restart();
  Words words;
  int stored = 0;
  for (;;) {
    server::TranscriptClaim c;
    c.now = core::to_unix_nanos(core::system_now());
    c.lease_until = c.now + 3'600'000'000'000;
    c.owner = "bench";
    c.limit = 500;
    std::vector<server::TranscriptFile> jobs;
    boost::asio::co_spawn(
        ctx,
        [&]() -> http::Task<void> {
          auto op = store.claim_transcript_jobs(c);
          jobs = co_await std::move(op);
        },
        boost::asio::detached);
    ctx.run();
    ctx.restart();
    if (jobs.empty()) break;
    for (const auto& job : jobs) {
      server::TranscriptContent content;
      content.call_type = job.call_type;
      content.call_id = job.call_id;
      content.file = job.file;
      content.owner = "bench";
      for (int k = 0; k < 100; ++k)
        content.segments.push_back(
            core::TranscriptSegment{"speaker-" + std::to_string(k % 4), k * 6000, k * 6000 + 5000,
                                    words.sentence(12 + static_cast<int>(words.next() % 10))});
      // The rare word of the benchmark: in every 1,000th meeting, once.
      if (std::stoi(job.call_id.substr(1)) % 1000 == 7) content.segments[50].text += " zeppelin";
      boost::asio::co_spawn(
          ctx,
          [&, content = std::move(content)]() mutable -> http::Task<void> {
            auto op = store.store_transcript(std::move(content));
            if (co_await std::move(op)) ++stored;
          },
          boost::asio::detached);
    }
    ctx.run();
    ctx.restart();
  }
  std::printf("stored %d meetings with 100-segment transcripts in %.1f s\n", stored,
              std::chrono::duration<double>(Clock::now() - start).count());
}

// PostgreSQL's planner statistics after the bulk load, as autovacuum would gather them soon after.
void analyze(const std::string& url) {
  if (url.rfind("postgres", 0) != 0) return;
  const std::string cmd = "psql -q -d '" + url + "' -c ANALYZE";
  if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "ANALYZE failed\n");
}

int search(int n, std::string url) {
  const std::string dir = "/tmp/sg-bench-search";
  if (url.empty()) {
    std::filesystem::remove_all(dir);
    url = "sqlite:" + dir + "/streamgate.db";
  }
  {
    server::StoreOptions o;
    o.database_url = url;
    o.pool_size = 4;
    o.busy_timeout_ms = 60000;
    o.queue_limit = 100000;
    o.transcripts = true;
    auto store = server::open_store(o);
    // Filled by an earlier run with the same URL: measure again without refilling.
    boost::asio::io_context ctx;
    server::TranscriptView last;
    boost::asio::co_spawn(
        ctx,
        [&]() -> http::Task<void> {
          auto op = store->get_transcript("default", "m" + std::to_string(n - 1));
          last = co_await std::move(op);
        },
        boost::asio::detached);
    ctx.run();
    if (last.files.empty() || last.files[0].status != "ready") {
      fill(*store, n);
      analyze(url);
    } else
      std::printf("already filled: %d meetings\n", n);
  }
  RunningApp app({{"LOG_LEVEL", "warn"}, {"DATABASE_URL", url}, {"TRANSCRIPTS", "on"}});
  struct Case {
    const char* name;
    std::string user;
    bool admin;
    std::string query;
  };
  const std::vector<Case> cases = {
      {"typical user (10 meetings), rare word", "u7", false, "q=zeppelin"},
      {"typical user, common word", "u7", false, "q=budget"},
      {"typical user, two words", "u7", false, "q=budget%20release"},
      {"typical user, phrase", "u7", false, "q=%22next%20week%22"},
      {"typical user, prefix", "u7", false, "q=w12*"},
      {"admin all=true, rare word", "ops", true, "q=zeppelin&all=true"},
      {"admin all=true, rare-ish word (w4242)", "ops", true, "q=w4242&all=true"},
      {"admin all=true, common word", "ops", true, "q=budget&all=true"},
      {"admin all=true, phrase", "ops", true, "q=%22next%20week%22&all=true"},
  };
  std::printf("backend %s, %d meetings, %d segments\n",
              url.rfind("postgres", 0) == 0 ? "postgres" : "sqlite", n, n * 100);
  std::printf("| query | meetings matched (first page) | p50 | p99 |\n|---|---|---|---|\n");
  for (const auto& c : cases) {
    const std::string jwt =
        c.admin ? app_jwt(c.user, {{"roles", json::array{"admin"}}}) : app_jwt(c.user);
    RawConnection conn(app.port);
    std::vector<double> us;
    std::size_t returned = 0;
    const int runs = c.admin ? 20 : 100;
    for (int i = 0; i < runs; ++i) {
      const auto start = Clock::now();
      conn.send("GET /api/v1/meetings/search?" + c.query +
                " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + jwt + "\r\n\r\n");
      const auto r = conn.read_response(60s);
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (r.status != 200) {
        std::fprintf(stderr, "%s answered %d: %s\n", c.name, r.status, r.body.c_str());
        return 1;
      }
      if (i == 0) returned = r.json().at("data").at("meetings").as_array().size();
    }
    std::printf("| %s | %zu | %.2f ms | %.2f ms |\n", c.name, returned, pct(us, 0.5) / 1000.0,
                pct(us, 0.99) / 1000.0);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "ingest") return ingest(argc > 2 ? argv[2] : "");
  if (mode == "search")
    return search(argc > 2 ? std::max(100, std::atoi(argv[2])) : 10000, argc > 3 ? argv[3] : "");
  std::fprintf(stderr,
               "usage: transcripts ingest [database-url] | search [meetings] [database-url]\n");
  return 2;
}
