#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/trace.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

// deploy/local-cluster.sh up/down around a test: PostgreSQL, Redis, two replicas, nginx.
// n distinct free ports (free_port() alone may hand out the same one twice).
std::vector<std::uint16_t> distinct_ports(std::size_t n) {
  std::vector<std::uint16_t> out;
  while (out.size() < n) {
    const auto p = free_port();
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  }
  return out;
}

struct Cluster {
  std::string parent = make_temp_dir("sg-cluster");
  std::string dir = parent + "/state";
  std::vector<std::uint16_t> ports = distinct_ports(5);
  std::uint16_t port = ports[0];
  std::map<std::string, std::string> env;
  explicit Cluster(std::map<std::string, std::string> extra = {}) {
    // The postgres user must reach the data directory below.
    std::filesystem::permissions(parent, std::filesystem::perms::owner_all |
                                             std::filesystem::perms::group_exec |
                                             std::filesystem::perms::others_exec);
    env = {{"PATH", "/usr/sbin:/usr/bin:/sbin:/bin"},
           {"CLUSTER_DIR", dir},
           {"CLUSTER_PORT", std::to_string(port)},
           {"REPLICA_PORTS", std::to_string(ports[1]) + " " + std::to_string(ports[2])},
           {"PG_PORT", std::to_string(ports[3])},
           {"REDIS_PORT", std::to_string(ports[4])},
           {"STREAMGATE_BIN", STREAMGATE_BINARY},
           {"STREAM_API_KEY", kStreamKey},
           {"STREAM_API_SECRET", kStreamSecret},
           {"AUTH_JWT_SECRET", kAppSecret}};
    for (auto& [k, v] : extra) env[k] = v;
    const auto [code, out] =
        run_command({"/bin/bash", STREAMGATE_SOURCE_DIR "/deploy/local-cluster.sh", "up"}, env,
                    STREAMGATE_SOURCE_DIR);
    if (code != 0) throw std::runtime_error("local-cluster up failed: " + out);
  }
  ~Cluster() {
    run_command({"/bin/bash", STREAMGATE_SOURCE_DIR "/deploy/local-cluster.sh", "down"}, env,
                STREAMGATE_SOURCE_DIR);
    std::error_code ec;
    std::filesystem::remove_all(parent, ec);
  }
  int pid(const std::string& name) const {
    std::ifstream in(dir + "/pids");
    std::string n, v;
    while (in >> n >> v)
      if (n == name) return std::stoi(v);
    return -1;
  }
  std::string log(const std::string& name) const { return read_file(dir + "/" + name + ".log"); }
  // Waits (logs are written in batches) until `name`'s log holds `text`.
  bool log_has(const std::string& name, const std::string& text) const {
    for (int i = 0; i < 60; ++i) {
      if (read_file(dir + "/" + name).find(text) != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }
};

bool tools_available() {
  for (const char* p : {"/usr/sbin/nginx", "/usr/bin/redis-server"})
    if (!std::filesystem::exists(p) || !PostgresServer::available()) {
      const char* ci = std::getenv("CI");
      if (ci && std::string(ci) == "true")
        BOOST_ERROR("nginx, redis-server or PostgreSQL missing under CI=true");
      else
        BOOST_TEST_MESSAGE("*** SKIPPED: local cluster tests (run deploy/install-deps.sh) ***");
      return false;
    }
  return true;
}

HttpResponse hook(std::uint16_t port, const std::string& body, const std::string& id) {
  return http_request(port, "POST", "/api/webhook/stream",
                      {{"X-Signature", sign(kStreamSecret, body)}, {"X-Webhook-Id", id}}, body);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(local_cluster)

BOOST_AUTO_TEST_CASE(webhooks_meetings_failover_and_drain_through_nginx) {
  if (!tools_available()) return;
  Cluster cluster;
  // A webhook through nginx, then its retry: round robin lands it on the other replica.
  const std::string body =
      session_ended("cl-1", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:10:00Z");
  const auto first = hook(cluster.port, body, "cluster-1");
  BOOST_TEST_REQUIRE(first.status == 200, first.body);
  BOOST_TEST(first.json().at("data").at("status").as_string() == "applied");
  const auto retry = hook(cluster.port, body, "cluster-1");
  BOOST_TEST(retry.json().at("data").at("status").as_string() == "duplicate");
  // (Logs are written in batches: give them a moment.)
  bool both = false;
  for (int i = 0; i < 40 && !both; ++i) {
    std::this_thread::sleep_for(50ms);
    both = cluster.log("replica1").find("/api/webhook/stream") != std::string::npos &&
           cluster.log("replica2").find("/api/webhook/stream") != std::string::npos;
  }
  BOOST_TEST(both);
  // The meeting read through nginx is the same whichever replica answers.
  const std::string admin = app_jwt("ops", {{"roles", "admin"}});
  auto read = [&] {
    auto r = http_request(cluster.port, "GET", "/api/v1/calls/cl-1",
                          {{"Authorization", "Bearer " + admin}});
    BOOST_TEST_REQUIRE(r.status == 200);
    auto d = r.json().at("data").as_object();
    d.erase("updatedAt");
    return d;
  };
  const auto a = read(), b = read();
  BOOST_TEST(a == b);
  BOOST_TEST(a.at("durationSeconds").as_int64() == 600);
  // The client address reaches the replicas through X-Forwarded-For (TRUSTED_PROXY_HOPS=1).
  BOOST_TEST(cluster.log("replica1").find("\"ip\":\"127.0.0.1\"") != std::string::npos);

  // One replica killed mid-load: nginx retries on the other, no request fails. (A user per
  // request: the per-user rate limit, shared through Redis, would otherwise answer 429.)
  std::atomic<int> ok{0}, failed{0};
  std::thread load([&] {
    for (int i = 0; i < 300; ++i) {
      try {
        const auto r =
            http_request(cluster.port, "POST", "/api/v1/stream/token",
                         {{"Authorization", "Bearer " + app_jwt("load-" + std::to_string(i))}});
        (r.status == 200 ? ok : failed)++;
      } catch (const std::exception&) {
        failed++;
      }
    }
  });
  std::this_thread::sleep_for(150ms);
  ::kill(cluster.pid("replica1"), SIGKILL);
  load.join();
  BOOST_TEST(failed.load() == 0);
  BOOST_TEST(ok.load() == 300);

  // SIGTERM on the remaining replica: it drains and stops cleanly.
  const int pid2 = cluster.pid("replica2");
  ::kill(pid2, SIGTERM);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    std::this_thread::sleep_for(50ms);
    gone = ::kill(pid2, 0) != 0;
  }
  BOOST_TEST(gone);
  const std::string log2 = cluster.log("replica2");
  BOOST_TEST(log2.find("\"msg\":\"draining\"") != std::string::npos);
  BOOST_TEST(log2.find("\"msg\":\"stopped\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(one_request_id_from_the_client_through_nginx_and_streamgate_to_stream) {
  if (!tools_available()) return;
  FakeStream fake(kStreamKey, kStreamSecret);
  Cluster cluster({{"STREAM_BASE_URL", fake.base_url()}, {"STREAM_CA_FILE", test_pki().ca_cert}});
  const std::string jwt = app_jwt("alice");

  // The client names the id: nginx passes it on, streamgate answers with it and sends it to
  // Stream, and all three logs carry it.
  const std::string id = "client-chosen-id-0042";
  const auto r = http_request(cluster.port, "POST", "/api/v1/calls",
                              {{"Authorization", "Bearer " + jwt},
                               {"Content-Type", "application/json"},
                               {"X-Request-Id", id}},
                              R"({"callId":"traced-1"})");
  BOOST_TEST_REQUIRE(r.status == 201, r.body);
  BOOST_TEST(r.header("x-request-id") == id);
  const auto created = fake.requests_to("POST", "/api/v2/video/call/default/traced-1");
  BOOST_TEST_REQUIRE(created.size() == 1u);
  BOOST_TEST(created[0].header("x-request-id") == id);
  BOOST_TEST(http::parse_traceparent(created[0].header("traceparent")).has_value());
  BOOST_TEST(cluster.log_has("nginx/access.log", "id=" + id));
  BOOST_TEST((cluster.log_has("replica1.log", "\"requestId\":\"" + id + "\"") ||
              cluster.log_has("replica2.log", "\"requestId\":\"" + id + "\"")));

  // No id from the client: nginx makes one ($request_id), which is also the trace id that
  // reaches Stream in traceparent.
  const auto e = http_request(cluster.port, "POST", "/api/v1/calls/traced-1/end",
                              {{"Authorization", "Bearer " + jwt}});
  BOOST_TEST_REQUIRE(e.status == 200, e.body);
  const std::string made = e.header("x-request-id");
  BOOST_TEST(http::is_trace_id(made), made);
  const auto ended = fake.requests_to("POST", "/mark_ended");
  BOOST_TEST_REQUIRE(ended.size() == 1u);
  BOOST_TEST(ended[0].header("x-request-id") == made);
  const auto tp = http::parse_traceparent(ended[0].header("traceparent"));
  BOOST_TEST_REQUIRE(tp.has_value());
  BOOST_TEST(tp->trace_id == made);
  BOOST_TEST(cluster.log_has("nginx/access.log", "id=" + made));
  BOOST_TEST((cluster.log_has("replica1.log", "\"traceId\":\"" + made + "\"") ||
              cluster.log_has("replica2.log", "\"traceId\":\"" + made + "\"")));

  // A client's traceparent passes through nginx and names the trace.
  const std::string trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  const auto s = http_request(cluster.port, "POST", "/api/v1/calls/traced-1/sync",
                              {{"Authorization", "Bearer " + jwt},
                               {"traceparent", "00-" + trace + "-00f067aa0ba902b7-01"}});
  BOOST_TEST_REQUIRE(s.status == 200, s.body);
  BOOST_TEST(s.header("x-request-id") == trace);
  const auto got = fake.requests_to("GET", "/api/v2/video/call/default/traced-1");
  BOOST_TEST_REQUIRE(!got.empty());
  BOOST_TEST(http::parse_traceparent(got.back().header("traceparent"))->trace_id == trace);
  BOOST_TEST(fake.violations().empty());

  // /metrics is not public: nginx does not serve it; each replica's metrics port does.
  BOOST_TEST(http_request(cluster.port, "GET", "/metrics").status == 404);
  const std::string log1 = cluster.log("replica1");
  const auto at = log1.find("\"metricsPort\":");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  const auto metrics_port = static_cast<std::uint16_t>(std::stoi(log1.substr(at + 14)));
  const auto m = http_request(metrics_port, "GET", "/metrics");
  BOOST_TEST(m.status == 200);
  BOOST_TEST(m.body.find("process_resident_memory_bytes") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
