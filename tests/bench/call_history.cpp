// Does the cost of one webhook grow with the call's history? Delivers N session events (N/2
// sessions, each started then ended) to ONE call, one at a time on a keep-alive connection, with
// an event for another call after every 10th, then reads the meeting. Prints per-event p50/p99
// for the first and the last 10% of the history call's events, and for the other calls' events
// at the start and the end, and the meeting read.
// Usage: build/bench/bench/call_history [events] [database-url]   (default 10000, SQLite in /tmp)
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "core/time.hpp"
#include "tests/bench/stats.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
using Clock = std::chrono::steady_clock;
using streamgate::bench::pct;

namespace {

std::string at(std::int64_t minute) { return core::format_rfc3339(1775640000 + minute * 60); }

std::string hook(const std::string& body, const std::string& id) {
  return "POST /api/webhook/stream HTTP/1.1\r\nHost: bench\r\nContent-Type: "
         "application/json\r\nX-Signature: " +
         sign(kStreamSecret, body) + "\r\nX-Webhook-Id: " + id +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int events = argc > 1 ? std::max(100, std::atoi(argv[1])) : 10000;
  std::map<std::string, std::string> env{{"LOG_LEVEL", "warn"}};
  if (argc > 2) env["DATABASE_URL"] = argv[2];
  RunningApp app(env);
  RawConnection c(app.port);
  const auto deliver = [&](const std::string& body, const std::string& id) {
    const auto start = Clock::now();
    c.send(hook(body, id));
    const auto r = c.read_response();
    if (r.status != 200) {
      std::fprintf(stderr, "delivery %s answered %d: %s\n", id.c_str(), r.status, r.body.c_str());
      std::exit(1);
    }
    return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
  };

  std::vector<double> history_us, other_us;
  std::vector<int> other_index;
  for (int i = 0; i < events; ++i) {
    const int session = i / 2;
    const std::string sid = "s" + std::to_string(session);
    const std::string body =
        i % 2 == 0 ? session_started("daily", sid, at(2 * session))
                   : session_ended("daily", sid, at(2 * session), at(2 * session + 1));
    history_us.push_back(deliver(body, "h" + std::to_string(i)));
    if (i % 10 == 9) {
      const std::string other = "other-" + std::to_string(i);
      other_us.push_back(deliver(session_started(other, "s1", at(0)), "o" + std::to_string(i)));
    }
  }
  const auto read_start = Clock::now();
  const auto meeting =
      http_request(app.port, "GET", "/api/v1/calls/daily",
                   {{"Authorization", "Bearer " + app_jwt("ops", {{"roles", "admin"}})}});
  const double read_us =
      std::chrono::duration<double, std::micro>(Clock::now() - read_start).count();
  if (meeting.status != 200) return 1;
  const auto data = meeting.json().at("data");

  const auto slice = [](const std::vector<double>& v, bool first) {
    const std::size_t n = std::max<std::size_t>(1, v.size() / 10);
    return first ? std::vector<double>(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n))
                 : std::vector<double>(v.end() - static_cast<std::ptrdiff_t>(n), v.end());
  };
  std::printf("backend %s, %d events to one call (%lld sessions), %zu to other calls\n",
              argc > 2 && std::string(argv[2]).rfind("postgres", 0) == 0 ? "postgres" : "sqlite",
              events, static_cast<long long>(data.at("sessionCount").as_int64()), other_us.size());
  std::printf(
      "| events | p50 start | p99 start | p50 end | p99 end | end/start p50 "
      "|\n|---|---|---|---|---|---|\n");
  for (const auto& [name, v] :
       {std::pair{"same call", &history_us}, std::pair{"other calls", &other_us}}) {
    const auto a = slice(*v, true), b = slice(*v, false);
    std::printf("| %s | %.0f µs | %.0f µs | %.0f µs | %.0f µs | %.2f |\n", name, pct(a, 0.5),
                pct(a, 0.99), pct(b, 0.5), pct(b, 0.99), pct(b, 0.5) / pct(a, 0.5));
  }
  std::printf("meeting read: %.0f µs, %zu bytes, durationSeconds %lld, %zu sessions in detail\n",
              read_us, meeting.body.size(),
              static_cast<long long>(data.at("durationSeconds").as_int64()),
              data.at("sessions").as_array().size());
  return 0;
}
