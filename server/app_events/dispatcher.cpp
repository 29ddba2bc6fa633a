#include "server/app_events/dispatcher.hpp"

#include <algorithm>
#include <map>
#include <random>

#include "core/app_events.hpp"
#include "core/time.hpp"
#include "http/job_loop.hpp"
#include "http/log.hpp"

namespace streamgate::server {
namespace asio = boost::asio;

void AppEventWaker::operator()() const {
  std::lock_guard lock(mutex_);
  if (wake_) wake_();
}

void AppEventWaker::set(std::function<void()> wake) {
  std::lock_guard lock(mutex_);
  wake_ = std::move(wake);
}

std::string endpoint_for_logs(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return "(invalid)";
  auto rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return std::string(url.substr(0, scheme + 3)) + std::string(rest);
}

std::optional<std::chrono::milliseconds> AppEventDispatcher::retry_delay(
    const std::vector<std::int64_t>& schedule, std::int64_t step, double jitter01) {
  const auto ms = core::retry_delay_ms(schedule, step, jitter01);
  if (!ms) return std::nullopt;
  return std::chrono::milliseconds(*ms);
}

namespace {
// Events of one meeting and endpoint attempted in one round; the rest are given back (they follow
// in the next round), so that a lease covers kMaxPerGroup attempts.
constexpr std::int64_t kMaxPerGroup = 4;
std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }
}  // namespace

struct AppEventDispatcher::Impl : std::enable_shared_from_this<Impl> {
  DispatcherSettings s;
  std::string owner = "dispatcher-" + core::random_hex(8);
  std::unique_ptr<http::JobLoop> loop;
  bool store_down = false;
  std::mt19937_64 rng{std::random_device{}()};
  std::chrono::steady_clock::time_point last_stats{};

  explicit Impl(DispatcherSettings settings) : s(std::move(settings)) {}

  bool configured(const std::string& endpoint) const {
    return std::find(s.endpoints.begin(), s.endpoints.end(), endpoint) != s.endpoints.end();
  }

  // Gives an event back unattempted (an earlier event of its meeting is to be retried first).
  http::Task<void> release(const AppEventRecord& e) {
    AppEventOutcome out;
    out.seq = e.seq;
    out.owner = owner;
    out.status = "released";
    try {
      auto finish = s.store->finish_app_event(out);  // [gcc12-co_await]
      co_await std::move(finish);
    } catch (const std::exception&) {
      // The lease runs out instead.
    }
  }

  // One attempt at one event; records its outcome while the lease is still ours. True when
  // the event is settled (delivered or failed), false when it waits for a retry.
  http::Task<bool> attempt(AppEventRecord e) {
    const auto started = std::chrono::steady_clock::now();
    std::string error;
    if (!configured(e.endpoint)) {
      error = "endpoint no longer configured";
    } else {
      const std::int64_t ts = now_ns() / 1'000'000'000;
      http::ClientRequest req;
      req.method = "POST";
      req.url = e.endpoint;
      req.timeout = s.timeout;
      req.body = e.payload;
      req.headers = {{"Content-Type", "application/json"},
                     {"User-Agent", s.user_agent},
                     {"webhook-id", e.id},
                     {"webhook-timestamp", std::to_string(ts)},
                     {"webhook-signature", core::sign_app_event(s.keys, e.id, ts, e.payload)}};
      try {
        auto send = s.client->request(std::move(req));  // [gcc12-co_await]
        const auto res = co_await std::move(send);
        if (res.status < 200 || res.status > 299) error = "HTTP " + std::to_string(res.status);
      } catch (const http::ClientError& ex) {
        error = std::string(to_string(ex.kind)) + ": " + ex.what();
      } catch (const std::exception& ex) {
        error = ex.what();
      }
    }
    AppEventOutcome out;
    out.seq = e.seq;
    out.owner = owner;
    out.step = e.step;
    out.error = error.substr(0, 512);
    std::string_view outcome = "delivered";
    if (error.empty()) {
      out.status = "delivered";
    } else if (const auto delay = configured(e.endpoint)
                                      ? retry_delay(s.retry_schedule_seconds, e.step,
                                                    std::uniform_real_distribution<>(0, 1)(rng))
                                      : std::nullopt) {
      out.status = "pending";
      out.step = e.step + 1;
      out.next_attempt_at = now_ns() + std::chrono::nanoseconds(*delay).count();
      outcome = "retry";
    } else {
      out.status = "failed";
      outcome = "failed";
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (s.on_attempt) s.on_attempt(e.type, outcome, seconds);
    if (!error.empty()) {
      auto line =
          http::LogLine(outcome == "failed" ? "app event failed" : "app event attempt failed");
      line.add("eventId", e.id)
          .add("type", e.type)
          .add("endpoint", endpoint_for_logs(e.endpoint))
          .add("attempt", e.attempts + 1)
          .add("error", out.error);
      if (outcome == "retry")
        line.add("nextAttemptAt",
                 core::format_rfc3339(core::from_unix_nanos(out.next_attempt_at), 3));
      http::log(spdlog::level::warn, line);
    }
    try {
      auto finish = s.store->finish_app_event(out);  // [gcc12-co_await]
      co_await std::move(finish);
    } catch (const std::exception& ex) {
      // The lease runs out and the event is attempted again: at least once, never lost.
      http::log(spdlog::level::warn, http::LogLine("app event outcome not stored")
                                         .add("eventId", e.id)
                                         .add("error", ex.what()));
    }
    co_return outcome != "retry";
  }

  // The events of one meeting and endpoint, in order; other groups run beside it. After an
  // event that waits for a retry, or after kMaxPerGroup, the rest are given back: they follow
  // later, in order.
  http::Task<void> group(std::vector<AppEventRecord> events) {
    bool in_order = true;
    std::int64_t attempted = 0;
    for (auto& e : events) {
      if (!in_order || attempted++ == kMaxPerGroup) {
        in_order = false;
        auto give_back = release(e);  // [gcc12-co_await]
        co_await std::move(give_back);
        continue;
      }
      auto one = attempt(std::move(e));  // [gcc12-co_await]
      in_order = co_await std::move(one);
    }
  }

  http::Task<void> update_stats() {
    if (!s.on_queue) co_return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_stats < std::chrono::seconds(1)) co_return;
    last_stats = now;
    try {
      auto query = s.store->app_event_stats();  // [gcc12-co_await]
      const auto st = co_await std::move(query);
      const double age =
          st.oldest_pending_at
              ? std::max(0.0, static_cast<double>(now_ns() - *st.oldest_pending_at) / 1e9)
              : 0.0;
      s.on_queue(st.pending, age);
    } catch (const std::exception&) {
      // The store is down: the claim loop logs it.
    }
  }

  // One round: due events, grouped by meeting and endpoint, one job per group.
  http::Task<std::vector<std::function<http::Task<void>()>>> claim() {
    std::vector<std::function<http::Task<void>()>> jobs;
    std::vector<AppEventRecord> claimed;
    const std::int64_t now = now_ns();
    AppEventClaim claim;
    claim.now = now;
    claim.limit = s.concurrency;
    claim.owner = owner;
    // Long enough for the slowest group (kMaxPerGroup events timing out in turn) and one more
    // timeout as a margin; short enough that a dead replica's events move on within a minute.
    claim.lease_until = now + s.timeout.count() * (kMaxPerGroup + 1) * 1'000'000;
    try {
      auto take = s.store->claim_app_events(claim);  // [gcc12-co_await]
      claimed = co_await std::move(take);
      if (store_down) http::log(spdlog::level::info, http::LogLine("app events: store back"));
      store_down = false;
    } catch (const std::exception& e) {
      if (!store_down)
        http::log(spdlog::level::warn,
                  http::LogLine("app events: store unavailable").add("error", e.what()));
      store_down = true;
    }
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<AppEventRecord>> groups;
    for (auto& e : claimed) groups[{e.call_type, e.call_id, e.endpoint}].push_back(std::move(e));
    for (auto& [key, events] : groups)
      jobs.push_back([self = shared_from_this(), events = std::move(events)]() mutable {
        return self->group(std::move(events));
      });
    co_return jobs;
  }
};

AppEventDispatcher::AppEventDispatcher(DispatcherSettings settings)
    : impl_(std::make_shared<Impl>(std::move(settings))) {}

AppEventDispatcher::~AppEventDispatcher() { stop(); }

void AppEventDispatcher::start(asio::io_context& ctx) {
  std::weak_ptr<Impl> weak = impl_;
  http::JobLoopOptions o;
  o.name = "app event dispatcher";
  o.poll = impl_->s.poll;
  o.claim = [weak]() -> http::Task<std::vector<std::function<http::Task<void>()>>> {
    auto impl = weak.lock();
    if (!impl) co_return std::vector<std::function<http::Task<void>()>>{};
    auto claim = impl->claim();  // [gcc12-co_await]
    co_return co_await std::move(claim);
  };
  o.after_round = [weak]() -> http::Task<void> {
    if (auto impl = weak.lock()) {
      auto stats = impl->update_stats();  // [gcc12-co_await]
      co_await std::move(stats);
    }
  };
  impl_->loop = std::make_unique<http::JobLoop>(std::move(o));
  if (impl_->s.waker) {
    impl_->s.waker->set([weak] {
      if (auto impl = weak.lock()) impl->loop->wake();
    });
  }
  impl_->loop->start(ctx);
}

void AppEventDispatcher::stop() {
  if (!impl_) return;
  if (impl_->s.waker) impl_->s.waker->set(nullptr);
  if (impl_->loop) impl_->loop->stop();
}

bool AppEventDispatcher::finished() const {
  return !impl_ || !impl_->loop || impl_->loop->finished();
}

}  // namespace streamgate::server
