#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;

namespace {

// The value of the first sample of `name` whose labels include every `labels` entry, or -1.
double sample(const std::string& text, const std::string& name,
              const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto space = line.rfind(' ');
    const std::string series = line.substr(0, space);
    if (series.rfind(name, 0) != 0 || (series.size() > name.size() && series[name.size()] != '{'))
      continue;
    bool all = true;
    for (const auto& l : labels) all = all && series.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(space + 1));
  }
  return -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(metrics_count_what_happened) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app({{"STREAM_BASE_URL", fake.base_url()}, {"STREAM_CA_FILE", test_pki().ca_cert}});
  const std::string jwt = app_jwt("alice");
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(
        http_request(app.port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}})
            .status == 200);
  BOOST_TEST(http_request(app.port, "POST", "/api/v1/stream/token").status == 401);
  BOOST_TEST(http_request(app.port, "GET", "/api/v1/calls/secret-call-name",
                          {{"Authorization", "Bearer " + jwt}})
                 .status == 404);
  const std::string body = session_started("mx", "s1", "2026-04-08T14:00:00Z");
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", sign(kStreamSecret, body)}, {"X-Webhook-Id", "m1"}},
                          body)
                 .status == 200);
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", sign(kStreamSecret, body)}, {"X-Webhook-Id", "m1"}},
                          body)
                 .status == 200);
  BOOST_TEST(http_request(app.port, "POST", "/api/webhook/stream",
                          {{"X-Signature", std::string(64, '0')}}, body)
                 .status == 401);
  BOOST_TEST(http_request(app.port, "POST", "/api/v1/calls", {{"Authorization", "Bearer " + jwt}},
                          R"({"callId":"mc"})")
                 .status == 201);

  BOOST_TEST(http_request(app.port, "GET", "/readyz").status == 200);
  // A client connection held open on the public port while the scraper asks its own port.
  RawConnection held(app.port);
  held.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST_REQUIRE(held.read_response().status == 200);
  const auto r = http_request(app.app->metrics_port(), "GET", "/metrics");
  BOOST_TEST_REQUIRE(r.status == 200);
  BOOST_TEST(r.header("content-type").find("text/plain") == 0u);
  const std::string& m = r.body;
  BOOST_TEST(sample(m, "streamgate_http_requests_total",
                    {"route=\"/api/v1/stream/token\"", "method=\"POST\"", "status=\"200\""}) == 3);
  BOOST_TEST(sample(m, "streamgate_http_requests_total",
                    {"route=\"/api/v1/stream/token\"", "status=\"401\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_http_request_duration_seconds_count",
                    {"route=\"/api/v1/stream/token\""}) == 4);
  BOOST_TEST(sample(m, "streamgate_tokens_issued_total", {"kind=\"user\""}) == 3);
  BOOST_TEST(sample(m, "streamgate_webhooks_total",
                    {"type=\"call.session_started\"", "outcome=\"applied\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_webhooks_total",
                    {"type=\"call.session_started\"", "outcome=\"duplicate\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_webhooks_total", {"outcome=\"rejected\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_stream_requests_total",
                    {"operation=\"upsert_users\"", "status=\"201\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_stream_requests_total",
                    {"operation=\"get_or_create_call\"", "status=\"201\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_store_duration_seconds_count",
                    {"operation=\"record_webhook\"", "result=\"ok\""}) == 2);
  BOOST_TEST(sample(m, "streamgate_build_info", {"version=\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_open_connections", {}) >= 1);
  // A latency histogram per Stream operation.
  BOOST_TEST(sample(m, "streamgate_stream_request_duration_seconds_count",
                    {"operation=\"get_or_create_call\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_stream_request_duration_seconds_count",
                    {"operation=\"upsert_users\""}) == 1);
  BOOST_TEST(sample(m, "streamgate_ready", {}) == 1);
  // The process metrics, read from /proc at scrape time.
  BOOST_TEST(sample(m, "process_cpu_seconds_total", {}) > 0);
  BOOST_TEST(sample(m, "process_resident_memory_bytes", {}) > 1e6);
  BOOST_TEST(sample(m, "process_open_fds", {}) >= 3);
  BOOST_TEST(sample(m, "process_max_fds", {}) >= sample(m, "process_open_fds", {}));
  const double start = sample(m, "process_start_time_seconds", {});
  const double now = static_cast<double>(server::unix_now());
  BOOST_TEST(start > now - 3600);
  BOOST_TEST(start <= now + 1);
  BOOST_TEST(m.find("streamgate_log_lines_dropped_total 0") != std::string::npos);
  // Patterns, never raw paths, and nothing secret.
  BOOST_TEST(m.find("secret-call-name") == std::string::npos);
  BOOST_TEST(m.find("route=\"/api/v1/calls/{callId}\"") != std::string::npos);
  BOOST_TEST(m.find("eyJ") == std::string::npos);
  BOOST_TEST(m.find(kStreamSecret) == std::string::npos);
  BOOST_TEST(m.find("alice") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(metrics_have_their_own_listener_and_never_the_public_one) {
  RunningApp app;
  BOOST_TEST(app.app->metrics_port() != 0);
  BOOST_TEST(app.app->metrics_port() != app.port);
  // The public port does not serve /metrics: 404 like any unknown path.
  BOOST_TEST(http_request(app.port, "GET", "/metrics").status == 404);
  // The metrics port serves nothing else.
  BOOST_TEST(http_request(app.app->metrics_port(), "GET", "/metrics").status == 200);
  BOOST_TEST(http_request(app.app->metrics_port(), "GET", "/healthz").status == 404);
  BOOST_TEST(http_request(app.app->metrics_port(), "POST", "/api/v1/stream/token").status == 404);
}

BOOST_AUTO_TEST_CASE(metrics_listener_can_be_turned_off) {
  RunningApp app({{"METRICS_ADDRESS", "off"}});
  BOOST_TEST(app.app->metrics_port() == 0);
  BOOST_TEST(http_request(app.port, "GET", "/metrics").status == 404);
  BOOST_TEST(http_request(app.port, "GET", "/healthz").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
