#include "server/app/background.hpp"

#include <chrono>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "core/app_events.hpp"
#include "http/log.hpp"
#include "server/calls/reconcile.hpp"

namespace streamgate::server {
namespace asio = boost::asio;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// The timings of the reconciler, from the configuration (bounded there, so no overflow here).
struct ReconcileTimings {
  std::chrono::seconds interval;
  std::int64_t active_after_s, processing_after_s, max_age_s, retry_s;
};

// Every interval: claim meetings whose state looks stale and pull them from Stream.
http::Task<void> reconcile_loop(ReconcileTimings t, std::shared_ptr<StreamClient> stream,
                                std::shared_ptr<Store> store, std::atomic<bool>* stopping) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  constexpr std::int64_t kSecond = 1'000'000'000;
  while (!stopping->load()) {
    timer.expires_after(t.interval);
    co_await timer.async_wait(kTuple);
    if (stopping->load()) break;
    const std::int64_t now = core::to_unix_nanos(core::system_now());
    Store::StaleQuery q;
    q.now = now;
    q.active_before = now - t.active_after_s * kSecond;
    q.processing_before = now - t.processing_after_s * kSecond;
    q.processing_since = now - t.max_age_s * kSecond;
    q.retry_before = now - t.retry_s * kSecond;
    std::vector<std::pair<std::string, std::string>> due;
    std::string error;
    try {
      auto claim = store->claim_stale_meetings(q);  // [gcc12-co_await]
      due = co_await std::move(claim);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (!error.empty())
      http::log(spdlog::level::warn,
                http::LogLine("reconcile: store unavailable").add("error", error));
    for (const auto& [type, id] : due) {
      std::string failure;
      try {
        auto pull =
            reconcile_call(stream, store, type, id, http::Trace::fresh());  // [gcc12-co_await]
        co_await std::move(pull);
      } catch (const std::exception& e) {
        failure = e.what();
      }
      auto line = http::LogLine(failure.empty() ? "reconciled" : "reconcile failed");
      line.add("callCid", type + ":" + id);
      if (!failure.empty()) line.add("error", failure);
      http::log(failure.empty() ? spdlog::level::info : spdlog::level::warn, line);
    }
  }
}

http::Task<void> jwks_loop(std::shared_ptr<JwksSource> jwks, std::chrono::seconds every,
                           std::atomic<bool>* stopping) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping->load()) {
    timer.expires_after(every);
    co_await timer.async_wait(kTuple);
    if (stopping->load()) break;
    auto refresh = jwks->refresh(true);  // [gcc12-co_await]
    co_await std::move(refresh);
  }
}

void log_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    http::log(spdlog::level::err, http::LogLine("background task failed").add("error", ex.what()));
  }
}

}  // namespace

Background::Background() : ctx_(std::make_unique<asio::io_context>(1)) {}

Background::~Background() { stop(); }

void Background::start(const Config& c, const Deps& d) {
  if (const auto& jwks = d.verifier->jwks()) {
    // The first key set before serving, so the first requests need not wait for it; a failure
    // is logged and the keys are fetched again on demand.
    asio::io_context once;
    asio::co_spawn(once, jwks->refresh(true), [](std::exception_ptr, bool) {});
    once.run_for(std::chrono::seconds(10));
    if (d.jwks_https) d.jwks_https->close_idle();  // its sockets were on `once`
    asio::co_spawn(*ctx_,
                   jwks_loop(jwks, std::chrono::seconds(c.auth_jwks_refresh_seconds), &stopping_),
                   log_failure);
  }
  if (c.reconcile_interval_seconds > 0) {
    const ReconcileTimings t{std::chrono::seconds(c.reconcile_interval_seconds),
                             c.reconcile_active_after_seconds, c.reconcile_processing_after_seconds,
                             c.reconcile_max_age_seconds, c.reconcile_retry_seconds};
    asio::co_spawn(*ctx_, reconcile_loop(t, d.stream, d.store, &stopping_), log_failure);
  }
  if (!c.app_webhook_urls.empty()) {
    DispatcherSettings s;
    s.store = d.store;
    s.client = d.app_https;
    s.on_attempt = [m = d.metrics](std::string_view type, std::string_view outcome,
                                   double seconds) {
      m->app_event_attempt(type, outcome, seconds);
    };
    s.on_queue = [m = d.metrics](std::int64_t pending, double age) {
      m->app_event_queue(pending, age);
    };
    for (const auto* secret : {&c.app_webhook_secret, &c.app_webhook_secret_previous})
      if (const auto key = core::parse_webhook_secret(*secret))
        s.keys.push_back(std::make_shared<const core::HmacSha256Key>(*key));
    s.endpoints = c.app_webhook_urls;
    s.retry_schedule_seconds = c.app_webhook_retry_schedule;
    s.timeout = std::chrono::milliseconds(c.app_webhook_timeout_ms);
    s.poll = std::chrono::milliseconds(c.app_webhook_poll_ms);
    s.concurrency = static_cast<std::size_t>(c.app_webhook_concurrency);
    s.user_agent = std::string("streamgate/") + STREAMGATE_VERSION;
    s.waker = d.app_waker;
    dispatcher_ = std::make_unique<AppEventDispatcher>(std::move(s));
    dispatcher_->start(*ctx_);
  }
  if (c.transcripts) {
    TranscriptFetcherSettings t;
    t.store = d.store;
    t.client = d.transcript_https;
    t.stream = d.stream;
    t.max_bytes = static_cast<std::size_t>(c.transcript_max_bytes);
    t.timeout = std::chrono::milliseconds(c.transcript_timeout_ms);
    t.poll = std::chrono::milliseconds(c.transcript_poll_ms);
    t.concurrency = static_cast<std::size_t>(c.transcript_concurrency);
    t.retry_schedule_seconds = c.transcript_retry_schedule;
    t.allow_private_hosts = c.transcript_allow_private_hosts;
    t.hosts = c.transcript_hosts;
    t.on_fetch = [m = d.metrics](std::string_view outcome, double seconds, std::int64_t segments) {
      m->transcript_fetch(outcome, seconds, segments);
    };
    fetcher_ = std::make_unique<TranscriptFetcher>(std::move(t));
    fetcher_->start(*ctx_);
  }
  thread_ = std::thread([ctx = ctx_.get()] {
    auto work = asio::make_work_guard(*ctx);
    ctx->run();
  });
}

void Background::stop() {
  stopping_.store(true);
  if (dispatcher_) dispatcher_->stop();
  if (fetcher_) fetcher_->stop();
  // A round's store calls complete on ctx_ (the store's threads post their results to it): let
  // the loops return before the context stops, so that no result is posted to a context that is
  // gone. Bounded: a delivery in flight may take its whole timeout, and is cut short after 3 s.
  if (thread_.joinable()) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline &&
           !((!dispatcher_ || dispatcher_->finished()) && (!fetcher_ || fetcher_->finished())))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ctx_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace streamgate::server
