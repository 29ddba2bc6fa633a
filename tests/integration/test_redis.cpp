#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <thread>

#include "core/checked.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

// A real redis-server on a free loopback port, no persistence; stopped by the destructor. With
// `tls`, it listens for TLS only (the test PKI's CA); `acl` lines define its users (then the
// `admin` user, which they must define with the password admin-secret, runs cli()).
struct RedisServer {
  struct Tls {
    std::string cert;
    std::string key;
  };
  std::string dir = make_temp_dir("sg-redis");
  std::uint16_t port = free_port();
  std::optional<Tls> tls;
  bool acl = false;
  std::unique_ptr<Process> process;

  explicit RedisServer(std::optional<Tls> t = std::nullopt,
                       const std::vector<std::string>& users = {})
      : tls(std::move(t)), acl(!users.empty()) {
    std::string conf = "bind 127.0.0.1\nsave \"\"\nappendonly no\ndir " + dir + "\n";
    if (tls)
      conf += "port 0\ntls-port " + std::to_string(port) + "\ntls-cert-file " + tls->cert +
              "\ntls-key-file " + tls->key + "\ntls-ca-cert-file " + test_pki().ca_cert +
              "\ntls-auth-clients no\n";
    else
      conf += "port " + std::to_string(port) + "\n";
    for (const auto& line : users) conf += line + "\n";
    {
      std::ofstream f(dir + "/redis.conf");
      f << conf;
    }
    process = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/redis-server", dir + "/redis.conf"},
        std::map<std::string, std::string>{}, dir, dir + "/redis.log");
    for (int i = 0; i < 100; ++i) {
      if (cli("PING").find("PONG") != std::string::npos) return;
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("redis-server did not start: " + process->log());
  }
  // One redis-cli command (words separated by spaces); its output.
  std::string cli(const std::string& command) const {
    std::string cmd = "/usr/bin/redis-cli -h 127.0.0.1 -p " + std::to_string(port);
    if (tls) cmd += " --tls --cacert " + test_pki().ca_cert;
    if (acl) cmd += " --user admin --pass admin-secret --no-auth-warning";
    cmd += " " + command + " 2>&1";
    std::string out;
    if (FILE* p = ::popen(cmd.c_str(), "r")) {
      char buf[4096];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
      ::pclose(p);
    }
    return out;
  }
  // `calls` of one command from INFO commandstats ("evalsha"), 0 when never called.
  std::int64_t calls(const std::string& name) const {
    const std::string info = cli("INFO commandstats");
    const std::string field = "cmdstat_" + name + ":calls=";
    const auto at = info.find(field);
    if (at == std::string::npos) return 0;
    const auto start = at + field.size();
    const auto n =
        core::parse_int64(std::string_view(info).substr(start, info.find(',', start) - start));
    if (!n) throw std::runtime_error("INFO commandstats: no call count for " + name);
    return *n;
  }
  void kill() {
    process->signal(SIGKILL);
    process->wait(5s);
  }
  ~RedisServer() {
    process.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port); }
};

// Users of the TLS server: the default user is off; `limiter` may run the script on the rate
// limit keys and nothing else (docs/operations.md gives the same line).
const std::vector<std::string> kAclUsers = {
    "user default off",
    "user limiter on >limiter-secret ~streamgate:rl:* -@all +evalsha +eval +time +hmget +hset "
    "+pexpire",
    "user admin on >admin-secret ~* &* +@all"};

bool redis_available() {
  if (std::filesystem::exists("/usr/bin/redis-server")) return true;
  const char* ci = std::getenv("CI");
  if (ci && std::string(ci) == "true")
    BOOST_ERROR("redis-server is not installed, and CI=true requires the Redis tests");
  else
    BOOST_TEST_MESSAGE(
        "*** SKIPPED: Redis tests (redis-server is not installed; run deploy/install-deps.sh) ***");
  return false;
}

// The settings of a replica limited to 100 tokens a minute through Redis, which lets requests
// through ("open") or refuses them ("closed") while Redis is unreachable.
std::map<std::string, std::string> limited(std::map<std::string, std::string> redis,
                                           const char* on_failure) {
  redis["RATE_LIMIT_USER_PER_MINUTE"] = "100";
  redis["RATE_LIMIT_REDIS_FAILURE"] = on_failure;
  return redis;
}

int token(std::uint16_t port, const std::string& jwt, std::string* retry_after = nullptr) {
  const auto r =
      http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}});
  if (retry_after) *retry_after = r.header("retry-after");
  return r.status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(redis_rate_limits)

BOOST_AUTO_TEST_CASE(two_replicas_share_one_limit) {
  if (!redis_available()) return;
  RedisServer redis;
  RunningApp a({{"REDIS_URL", redis.url()}, {"RATE_LIMIT_USER_PER_MINUTE", "3"}});
  RunningApp b({{"REDIS_URL", redis.url()}, {"RATE_LIMIT_USER_PER_MINUTE", "3"}});
  const std::string jwt = app_jwt("shared-user");
  BOOST_TEST(token(a.port, jwt) == 200);
  BOOST_TEST(token(b.port, jwt) == 200);
  BOOST_TEST(token(a.port, jwt) == 200);
  std::string retry_after;
  BOOST_TEST(token(b.port, jwt, &retry_after) == 429);
  BOOST_TEST(std::stoi(retry_after) >= 1);
  BOOST_TEST(token(a.port, jwt) == 429);
  BOOST_TEST(token(b.port, app_jwt("someone-else")) == 200);  // per user
}

BOOST_AUTO_TEST_CASE(redis_down_fails_open_or_closed_as_configured) {
  if (!redis_available()) return;
  RedisServer redis;
  RunningApp open(limited({{"REDIS_URL", redis.url()}}, "open"));
  RunningApp closed(limited({{"REDIS_URL", redis.url()}}, "closed"));
  const std::string jwt = app_jwt("dana");
  BOOST_TEST(token(open.port, jwt) == 200);
  BOOST_TEST(token(closed.port, jwt) == 200);
  redis.kill();
  BOOST_TEST(token(open.port, jwt) == 200);
  const auto r = http_request(closed.port, "POST", "/api/v1/stream/token",
                              {{"Authorization", "Bearer " + jwt}});
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "rate_limiter_unavailable");
  // Each decision taken without Redis is counted, by what it decided.
  const auto open_metrics = http_request(open.app->metrics_port(), "GET", "/metrics").body;
  const auto closed_metrics = http_request(closed.app->metrics_port(), "GET", "/metrics").body;
  BOOST_TEST(open_metrics.find("streamgate_rate_limiter_unavailable_total{decision=\"open\"} 1") !=
             std::string::npos);
  BOOST_TEST(
      closed_metrics.find("streamgate_rate_limiter_unavailable_total{decision=\"closed\"} 1") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_redis_that_never_answers_is_bounded_by_the_timeout) {
  if (!redis_available()) return;
  // A listener that accepts and never answers.
  const std::string dir = make_temp_dir("sg-silent");
  const auto port = free_port();
  Process silent(
      {"/usr/bin/python3", "-c",
       "import "
       "socket,time\ns=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
       "s.bind(('127.0.0.1'," +
           std::to_string(port) +
           "));s.listen(16)\nc=[]\n"
           "while True:\n  c.append(s.accept())\n"},
      {}, dir, dir + "/silent.log");
  std::this_thread::sleep_for(300ms);
  RunningApp app({{"REDIS_URL", "redis://127.0.0.1:" + std::to_string(port)},
                  {"RATE_LIMIT_USER_PER_MINUTE", "10"},
                  {"REDIS_TIMEOUT_MS", "200"},
                  {"RATE_LIMIT_REDIS_FAILURE", "closed"}});
  const auto start = std::chrono::steady_clock::now();
  BOOST_TEST(token(app.port, app_jwt("erin")) == 503);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 3s));
}

// rediss:// with an ACL user (the default user off): two replicas share one limit; the script
// goes by its SHA-1, and whole only when Redis does not have it (first use, after a flush).
BOOST_AUTO_TEST_CASE(tls_and_an_acl_user_two_replicas_share_one_limit) {
  if (!redis_available()) return;
  const auto& pki = test_pki();
  RedisServer redis(RedisServer::Tls{pki.server_cert, pki.server_key}, kAclUsers);
  const std::string url = "rediss://limiter:limiter-secret@localhost:" + std::to_string(redis.port);
  const RunningApp::Overrides settings = {{"REDIS_URL", url},
                                          {"REDIS_CA_FILE", pki.ca_cert},
                                          {"RATE_LIMIT_USER_PER_MINUTE", "3"},
                                          {"RATE_LIMIT_IP_PER_MINUTE", "0"},
                                          {"RATE_LIMIT_REDIS_FAILURE", "closed"}};
  RunningApp a(settings);
  RunningApp b(settings);
  const std::string jwt = app_jwt("tls-user");
  BOOST_TEST(token(a.port, jwt) == 200);
  BOOST_TEST(token(b.port, jwt) == 200);
  BOOST_TEST(token(a.port, jwt) == 200);
  BOOST_TEST(token(b.port, jwt) == 429);
  BOOST_TEST(token(a.port, jwt) == 429);
  BOOST_TEST(token(b.port, app_jwt("tls-other")) == 200);
  // Six decisions: the script was sent whole once (the first NOSCRIPT), by SHA-1 every time.
  BOOST_TEST(redis.calls("eval") == 1);
  BOOST_TEST(redis.calls("evalsha") == 6);
  BOOST_TEST(redis.cli("KEYS 'streamgate:*'").find("streamgate:rl:user:user:tls-user") !=
             std::string::npos);
  // A Redis that lost its scripts (restart, failover, SCRIPT FLUSH): NOSCRIPT, then EVAL.
  BOOST_TEST(redis.cli("SCRIPT FLUSH").find("OK") != std::string::npos);
  BOOST_TEST(token(a.port, app_jwt("tls-third")) == 200);
  BOOST_TEST(redis.calls("eval") == 2);
  BOOST_TEST(token(b.port, app_jwt("tls-third")) == 200);
  BOOST_TEST(redis.calls("eval") == 2);
  BOOST_TEST(redis.calls("evalsha") == 8);
}

// A wrong password, no user (the default user is off), a certificate for another host name, a
// CA we were not told to trust: no decision from Redis, so fail-closed answers 503.
BOOST_AUTO_TEST_CASE(rediss_refuses_a_bad_password_a_wrong_host_and_an_unknown_ca) {
  if (!redis_available()) return;
  const auto& pki = test_pki();
  RedisServer redis(RedisServer::Tls{pki.server_cert, pki.server_key}, kAclUsers);
  RedisServer other(RedisServer::Tls{pki.other_host_cert, pki.other_host_key}, kAclUsers);
  const auto port = std::to_string(redis.port);
  struct Case {
    std::string name;
    std::string url;
    std::string ca;
  };
  const Case cases[] = {
      {"good", "rediss://limiter:limiter-secret@localhost:" + port, pki.ca_cert},
      {"wrong password", "rediss://limiter:nope@localhost:" + port, pki.ca_cert},
      {"default user (off)", "rediss://localhost:" + port, pki.ca_cert},
      {"plain TCP to the TLS port", "redis://limiter:limiter-secret@localhost:" + port, ""},
      {"another host's certificate",
       "rediss://limiter:limiter-secret@127.0.0.1:" + std::to_string(other.port), pki.ca_cert},
      {"CA not trusted", "rediss://limiter:limiter-secret@localhost:" + port, ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      RunningApp::Overrides base = {{"REDIS_URL", c.url},
                                    {"RATE_LIMIT_USER_PER_MINUTE", "100"},
                                    {"RATE_LIMIT_IP_PER_MINUTE", "0"},
                                    {"REDIS_TIMEOUT_MS", "1000"},
                                    {"RATE_LIMIT_REDIS_FAILURE", "closed"}};
      std::map<std::string, std::string> settings(base);
      if (!c.ca.empty()) settings["REDIS_CA_FILE"] = c.ca;
      RunningApp app(settings);
      BOOST_TEST(token(app.port, app_jwt("who")) == (c.name == "good" ? 200 : 503));
    }
  }
}

BOOST_AUTO_TEST_CASE(tls_redis_down_fails_open_or_closed_as_configured) {
  if (!redis_available()) return;
  const auto& pki = test_pki();
  RedisServer redis(RedisServer::Tls{pki.server_cert, pki.server_key}, kAclUsers);
  const std::string url = "rediss://limiter:limiter-secret@localhost:" + std::to_string(redis.port);
  RunningApp open(limited({{"REDIS_URL", url}, {"REDIS_CA_FILE", pki.ca_cert}}, "open"));
  RunningApp closed(limited({{"REDIS_URL", url}, {"REDIS_CA_FILE", pki.ca_cert}}, "closed"));
  const std::string jwt = app_jwt("fran");
  BOOST_TEST(token(open.port, jwt) == 200);
  BOOST_TEST(token(closed.port, jwt) == 200);
  redis.kill();
  BOOST_TEST(token(open.port, jwt) == 200);
  BOOST_TEST(token(closed.port, jwt) == 503);
}

BOOST_AUTO_TEST_SUITE_END()
