// Faults injected from outside a running service (docs/testing.md, "Faults"): the real binary
// against a real PostgreSQL that is killed or paused, a SQLite file that hits a size limit, a
// Stream that is slow, down or answers garbage, and a JWKS host that is down. Each test asserts
// what the service promises; latencies are reported (BOOST_TEST_MESSAGE), never asserted.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/support/app_fixture.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/calls_client.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/webhook_client.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// The binary with base_env() and `overrides`, optionally under a shell prefix ("ulimit ... &&").
struct Service {
  Service(std::map<std::string, std::string> overrides, const std::string& shell_prefix = "") {
    dir = make_temp_dir("sg-fault");
    auto env = base_env();
    env["PATH"] = "/usr/bin:/bin";
    env["LOG_LEVEL"] = "info";
    env["DATABASE_URL"] = "sqlite:" + dir + "/streamgate.db";
    for (auto& [k, v] : overrides) env[k] = v;
    std::vector<std::string> args{STREAMGATE_BINARY};
    if (!shell_prefix.empty())
      args = {"/bin/sh", "-c", shell_prefix + " exec " + std::string(STREAMGATE_BINARY)};
    process = std::make_unique<Process>(args, env, dir, dir + "/service.log");
    port = process->wait_for_port();
  }
  ~Service() {
    process->signal(SIGTERM);
    process->wait(20s);
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string log() const { return process->log(); }
  std::string dir;
  std::unique_ptr<Process> process;
  std::uint16_t port = 0;
};

bool postgres_required() {
  if (PostgresServer::available()) return true;
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true")
    BOOST_ERROR("PostgreSQL is not installed, and CI=true requires the fault suite to run");
  else
    BOOST_TEST_MESSAGE("*** SKIPPED: PostgreSQL is not installed ***");
  return false;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

// Token requests, one after another: their latencies in milliseconds; every one must be 200.
std::vector<double> token_latencies(std::uint16_t port, int n) {
  const std::string jwt = app_jwt("alice");
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Clock::now();
    const auto r =
        http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}});
    out.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    BOOST_TEST_REQUIRE(r.status == 200, "token answered " << r.status << " " << r.body);
  }
  return out;
}

// Webhooks with fresh ids from `threads` clients until stopped; what each id was answered.
class WebhookLoad {
 public:
  WebhookLoad(std::uint16_t port, int threads) {
    for (int t = 0; t < threads; ++t)
      workers_.emplace_back([this, port, t] {
        for (int i = 0; !stop_.load(); ++i) {
          const std::string call = "fault-" + std::to_string(t) + "-" + std::to_string(i);
          const std::string id = "wh-" + call;
          int status = 0;
          try {
            status =
                post_hook(port, session_started(call, "s1", "2026-04-08T14:00:00Z"), id).status;
          } catch (const std::exception&) {
            status = -1;  // no answer at all
          }
          std::lock_guard lock(mutex_);
          results_.emplace_back(id, status);
        }
      });
  }
  ~WebhookLoad() { stop(); }
  void stop() {
    stop_.store(true);
    for (auto& w : workers_)
      if (w.joinable()) w.join();
  }
  std::vector<std::pair<std::string, int>> results() {
    std::lock_guard lock(mutex_);
    return results_;
  }
  std::size_t count(int status) {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        results_.begin(), results_.end(), [&](const auto& r) { return r.second == status; }));
  }

 private:
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<std::pair<std::string, int>> results_;
  std::vector<std::thread> workers_;
};

// Waits until `pred` holds, up to `limit`; false if it never did.
template <typename Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (Clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(postgresql_killed_under_webhook_load_loses_nothing_acknowledged) {
  if (!postgres_required()) return;
  PostgresServer pg;
  const std::string url = pg.create_database("faults_killed");
  Service s({{"DATABASE_URL", url}, {"DATABASE_BUSY_TIMEOUT_MS", "1000"}});
  WebhookLoad load(s.port, 4);
  BOOST_TEST_REQUIRE(eventually([&] { return load.count(200) >= 20; }, 20s));

  pg.kill();  // immediate shutdown: connections cut mid-transaction
  BOOST_TEST(eventually([&] { return load.count(503) >= 10; }, 20s));
  pg.start();
  // Recovery without a restart: 2xx again, well after PostgreSQL is back.
  const std::size_t before = load.count(200);
  BOOST_TEST(eventually([&] { return load.count(200) >= before + 20; }, 30s));
  load.stop();

  const auto results = load.results();
  std::size_t acknowledged = 0, refused = 0;
  for (const auto& [id, status] : results) {
    BOOST_TEST((status == 200 || status == 503), id << " answered " << status);
    if (status == 200) ++acknowledged;
    if (status == 503) ++refused;
  }
  BOOST_TEST_MESSAGE("postgresql killed: " << acknowledged << " acknowledged, " << refused
                                           << " refused with 503, of " << results.size());
  // Every event acknowledged with 2xx is in the store.
  auto store = open_store(url);
  for (const auto& [id, status] : results) {
    if (status != 200) continue;
    auto find = store->get_inbox(id);
    const auto rec = run_coro(std::move(find));
    BOOST_TEST(rec.has_value(), id << " was acknowledged but is not stored");
  }
}

BOOST_AUTO_TEST_CASE(postgresql_paused_times_out_bounds_its_queue_and_leaves_tokens_alone) {
  if (!postgres_required()) return;
  PostgresServer pg;
  const std::string url = pg.create_database("faults_paused");
  Service s({{"DATABASE_URL", url},
             {"DATABASE_BUSY_TIMEOUT_MS", "1000"},
             {"DATABASE_POOL_SIZE", "1"},
             {"DATABASE_QUEUE_LIMIT", "2"},
             {"HTTP_THREADS", "2"}});
  BOOST_TEST_REQUIRE(
      post_hook(s.port, session_started("p0", "s1", "2026-04-08T14:00:00Z"), "p0").status == 200);
  const auto before = token_latencies(s.port, 300);

  pg.pause();
  // A store call on a server that never answers: 503 by the client-side deadline.
  const auto t0 = Clock::now();
  const auto r = post_hook(s.port, session_started("p1", "s1", "2026-04-08T14:00:00Z"), "p1");
  const double stalled_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  BOOST_TEST(r.status == 503, r.body);
  // Many at once: the pool's queue holds two; the rest are refused at once ("store queue full").
  std::vector<std::thread> burst;
  std::atomic<int> not_503{0};
  for (int i = 0; i < 12; ++i)
    burst.emplace_back([&, i] {
      const auto id = "burst-" + std::to_string(i);
      if (post_hook(s.port, session_started(id, "s1", "2026-04-08T14:00:00Z"), id).status != 503)
        ++not_503;
    });
  // Tokens meanwhile: no head-of-line blocking behind the stalled store.
  const auto during = token_latencies(s.port, 300);
  for (auto& t : burst) t.join();
  BOOST_TEST(not_503.load() == 0);
  BOOST_TEST(s.log().find("store queue full") != std::string::npos);
  pg.resume();
  BOOST_TEST(eventually(
      [&] {
        return post_hook(s.port, session_started("p2", "s1", "2026-04-08T14:00:00Z"), "p2")
                   .status == 200;
      },
      20s));
  BOOST_TEST_MESSAGE("postgresql paused: store call answered 503 after "
                     << stalled_ms << " ms (DATABASE_BUSY_TIMEOUT_MS=1000); token p50/p99 "
                     << percentile(before, 0.5) << "/" << percentile(before, 0.99) << " ms before, "
                     << percentile(during, 0.5) << "/" << percentile(during, 0.99)
                     << " ms while paused");
}

BOOST_AUTO_TEST_CASE(sqlite_past_its_file_size_limit_answers_503_and_keeps_what_it_had) {
  // RLIMIT_FSIZE stands in for a full disk (no mount needed): writes past it fail with EFBIG.
  // A soft limit of 4096 blocks of 512 bytes (dash's unit), 2 MiB for the database and its
  // WAL; soft, so that it can be raised again from outside.
  Service s({{"DATABASE_POOL_SIZE", "1"}}, "ulimit -S -f 4096 &&");
  const std::string padding(20000, 'x');
  std::vector<std::string> stored;
  int refused = 0;
  for (int i = 0; i < 400 && refused < 5; ++i) {
    const std::string call = "big-" + std::to_string(i);
    auto body = boost::json::parse(session_started(call, "s1", "2026-04-08T14:00:00Z")).as_object();
    body["call"].as_object()["custom"].as_object()["padding"] = padding;
    const auto r = post_hook(s.port, boost::json::serialize(body), "wh-" + call);
    BOOST_TEST_REQUIRE((r.status == 200 || r.status == 503), r.status << " " << r.body);
    if (r.status == 200) stored.push_back(call);
    if (r.status == 503) ++refused;
  }
  BOOST_TEST_REQUIRE(refused > 0);         // the limit was reached
  BOOST_TEST(s.process->wait(0ms) == -1);  // and the process is still there
  // What was acknowledged reads back.
  for (const auto& call : stored) BOOST_TEST(get_meeting(s.port, call, admin_jwt()).status == 200);
  // Space returns: the same process takes writes again.
  const auto [rc, out] = run_command(
      {"/usr/bin/prlimit", "--pid", std::to_string(s.process->pid()), "--fsize=unlimited:"}, {},
      "/");
  BOOST_TEST_REQUIRE(rc == 0, out);
  BOOST_TEST(
      post_hook(s.port, session_started("after", "s1", "2026-04-08T14:00:00Z"), "after").status ==
      200);
  for (const auto& call : stored) BOOST_TEST(get_meeting(s.port, call, admin_jwt()).status == 200);
  // And the file is sound.
  const auto [irc, integrity] =
      run_command({"/usr/bin/python3", "-c",
                   "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('PRAGMA "
                   "integrity_check').fetchone()[0])",
                   s.dir + "/streamgate.db"},
                  {}, "/");
  BOOST_TEST(irc == 0);
  BOOST_TEST(integrity.find("ok") == 0, integrity);
  BOOST_TEST_MESSAGE("sqlite size limit: " << stored.size() << " stored, then " << refused
                                           << " refused with 503");
}

BOOST_AUTO_TEST_CASE(stream_slow_down_or_garbage_leaves_tokens_unaffected) {
  FakeStream fake(kStreamKey, kStreamSecret);
  Service s(against(fake, {{"STREAM_TIMEOUT_MS", "500"},
                           {"STREAM_RETRY_BUDGET_MS", "1500"},
                           {"STREAM_MAX_ATTEMPTS", "2"}}));
  const auto baseline = token_latencies(s.port, 300);
  BOOST_TEST_MESSAGE("stream healthy: token p50/p99 " << percentile(baseline, 0.5) << "/"
                                                      << percentile(baseline, 0.99) << " ms");
  struct Mode {
    const char* name;
    FakeStream::Override override;
  };
  const std::vector<Mode> modes = {
      {"slow",
       [](const FakeRequest&) -> std::optional<FakeResponse> {
         return FakeResponse{200, {}, "{}", 3000ms};
       }},
      {"down",
       [](const FakeRequest&) -> std::optional<FakeResponse> {
         return FakeStream::error(503, 0, "unavailable");
       }},
      {"garbage",
       [](const FakeRequest&) -> std::optional<FakeResponse> {
         return FakeResponse{200, {{"Content-Type", "application/json"}}, "\x01<html>not json"};
       }},
  };
  for (const auto& mode : modes) {
    BOOST_TEST_CONTEXT("stream " << mode.name) {
      fake.set_override(mode.override);
      std::atomic<bool> stop{false};
      std::vector<int> statuses;
      std::vector<double> call_ms;
      std::mutex m;
      std::thread calls([&] {
        for (int i = 0; !stop.load(); ++i) {
          const auto t0 = Clock::now();
          const auto r =
              api(s.port, "POST", "/api/v1/calls", app_jwt("alice"),
                  R"({"callId":"f-)" + std::string(mode.name) + std::to_string(i) + R"("})");
          std::lock_guard lock(m);
          statuses.push_back(r.status);
          call_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        }
      });
      const auto during = token_latencies(s.port, 300);
      stop.store(true);
      calls.join();
      // Calls fail cleanly: an upstream error, never a hang or a 500.
      for (const int st : statuses)
        BOOST_TEST((st == 502 || st == 503 || st == 504), "call answered " << st);
      BOOST_TEST_MESSAGE("stream " << mode.name << ": token p50/p99 " << percentile(during, 0.5)
                                   << "/" << percentile(during, 0.99) << " ms; " << statuses.size()
                                   << " call requests, slowest " << percentile(call_ms, 1.0)
                                   << " ms (budget 1500 ms)");
    }
  }
  fake.set_override(nullptr);
  BOOST_TEST(
      api(s.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"f-ok"})").status == 201);
}

BOOST_AUTO_TEST_CASE(a_jwks_host_down_at_start_and_during_rotation) {
  const KeyPair k1 = make_ec_p256_key(), k2 = make_ec_p256_key();
  std::mutex mutex;
  FakeResponse answer{503, {}, "down"};
  FakeHttpsServer host(test_pki().server_cert, test_pki().server_key, [&](const FakeRequest&) {
    std::lock_guard lock(mutex);
    return answer;
  });
  auto set = [&](FakeResponse r) {
    std::lock_guard lock(mutex);
    answer = std::move(r);
  };
  auto token = [](const KeyPair& kp, const std::string& kid) {
    const std::int64_t now = server::unix_now();
    return core::sign_with_private_key_pem(
        kp.private_pem, R"({"alg":"ES256","typ":"JWT","kid":")" + kid + "\"}",
        boost::json::serialize(boost::json::object{{"sub", "alice"}, {"exp", now + 600}}));
  };
  auto status = [](std::uint16_t port, const std::string& jwt) {
    return http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}})
        .status;
  };
  // Down at start: the service starts (it does not need the keys to listen), and a token it
  // cannot check yet is 401.
  Service s({{"AUTH_JWKS_URL", host.base_url() + "/jwks"},
             {"AUTH_JWKS_CA_FILE", test_pki().ca_cert},
             {"AUTH_JWKS_COOLDOWN_SECONDS", "0"},
             {"AUTH_JWT_SECRET", ""}});
  BOOST_TEST(status(s.port, token(k1, "k1")) == 401);
  // Up: the key is fetched on the unknown kid.
  set(FakeResponse{200, {}, R"({"keys":[)" + public_jwk(k1, "k1") + "]}"});
  BOOST_TEST(status(s.port, token(k1, "k1")) == 200);
  // Down again, hanging: the cached key keeps working; an unknown kid is 401, not a hang.
  set(FakeResponse{200, {}, "", 0ms, true});
  BOOST_TEST(status(s.port, token(k1, "k1")) == 200);
  const auto t0 = Clock::now();
  BOOST_TEST(status(s.port, token(k2, "k2")) == 401);
  const double unknown_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  BOOST_TEST(status(s.port, token(k1, "k1")) == 200);
  // Rotation once the host is back: the new key is found.
  set(FakeResponse{
      200, {}, R"({"keys":[)" + public_jwk(k1, "k1") + "," + public_jwk(k2, "k2") + "]}"});
  BOOST_TEST(status(s.port, token(k2, "k2")) == 200);
  BOOST_TEST_MESSAGE("jwks host hanging: an unknown kid answered 401 after " << unknown_ms
                                                                             << " ms");
}

BOOST_AUTO_TEST_CASE(redis_killed_or_paused_follows_the_failure_policy_and_recovers) {
  if (!std::filesystem::exists("/usr/bin/redis-server")) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") BOOST_ERROR("redis-server is missing");
    return;
  }
  const std::string dir = make_temp_dir("sg-redis-fault");
  const std::string port = std::to_string(free_port());
  auto start_redis = [&] {
    auto p = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/redis-server", "--port", port, "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"},
        std::map<std::string, std::string>{}, dir, dir + "/redis.log");
    BOOST_TEST_REQUIRE(eventually(
        [&] {
          return run_command({"/usr/bin/redis-cli", "-p", port, "ping"}, {}, "/").first == 0;
        },
        10s));
    return p;
  };
  auto redis = start_redis();
  const std::map<std::string, std::string> common{{"REDIS_URL", "redis://127.0.0.1:" + port},
                                                  {"RATE_LIMIT_USER_PER_MINUTE", "1000"},
                                                  {"REDIS_TIMEOUT_MS", "200"}};
  auto with = [&](const char* policy) {
    auto env = common;
    env["RATE_LIMIT_REDIS_FAILURE"] = policy;
    return env;
  };
  Service closed(with("closed")), open(with("open"));
  const std::string jwt = app_jwt("dana");
  auto token = [&](const Service& s) {
    return http_request(s.port, "POST", "/api/v1/stream/token",
                        {{"Authorization", "Bearer " + jwt}});
  };
  auto both_limited_by_redis = [&] {
    const auto a = token(closed), b = token(open);
    return a.status == 200 && b.status == 200 && a.header("x-ratelimit-limit") == "1000";
  };
  BOOST_TEST_REQUIRE(both_limited_by_redis());

  // Slow: a Redis that holds its sockets and answers nothing.
  redis->signal(SIGSTOP);
  const auto t0 = Clock::now();
  const auto refused = token(closed);
  const double paused_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  BOOST_TEST(refused.status == 503);
  BOOST_TEST(refused.json().at("error").at("code").as_string() == "rate_limiter_unavailable");
  BOOST_TEST(token(open).status == 200);
  redis->signal(SIGCONT);
  BOOST_TEST(eventually(both_limited_by_redis, 10s));

  // Killed, then back on the same port: the same processes recover.
  redis->signal(SIGKILL);
  redis->wait(5s);
  BOOST_TEST(token(closed).status == 503);
  BOOST_TEST(token(open).status == 200);
  redis = start_redis();
  BOOST_TEST(eventually(both_limited_by_redis, 10s));
  const auto first = token(closed), second = token(closed);
  BOOST_TEST_REQUIRE((first.status == 200 && second.status == 200),
                     first.status << " " << second.status << " " << second.body);
  BOOST_TEST_MESSAGE("remaining " << first.header("x-ratelimit-remaining") << " then "
                                  << second.header("x-ratelimit-remaining"));
  BOOST_TEST(std::stoi(second.header("x-ratelimit-remaining")) <
             std::stoi(first.header("x-ratelimit-remaining")));
  BOOST_TEST_MESSAGE("redis paused: fail-closed answered 503 after "
                     << paused_ms << " ms (REDIS_TIMEOUT_MS=200)");
  redis.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

BOOST_AUTO_TEST_SUITE_END()
