// Does the meeting list stay fast with many meetings? Stores N meetings (default 100,000) through
// the store, created one second apart by 1,000 users, each with the user "heavy" as a member (so
// "heavy" sees all N, a typical user N/1000); then, against the running service over HTTP, times
// the first page and a deep page (past half the meetings, by cursor) of GET /api/v1/meetings for
// "heavy", for a typical user, for an admin with all=true, and with a status filter.
// Usage: build/bench/bench/meeting_list [meetings] [database-url]   (SQLite in /tmp by default)
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/meeting.hpp"
#include "server/meetings/meeting_list.hpp"
#include "server/store/store.hpp"
#include "tests/bench/stats.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"

using namespace streamgate;
using namespace streamgate::test;
using Clock = std::chrono::steady_clock;
using streamgate::bench::pct;

namespace {

constexpr std::int64_t kBase = 1'760'000'000;  // seconds

std::int64_t fill(const std::string& url, int n) {
  server::StoreOptions o;
  o.database_url = url;
  o.pool_size = 4;
  o.busy_timeout_ms = 30000;
  o.queue_limit = 100000;
  auto store = server::open_store(o);
  boost::asio::io_context ctx;
  const auto start = Clock::now();
  int done = 0;
  for (int i = 0; i < n; ++i) {
    boost::asio::co_spawn(
        ctx,
        [&, i]() -> http::Task<void> {
          const std::string id = "m" + std::to_string(i);
          auto op = store->update_meeting(
              "default", id, [i, id](std::optional<core::Meeting>) -> std::optional<core::Meeting> {
                auto m = core::new_meeting("default", id, "u" + std::to_string(i % 1000), {},
                                           core::from_unix_nanos((kBase + i) * 1'000'000'000));
                m.members.push_back({"heavy", "participant"});
                return m;
              });
          co_await std::move(op);
          ++done;
        },
        boost::asio::detached);
    if (i % 2000 == 1999) ctx.run(), ctx.restart();  // a bounded number in flight
  }
  ctx.run();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("stored %d meetings in %.1f s (%.0f/s)\n", done, s, done / s);
  return done;
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  const int n = argc > 1 ? std::max(1000, std::atoi(argv[1])) : 100000;
  const std::string dir = "/tmp/sg-meeting-list";
  std::string url = argc > 2 ? argv[2] : "";
  if (url.empty()) {
    std::filesystem::remove_all(dir);
    url = "sqlite:" + dir + "/streamgate.db";
  }
  fill(url, n);
  RunningApp app({{"LOG_LEVEL", "warn"}, {"DATABASE_URL", url}});
  const std::string deep = server::encode_meeting_cursor(
      {(kBase + n / 2) * 1'000'000'000, "default", "m" + std::to_string(n / 2)});
  const std::string deep_user = server::encode_meeting_cursor(
      {(kBase + n / 2) * 1'000'000'000, "default", "m" + std::to_string(n / 2)});
  struct Case {
    const char* name;
    std::string user;
    bool admin;
    std::string query;
  };
  const std::vector<Case> cases = {
      {"heavy (member of all), first page", "heavy", false, "limit=20"},
      {"heavy, deep page (cursor past half)", "heavy", false, "limit=20&cursor=" + deep},
      {"heavy, status=created, first page", "heavy", false, "limit=20&status=created"},
      {"heavy, status=active (none match)", "heavy", false, "limit=20&status=active"},
      {"typical user (1/1000), first page", "u7", false, "limit=20"},
      {"typical user, deep page", "u7", false, "limit=20&cursor=" + deep_user},
      {"admin all=true, first page", "ops", true, "limit=20&all=true"},
      {"admin all=true, deep page", "ops", true, "limit=20&all=true&cursor=" + deep},
      {"heavy, first page of 100", "heavy", false, "limit=100"},
  };
  std::printf("backend %s, %d meetings\n", url.rfind("postgres", 0) == 0 ? "postgres" : "sqlite",
              n);
  std::printf("| query | meetings returned | p50 | p99 |\n|---|---|---|---|\n");
  for (const auto& c : cases) {
    const std::string jwt =
        c.admin ? app_jwt(c.user, {{"roles", boost::json::array{"admin"}}}) : app_jwt(c.user);
    RawConnection conn(app.port);
    std::vector<double> us;
    std::size_t returned = 0;
    for (int i = 0; i < 300; ++i) {
      const auto start = Clock::now();
      conn.send("GET /api/v1/meetings?" + c.query +
                " HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer " + jwt + "\r\n\r\n");
      const auto r = conn.read_response();
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      if (r.status != 200) {
        std::fprintf(stderr, "%s answered %d: %s\n", c.name, r.status, r.body.c_str());
        return 1;
      }
      if (i == 0) returned = r.json().at("data").at("meetings").as_array().size();
    }
    std::printf("| %s | %zu | %.0f µs | %.0f µs |\n", c.name, returned, pct(us, 0.5),
                pct(us, 0.99));
  }
  return 0;
}
