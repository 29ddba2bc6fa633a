#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <mutex>
#include <thread>

#include "core/checked.hpp"
#include "core/meeting.hpp"
#include "server/meetings/events.hpp"
#include "server/store/store.hpp"
#include "tests/support/backends.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
using server::InboxOutcome;
namespace json = boost::json;

namespace streamgate::server {
inline std::ostream& operator<<(std::ostream& os, InboxOutcome o) { return os << to_string(o); }
}  // namespace streamgate::server

namespace {

std::unique_ptr<server::Store> open(const std::string& url) {
  server::StoreOptions o;
  o.database_url = url;
  o.pool_size = 2;
  o.busy_timeout_ms = 500;
  return server::open_store(o);
}

server::InboxEvent inbox(const std::string& id, const std::string& body) {
  const auto prepared = server::prepare_event(body);
  return server::InboxEvent{id,
                            std::string(json::parse(body).at("type").as_string()),
                            prepared.call_type,
                            prepared.call_id,
                            body,
                            1,
                            prepared.session_id};
}

InboxOutcome deliver(server::Store& store, const std::string& id, const std::string& body) {
  return run_coro(store.record_webhook(inbox(id, body), server::prepare_event(body).apply));
}

// Runs the spawned coroutines to the end on this thread and one more.
void run_on_two_threads(boost::asio::io_context& ctx) {
  std::thread t([&] { ctx.run(); });
  ctx.run();
  t.join();
}

// Deliveries spawned on a context, counted by outcome once it has run.
struct Tally {
  std::atomic<int> applied{0}, duplicate{0}, other{0};

  void spawn(boost::asio::io_context& ctx, server::Store& store, std::string id, std::string body) {
    boost::asio::co_spawn(
        ctx,
        [this, &store, id = std::move(id),
         body = std::move(body)]() -> boost::asio::awaitable<void> {
          const auto o =
              co_await store.record_webhook(inbox(id, body), server::prepare_event(body).apply);
          (o == InboxOutcome::applied     ? applied
           : o == InboxOutcome::duplicate ? duplicate
                                          : other)++;
        },
        boost::asio::detached);
  }
};

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<core::Meeting> meeting(server::Store& store, const std::string& id) {
  return run_coro(store.get_meeting("default", id));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(events_apply_once_and_duplicates_change_nothing) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open(url);
    BOOST_TEST(deliver(*store, "w1", session_started("c1", "s1", "2026-04-08T14:00:00Z")) ==
               InboxOutcome::applied);
    const auto before = meeting(*store, "c1");
    BOOST_TEST_REQUIRE(before.has_value());
    BOOST_TEST(core::to_string(before->status()) == "active");
    BOOST_TEST(deliver(*store, "w1", session_started("c1", "s1", "2026-04-08T14:00:00Z")) ==
               InboxOutcome::duplicate);
    // Same id with another body is still the same delivery: nothing changes.
    BOOST_TEST(deliver(*store, "w1",
                       session_ended("c1", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:10:00Z")) ==
               InboxOutcome::duplicate);
    BOOST_TEST(core::to_api_json(*meeting(*store, "c1")) == core::to_api_json(*before));
    const auto rec = run_coro(store->get_inbox("w1"));
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST(rec->status == "applied");
    BOOST_TEST(rec->body == session_started("c1", "s1", "2026-04-08T14:00:00Z"));
  });
}

BOOST_AUTO_TEST_CASE(unusable_events_are_kept_as_failed_and_replayed) {
  for_each_backend([](const std::string&, const std::string& url) {
    auto store = open(url);
    const std::string bad = R"({"type":"call.session_started","call_cid":"default:c2"})";
    BOOST_TEST(deliver(*store, "bad-1", bad) == InboxOutcome::failed);
    auto rec = run_coro(store->get_inbox("bad-1"));
    BOOST_TEST_REQUIRE(rec.has_value());
    BOOST_TEST(rec->status == "failed");
    BOOST_TEST(rec->error.find("session_id") != std::string::npos);
    BOOST_TEST(!meeting(*store, "c2").has_value());

    // An event an older build could not apply: stored as failed by a refusing apply.
    const std::string good =
        session_ended("c3", "s1", "2026-04-08T14:00:00Z", "2026-04-08T14:10:00Z");
    const auto refused =
        run_coro(store->record_webhook(inbox("old-1", good), [](std::optional<core::Meeting>) {
          return server::ApplyResult{std::nullopt, "old bug"};
        }));
    BOOST_TEST(refused == InboxOutcome::failed);
    BOOST_TEST(!meeting(*store, "c3").has_value());

    const auto items = run_coro(store->replay_failed(
        {}, 100, [](const server::InboxRecord& r) { return server::prepare_event(r.body); }));
    BOOST_TEST(items.size() == 2u);
    int applied = 0;
    for (const auto& i : items) {
      if (i.webhook_id == "old-1") {
        BOOST_TEST(i.outcome == InboxOutcome::applied);
        ++applied;
      } else {
        BOOST_TEST(i.outcome == InboxOutcome::failed);
      }
    }
    BOOST_TEST(applied == 1);
    BOOST_TEST(core::to_string(meeting(*store, "c3")->status()) == "processing");
    BOOST_TEST(run_coro(store->get_inbox("old-1"))->status == "applied");
    BOOST_TEST(run_coro(store->get_inbox("bad-1"))->attempts == 2);
    // Replaying again touches only what is still failed.
    const auto again =
        run_coro(store->replay_failed({"old-1"}, 100, [](const server::InboxRecord& r) {
          return server::prepare_event(r.body);
        }));
    BOOST_TEST(again.empty());
  });
}

BOOST_AUTO_TEST_CASE(concurrent_deliveries_of_one_id_apply_exactly_once) {
  for_each_backend([](const std::string&, const std::string& url) {
    // The context first, so that it outlives the store's threads, which post into it.
    boost::asio::io_context ctx;
    auto store = open(url);
    Tally tally;
    const std::string body = session_started("c4", "s1", "2026-04-08T14:00:00Z");
    for (int i = 0; i < 24; ++i) tally.spawn(ctx, *store, "same", body);
    run_on_two_threads(ctx);
    BOOST_TEST(tally.applied.load() == 1);
    BOOST_TEST(tally.duplicate.load() == 23);
    BOOST_TEST(tally.other.load() == 0);
  });
}

BOOST_AUTO_TEST_CASE(concurrent_events_for_one_call_all_land) {
  for_each_backend([](const std::string&, const std::string& url) {
    // The context first, so that it outlives the store's threads, which post into it.
    boost::asio::io_context ctx;
    auto store = open(url);
    std::atomic<int> applied{0};
    for (int i = 0; i < 20; ++i) {
      boost::asio::co_spawn(
          ctx,
          [&, i]() -> boost::asio::awaitable<void> {
            const std::string body = session_ended("c5", "s" + std::to_string(i),
                                                   "2026-04-08T14:00:00Z", "2026-04-08T14:01:00Z");
            if (co_await store->record_webhook(inbox("e" + std::to_string(i), body),
                                               server::prepare_event(body).apply) ==
                InboxOutcome::applied)
              ++applied;
          },
          boost::asio::detached);
    }
    run_on_two_threads(ctx);
    BOOST_TEST(applied.load() == 20);
    const auto m = meeting(*store, "c5");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->sessions.size() == 20u);  // no lost update
    BOOST_TEST(m->duration_seconds() == 20 * 60);
  });
}

BOOST_AUTO_TEST_CASE(update_meeting_and_reopen_keep_data) {
  for_each_backend([](const std::string&, const std::string& url) {
    {
      auto store = open(url);
      const auto saved =
          run_coro(store->update_meeting("default", "c6", [](std::optional<core::Meeting> m) {
            BOOST_TEST(!m.has_value());
            return std::optional<core::Meeting>(
                core::new_meeting("default", "c6", "alice", json::object{{"agentId", "a1"}},
                                  core::from_unix_nanos(1775650000000000000)));
          }));
      BOOST_TEST_REQUIRE(saved.has_value());
      BOOST_TEST(saved->meeting_id == "c6");
      // A mutate that returns nothing leaves the stored meeting as it was.
      const auto same =
          run_coro(store->update_meeting("default", "c6", [](std::optional<core::Meeting>) {
            return std::optional<core::Meeting>();
          }));
      BOOST_TEST(same->created_by == "alice");
      BOOST_TEST(run_coro(store->ping()));
    }
    // Migrations run again on reopen and find nothing to do; the data is still there.
    auto store = open(url);
    const auto m = meeting(*store, "c6");
    BOOST_TEST_REQUIRE(m.has_value());
    BOOST_TEST(m->custom.at("agentId").as_string() == "a1");
    BOOST_TEST(store->backend() == (url.rfind("sqlite:", 0) == 0 ? "sqlite" : "postgres"));
  });
}

// Many deliveries at once: each batch is one transaction (PostgreSQL: its own xid), yet every
// event lands exactly once, duplicates are seen as such, and events for one call in one batch
// each see the one before (no lost update).
BOOST_AUTO_TEST_CASE(a_burst_of_deliveries_commits_in_batches_and_each_lands_once) {
  for_each_backend([](const std::string& backend, const std::string& url) {
    boost::asio::io_context ctx;
    auto store = open(url);
    const auto xid = [&] {
      return core::parse_int64(trim(shared_postgres()->query(url, "SELECT txid_current()")))
          .value_or(0);
    };
    const std::int64_t xid_before = backend == "postgres" ? xid() : 0;
    Tally tally;
    int sent = 0;
    for (int c = 0; c < 20; ++c) {
      for (int i = 0; i < 10; ++i) {
        const std::string id = "burst-" + std::to_string(c) + "-" + std::to_string(i);
        const std::string body = session_started("b" + std::to_string(c), "s" + std::to_string(i),
                                                 "2026-04-08T14:00:00Z");
        for (int copy = 0; copy < (i % 4 == 0 ? 2 : 1); ++copy, ++sent)
          tally.spawn(ctx, *store, id, body);
      }
    }
    run_on_two_threads(ctx);
    BOOST_TEST(sent == 260);
    BOOST_TEST(tally.applied.load() == 200);
    BOOST_TEST(tally.duplicate.load() == 60);
    BOOST_TEST(tally.other.load() == 0);
    for (int c = 0; c < 20; ++c) {
      const auto m = meeting(*store, "b" + std::to_string(c));
      BOOST_TEST_REQUIRE(m.has_value());
      BOOST_TEST(m->sessions.size() == 10u);
    }
    if (backend == "postgres") {
      // One transaction id per committed batch (and one for the query itself): far fewer
      // than one per delivery.
      const std::int64_t used = xid() - xid_before;
      BOOST_TEST_MESSAGE("postgres: " << used << " transaction ids for " << sent << " deliveries");
      BOOST_TEST(used <= sent / 5);
    }
  });
}

// One delivery in a batch that the database refuses (PostgreSQL rejects a body that is not
// UTF-8) fails alone: it is not stored and not acknowledged; every other one is applied.
BOOST_AUTO_TEST_CASE(a_delivery_the_database_refuses_fails_alone_in_its_batch) {
  for_each_backend([](const std::string& backend, const std::string& url) {
    if (backend != "postgres") return;  // SQLite stores any bytes
    boost::asio::io_context ctx;
    auto store = open(url);
    std::atomic<int> applied{0}, refused{0}, other{0};
    for (int n = 0; n < 60; ++n) {
      const std::string call = "r" + std::to_string(n % 6);
      const std::string body =
          session_started(call, "s" + std::to_string(n), "2026-04-08T14:00:00Z");
      auto event = inbox("refuse-" + std::to_string(n), body);
      if (n == 29) event.body += "\xff";
      boost::asio::co_spawn(
          ctx,
          [&, event, body]() -> boost::asio::awaitable<void> {
            try {
              const auto o =
                  co_await store->record_webhook(event, server::prepare_event(body).apply);
              (o == InboxOutcome::applied ? applied : other)++;
            } catch (const server::StoreUnavailable&) {
              ++refused;
            }
          },
          boost::asio::detached);
    }
    run_on_two_threads(ctx);
    BOOST_TEST(applied.load() == 59);
    BOOST_TEST(refused.load() == 1);
    BOOST_TEST(other.load() == 0);
    BOOST_TEST(!run_coro(store->get_inbox("refuse-29")).has_value());
    for (int n = 0; n < 60; ++n) {
      if (n == 29) continue;
      const auto row = run_coro(store->get_inbox("refuse-" + std::to_string(n)));
      BOOST_TEST_REQUIRE(row.has_value());
      BOOST_TEST(row->status == "applied");
    }
    for (int c = 0; c < 6; ++c) {
      const auto m = meeting(*store, "r" + std::to_string(c));
      BOOST_TEST_REQUIRE(m.has_value());
      BOOST_TEST(m->sessions.size() == (c == 29 % 6 ? 9u : 10u));
    }
  });
}

// The database dies in the middle of a burst: a delivery is acknowledged only if its batch
// committed, so every acknowledged one is there after the restart.
BOOST_AUTO_TEST_CASE(a_database_crash_mid_burst_loses_no_acknowledged_delivery) {
  for_each_backend([](const std::string& backend, const std::string& url) {
    if (backend != "postgres") return;  // (SQLite's crash: the process test's SIGKILL cases)
    PostgresServer* pg = shared_postgres();
    std::vector<std::string> acknowledged;
    std::mutex mutex;
    int failed = 0;
    {
      boost::asio::io_context ctx;
      auto store = open(url);
      for (int n = 0; n < 2000; ++n) {
        const std::string id = "crash-" + std::to_string(n);
        const std::string body = session_started("k" + std::to_string(n % 50),
                                                 "s" + std::to_string(n), "2026-04-08T14:00:00Z");
        boost::asio::co_spawn(
            ctx,
            [&, id, body]() -> boost::asio::awaitable<void> {
              try {
                co_await store->record_webhook(inbox(id, body), server::prepare_event(body).apply);
                std::lock_guard lock(mutex);
                acknowledged.push_back(id);
              } catch (const std::exception&) {
                std::lock_guard lock(mutex);
                ++failed;
              }
            },
            boost::asio::detached);
      }
      // Killed once some batches committed, while the rest are waiting or in flight.
      std::thread killer([&] {
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        for (;;) {
          {
            std::lock_guard lock(mutex);
            if (acknowledged.size() >= 200 || std::chrono::steady_clock::now() > give_up) break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        pg->kill();
      });
      run_on_two_threads(ctx);
      killer.join();
    }
    pg->start();
    BOOST_TEST_MESSAGE("postgres crash: " << acknowledged.size() << " acknowledged, " << failed
                                          << " failed");
    BOOST_TEST(acknowledged.size() + failed == 2000u);
    BOOST_TEST(acknowledged.size() >= 200u);
    BOOST_TEST(failed > 0);  // the crash came in the middle
    const std::string stored = pg->query(url, "SELECT count(*) FROM webhook_inbox");
    BOOST_TEST(core::parse_int64(trim(stored)).value_or(-1) >=
               static_cast<std::int64_t>(acknowledged.size()));
    auto store = open(url);
    for (const auto& id : acknowledged)
      BOOST_TEST_REQUIRE(run_coro(store->get_inbox(id)).has_value(), id << " acknowledged, lost");
  });
}

BOOST_AUTO_TEST_SUITE_END()
