// Latency streamgate adds to a call operation: POST /api/v1/calls/{id}/participants (two Stream
// calls — upsert user, update members — plus a store write) through streamgate, against the
// same two Stream calls made directly with the same HTTPS client, both with warm pools, one
// request at a time. Prints p50/p90/p99 of each and the difference of the medians.
// Usage: build/bench/call_overhead [iterations]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/stream_token.hpp"
#include "http/https_client.hpp"
#include "tests/bench/stats.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"

using namespace streamgate;
using namespace streamgate::test;
using Clock = std::chrono::steady_clock;
using streamgate::bench::pct;

namespace {

void report(const char* name, const std::vector<double>& us) {
  std::printf("| %s | %.0f µs | %.0f µs | %.0f µs |\n", name, pct(us, 0.5), pct(us, 0.9),
              pct(us, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app({{"STREAM_BASE_URL", fake.base_url()},
                  {"STREAM_CA_FILE", test_pki().ca_cert},
                  {"LOG_LEVEL", "warn"}});
  const std::string alice = app_jwt("alice");
  if (http_request(app.port, "POST", "/api/v1/calls", {{"Authorization", "Bearer " + alice}},
                   R"({"callId":"bench"})")
          .status != 201)
    return 1;

  // Through streamgate, on one keep-alive connection.
  std::vector<double> via;
  RawConnection conn(app.port);
  const std::string body = R"({"userId":"bob"})";
  const std::string request =
      "POST /api/v1/calls/bench/participants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
      alice +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body;
  for (int i = 0; i < n + 50; ++i) {
    const auto t0 = Clock::now();
    conn.send(request);
    if (conn.read_response().status != 200) return 2;
    if (i >= 50)
      via.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }

  // The same two Stream calls, directly.
  http::ClientOptions o;
  o.ca_file = test_pki().ca_cert;
  http::HttpsClient client(o);
  const std::string token = core::make_stream_server_token(core::HmacSha256Key(kStreamSecret));
  const auto headers =
      std::vector<std::pair<std::string, std::string>>{{"Authorization", token},
                                                       {"stream-auth-type", "jwt"},
                                                       {"X-Stream-Client", "streamgate-bench"},
                                                       {"Content-Type", "application/json"}};
  boost::asio::io_context ctx;
  auto direct = boost::asio::co_spawn(
      ctx,
      [&]() -> boost::asio::awaitable<std::vector<double>> {
        std::vector<double> out;
        for (int i = 0; i < n + 50; ++i) {
          const auto t0 = Clock::now();
          http::ClientRequest users{"POST", fake.base_url() + "/api/v2/users?api_key=" + kStreamKey,
                                    headers, R"({"users":{"bob":{"id":"bob"}}})"};
          auto a = client.request(users);  // [gcc12-co_await]
          co_await std::move(a);
          http::ClientRequest members{
              "POST",
              fake.base_url() + "/api/v2/video/call/default/bench/members?api_key=" + kStreamKey,
              headers, R"({"update_members":[{"user_id":"bob","role":"participant"}]})"};
          auto b = client.request(members);  // [gcc12-co_await]
          co_await std::move(b);
          if (i >= 50)
            out.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
        }
        co_return out;
      },
      boost::asio::use_future);
  ctx.run();
  const auto direct_us = direct.get();
  client.close_idle();

  std::printf("| path | p50 | p90 | p99 |\n| --- | --- | --- | --- |\n");
  report("direct to the fake Stream (2 calls)", direct_us);
  report("through streamgate", via);
  std::printf(
      "\nadded at p50: %.0f µs (%d sequential requests each, warm pools, %zu TCP connections to "
      "the fake)\n",
      pct(via, 0.5) - pct(direct_us, 0.5), n, fake.accepts());
  return 0;
}
