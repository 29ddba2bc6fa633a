#include "server/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <unordered_map>

#include "core/meeting.hpp"
#include "server/store.hpp"

namespace streamgate::server {
namespace pm = prometheus;

namespace {

std::atomic<std::uint64_t> next_instance{1};

const pm::Histogram::BucketBoundaries& latency_buckets() {
  static const pm::Histogram::BucketBoundaries b{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                 0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  return b;
}

std::string_view bounded_method(std::string_view m) {
  for (std::string_view known : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
    if (m == known) return known;
  return "other";
}

}  // namespace

struct Metrics::Impl {
  std::uint64_t instance = next_instance.fetch_add(1);
  std::shared_ptr<pm::Registry> registry = std::make_shared<pm::Registry>();
  pm::Family<pm::Counter>& requests = pm::BuildCounter()
                                          .Name("streamgate_http_requests_total")
                                          .Help("HTTP requests by route pattern, method and status")
                                          .Register(*registry);
  pm::Family<pm::Histogram>& latency = pm::BuildHistogram()
                                           .Name("streamgate_http_request_duration_seconds")
                                           .Help("HTTP request latency by route pattern and method")
                                           .Register(*registry);
  pm::Family<pm::Counter>& tokens = pm::BuildCounter()
                                        .Name("streamgate_tokens_issued_total")
                                        .Help("Stream user tokens issued, by kind (user or call)")
                                        .Register(*registry);
  pm::Family<pm::Counter>& webhooks = pm::BuildCounter()
                                          .Name("streamgate_webhooks_total")
                                          .Help("Stream webhooks by event type and outcome")
                                          .Register(*registry);
  pm::Family<pm::Counter>& stream_calls = pm::BuildCounter()
                                              .Name("streamgate_stream_requests_total")
                                              .Help("Requests to Stream's REST API by operation and status (0: no answer)")
                                              .Register(*registry);
  pm::Family<pm::Counter>& stream_retries = pm::BuildCounter()
                                                .Name("streamgate_stream_retries_total")
                                                .Help("Retried requests to Stream's REST API by operation")
                                                .Register(*registry);
  pm::Family<pm::Histogram>& store_latency = pm::BuildHistogram()
                                                 .Name("streamgate_store_duration_seconds")
                                                 .Help("Store call latency by operation and result")
                                                 .Register(*registry);
  pm::Family<pm::Gauge>& connections = pm::BuildGauge()
                                           .Name("streamgate_open_connections")
                                           .Help("Open client connections")
                                           .Register(*registry);
  pm::Family<pm::Gauge>& build = pm::BuildGauge()
                                     .Name("streamgate_build_info")
                                     .Help("Build information; always 1")
                                     .Register(*registry);
  pm::Gauge& open = connections.Add({});
};

Metrics::Metrics(std::string version) : impl_(std::make_unique<Impl>()) {
  impl_->build.Add({{"version", version}}).Set(1);
}

Metrics::~Metrics() = default;

void Metrics::observe_request(std::string_view route, std::string_view method, int status, double seconds) {
  // Looking a labelled metric up takes the family's lock; remember it per thread instead.
  struct Entry {
    pm::Counter* count;
    pm::Histogram* latency;
  };
  // Every part of the key is bounded (route patterns, known methods or "other", our statuses),
  // so the cache cannot grow with what clients send.
  thread_local std::unordered_map<std::string, Entry> cache;
  const std::string_view m = bounded_method(method);
  std::string key = std::to_string(impl_->instance);
  key += '|';
  key += route;
  key += '|';
  key += m;
  key += '|';
  key += std::to_string(status);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string r(route.empty() ? "(unmatched)" : route);
    const std::string ms(m);
    Entry e{&impl_->requests.Add({{"route", r}, {"method", ms}, {"status", std::to_string(status)}}),
            &impl_->latency.Add({{"route", r}, {"method", ms}}, latency_buckets())};
    it = cache.emplace(std::move(key), e).first;
  }
  it->second.count->Increment();
  it->second.latency->Observe(seconds);
}

void Metrics::token_issued(bool call_token) { impl_->tokens.Add({{"kind", call_token ? "call" : "user"}}).Increment(); }

void Metrics::webhook(std::string_view type, std::string_view outcome) {
  const std::string t = core::is_meeting_event(type) ? std::string(type) : "other";
  impl_->webhooks.Add({{"type", t}, {"outcome", std::string(outcome)}}).Increment();
}

void Metrics::stream_call(std::string_view operation, int status, bool retry) {
  impl_->stream_calls.Add({{"operation", std::string(operation)}, {"status", std::to_string(status)}}).Increment();
  if (retry) impl_->stream_retries.Add({{"operation", std::string(operation)}}).Increment();
}

void Metrics::store_call(std::string_view operation, double seconds, bool ok) {
  impl_->store_latency.Add({{"operation", std::string(operation)}, {"result", ok ? "ok" : "error"}}, latency_buckets())
      .Observe(seconds);
}

std::string Metrics::render(double open_connections) {
  impl_->open.Set(open_connections);
  return pm::TextSerializer().Serialize(impl_->registry->Collect());
}

http::Middleware metrics_middleware(std::shared_ptr<Metrics> metrics) {
  return [metrics](http::Request& req, http::Context& ctx, http::Next next) -> http::Task<http::Response> {
    http::Response res = co_await next(req, ctx);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    metrics->observe_request(ctx.route_pattern, req.method_name, res.status, secs);
    co_return res;
  };
}

namespace {

class InstrumentedStore final : public Store {
 public:
  InstrumentedStore(std::shared_ptr<Store> inner, std::shared_ptr<Metrics> m) : inner_(std::move(inner)), m_(std::move(m)) {}

  http::Task<InboxOutcome> record_webhook(InboxEvent e, ApplyFn apply) override {
    auto op = inner_->record_webhook(std::move(e), std::move(apply));
    co_return co_await timed("record_webhook", std::move(op));
  }
  using Store::update_meeting;
  http::Task<std::optional<core::Meeting>> update_meeting(std::string t, std::string i, MutateFn f,
                                                          std::string session) override {
    auto op = inner_->update_meeting(std::move(t), std::move(i), std::move(f), std::move(session));
    co_return co_await timed("update_meeting", std::move(op));
  }
  http::Task<std::optional<core::Meeting>> get_meeting(std::string t, std::string i) override {
    auto op = inner_->get_meeting(std::move(t), std::move(i));
    co_return co_await timed("get_meeting", std::move(op));
  }
  http::Task<std::vector<InboxRecord>> failed_inbox(std::vector<std::string> ids, std::size_t limit) override {
    auto op = inner_->failed_inbox(std::move(ids), limit);
    co_return co_await timed("failed_inbox", std::move(op));
  }
  http::Task<std::optional<ReplayItem>> replay_one(std::string id, ApplyFactory f) override {
    auto op = inner_->replay_one(std::move(id), std::move(f));
    co_return co_await timed("replay_one", std::move(op));
  }
  http::Task<std::optional<InboxRecord>> get_inbox(std::string id) override {
    auto op = inner_->get_inbox(std::move(id));
    co_return co_await timed("get_inbox", std::move(op));
  }
  http::Task<std::vector<std::pair<std::string, std::string>>> claim_stale_meetings(StaleQuery q) override {
    auto op = inner_->claim_stale_meetings(q);
    co_return co_await timed("claim_stale_meetings", std::move(op));
  }
  http::Task<bool> ping() override {
    auto op = inner_->ping();
    co_return co_await timed("ping", std::move(op));
  }
  std::string backend() const override { return inner_->backend(); }

 private:
  template <typename T>
  http::Task<T> timed(const char* name, http::Task<T> op) {
    const auto start = std::chrono::steady_clock::now();
    bool ok = false;
    struct Record {
      Metrics* m;
      const char* name;
      std::chrono::steady_clock::time_point start;
      bool* ok;
      ~Record() { m->store_call(name, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), *ok); }
    } record{m_.get(), name, start, &ok};
    T result = co_await std::move(op);
    ok = true;
    co_return result;
  }

  std::shared_ptr<Store> inner_;
  std::shared_ptr<Metrics> m_;
};

}  // namespace

std::shared_ptr<Store> instrument(std::shared_ptr<Store> store, std::shared_ptr<Metrics> metrics) {
  return std::make_shared<InstrumentedStore>(std::move(store), std::move(metrics));
}

}  // namespace streamgate::server
