#include <boost/test/unit_test.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

// A real redis-server on a free loopback port, no persistence; stopped by the destructor.
struct RedisServer {
  std::string dir = make_temp_dir("sg-redis");
  std::uint16_t port = free_port();
  std::unique_ptr<Process> process;
  RedisServer() {
    process = std::make_unique<Process>(
        std::vector<std::string>{"/usr/bin/redis-server", "--port", std::to_string(port), "--bind",
                                 "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir},
        std::map<std::string, std::string>{}, dir, dir + "/redis.log");
    for (int i = 0; i < 100; ++i) {
      try {
        RawConnection c(port);
        c.send("PING\r\n");
        if (c.read_all(200ms).find("PONG") != std::string::npos) return;
      } catch (const std::exception&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("redis-server did not start: " + process->log());
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
  RunningApp open({{"REDIS_URL", redis.url()},
                   {"RATE_LIMIT_USER_PER_MINUTE", "100"},
                   {"RATE_LIMIT_REDIS_FAILURE", "open"}});
  RunningApp closed({{"REDIS_URL", redis.url()},
                     {"RATE_LIMIT_USER_PER_MINUTE", "100"},
                     {"RATE_LIMIT_REDIS_FAILURE", "closed"}});
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

BOOST_AUTO_TEST_SUITE_END()
