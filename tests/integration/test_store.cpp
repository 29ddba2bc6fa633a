#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

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
    std::atomic<int> applied{0}, duplicate{0}, other{0};
    const std::string body = session_started("c4", "s1", "2026-04-08T14:00:00Z");
    for (int i = 0; i < 24; ++i) {
      boost::asio::co_spawn(
          ctx,
          [&]() -> boost::asio::awaitable<void> {
            const auto o = co_await store->record_webhook(inbox("same", body),
                                                          server::prepare_event(body).apply);
            (o == InboxOutcome::applied     ? applied
             : o == InboxOutcome::duplicate ? duplicate
                                            : other)++;
          },
          boost::asio::detached);
    }
    std::thread t([&] { ctx.run(); });
    ctx.run();
    t.join();
    BOOST_TEST(applied.load() == 1);
    BOOST_TEST(duplicate.load() == 23);
    BOOST_TEST(other.load() == 0);
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
    std::thread t([&] { ctx.run(); });
    ctx.run();
    t.join();
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

BOOST_AUTO_TEST_SUITE_END()
