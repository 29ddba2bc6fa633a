#include "server/ops/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>
#include <unordered_map>
#include <vector>

#include "core/app_events.hpp"
#include "core/meeting.hpp"
#include "server/ops/logging.hpp"

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
  pm::Family<pm::Counter>& stream_calls =
      pm::BuildCounter()
          .Name("streamgate_stream_requests_total")
          .Help("Requests to Stream's REST API by operation and status (0: no answer)")
          .Register(*registry);
  pm::Family<pm::Counter>& stream_retries =
      pm::BuildCounter()
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
  pm::Family<pm::Counter>& app_deliveries =
      pm::BuildCounter()
          .Name("streamgate_app_event_deliveries_total")
          .Help("App event delivery attempts by event type and outcome (delivered, retry, failed)")
          .Register(*registry);
  pm::Family<pm::Histogram>& app_latency =
      pm::BuildHistogram()
          .Name("streamgate_app_event_attempt_duration_seconds")
          .Help("App event delivery attempt latency by outcome")
          .Register(*registry);
  pm::Family<pm::Gauge>& app_pending = pm::BuildGauge()
                                           .Name("streamgate_app_events_pending")
                                           .Help("App events waiting for delivery (the outbox)")
                                           .Register(*registry);
  pm::Family<pm::Gauge>& app_oldest =
      pm::BuildGauge()
          .Name("streamgate_app_events_oldest_pending_seconds")
          .Help("Age of the oldest app event waiting for delivery (0: none)")
          .Register(*registry);
  pm::Family<pm::Counter>& transcript_fetches =
      pm::BuildCounter()
          .Name("streamgate_transcript_fetches_total")
          .Help("Transcript fetch attempts by outcome (ready, retry, failed)")
          .Register(*registry);
  pm::Family<pm::Histogram>& transcript_latency =
      pm::BuildHistogram()
          .Name("streamgate_transcript_fetch_duration_seconds")
          .Help("Transcript fetch attempt latency (download, parse and store) by outcome")
          .Register(*registry);
  pm::Family<pm::Counter>& transcript_segments = pm::BuildCounter()
                                                     .Name("streamgate_transcript_segments_total")
                                                     .Help("Transcript segments stored")
                                                     .Register(*registry);
  pm::Family<pm::Histogram>& stream_latency =
      pm::BuildHistogram()
          .Name("streamgate_stream_request_duration_seconds")
          .Help("Latency of one attempt of a request to Stream's REST API, by operation")
          .Register(*registry);
  pm::Family<pm::Counter>& limiter_unavailable =
      pm::BuildCounter()
          .Name("streamgate_rate_limiter_unavailable_total")
          .Help(
              "Rate-limit decisions taken without Redis, by decision (open: let through, "
              "closed: refused with 503)")
          .Register(*registry);
  pm::Family<pm::Counter>& jwks_failures = pm::BuildCounter()
                                               .Name("streamgate_jwks_refresh_failures_total")
                                               .Help("Failed fetches of the app's JWKS")
                                               .Register(*registry);
  pm::Family<pm::Counter>& log_dropped =
      pm::BuildCounter()
          .Name("streamgate_log_lines_dropped_total")
          .Help("Log lines dropped because stdout did not keep up")
          .Register(*registry);
  pm::Family<pm::Gauge>& ready_family =
      pm::BuildGauge()
          .Name("streamgate_ready")
          .Help("What /readyz answered last: 1 ready, 0 not ready")
          .Register(*registry);
  // The standard process metrics (Prometheus client conventions), read from /proc/self.
  pm::Family<pm::Counter>& process_cpu = pm::BuildCounter()
                                             .Name("process_cpu_seconds_total")
                                             .Help("Total user and system CPU time in seconds")
                                             .Register(*registry);
  pm::Family<pm::Gauge>& process_rss = pm::BuildGauge()
                                           .Name("process_resident_memory_bytes")
                                           .Help("Resident memory size in bytes")
                                           .Register(*registry);
  pm::Family<pm::Gauge>& process_vsize = pm::BuildGauge()
                                             .Name("process_virtual_memory_bytes")
                                             .Help("Virtual memory size in bytes")
                                             .Register(*registry);
  pm::Family<pm::Gauge>& process_fds = pm::BuildGauge()
                                           .Name("process_open_fds")
                                           .Help("Number of open file descriptors")
                                           .Register(*registry);
  pm::Family<pm::Gauge>& process_max_fds = pm::BuildGauge()
                                               .Name("process_max_fds")
                                               .Help("Maximum number of open file descriptors")
                                               .Register(*registry);
  pm::Family<pm::Gauge>& process_start = pm::BuildGauge()
                                             .Name("process_start_time_seconds")
                                             .Help("Start time of the process since the epoch")
                                             .Register(*registry);
  pm::Gauge& open = connections.Add({});
  pm::Gauge& pending = app_pending.Add({});
  pm::Gauge& oldest = app_oldest.Add({});
  pm::Gauge& ready = ready_family.Add({});
  pm::Counter& cpu = process_cpu.Add({});
  pm::Counter& dropped = log_dropped.Add({});
  pm::Gauge& rss = process_rss.Add({});
  pm::Gauge& vsize = process_vsize.Add({});
  pm::Gauge& fds = process_fds.Add({});
  pm::Gauge& max_fds = process_max_fds.Add({});
  pm::Gauge& start_time = process_start.Add({});
  // Looked up once: a family's Add() builds a label map and takes the family's lock.
  pm::Counter& tokens_user = tokens.Add({{"kind", "user"}});
  pm::Counter& tokens_call = tokens.Add({{"kind", "call"}});
  std::mutex scrape_mutex;  // counters advanced from readings at scrape time
  double cpu_seen = 0;
  double dropped_seen = 0;
};

Metrics::Metrics(std::string version) : impl_(std::make_unique<Impl>()) {
  impl_->build.Add({{"version", version}}).Set(1);
  // Series whose labels are few and known start at 0, so that rate() and the alert rules see
  // them from the first scrape (deploy/monitoring/).
  for (const char* decision : {"open", "closed"})
    impl_->limiter_unavailable.Add({{"decision", decision}});
  impl_->jwks_failures.Add({});
  for (const char* outcome : {"ready", "retry", "failed"})
    impl_->transcript_fetches.Add({{"outcome", outcome}});
  impl_->transcript_segments.Add({});
}

Metrics::~Metrics() = default;

void Metrics::observe_request(std::string_view route, std::string_view method, int status,
                              double seconds) {
  // Looking a labelled metric up takes the family's lock; remember it per thread instead.
  struct Entry {
    pm::Counter* count;
    pm::Histogram* latency;
  };
  // Every part of the key is bounded (route patterns, known methods or "other", our statuses),
  // so the cache cannot grow with what clients send.
  thread_local std::unordered_map<std::string, Entry> cache;
  thread_local std::string key;  // reused: no allocation once it has grown
  const std::string_view m = bounded_method(method);
  char number[24];
  key.clear();
  key.append(number, std::to_chars(number, number + sizeof number, impl_->instance).ptr);
  key += '|';
  key += route;
  key += '|';
  key += m;
  key += '|';
  key.append(number, std::to_chars(number, number + sizeof number, status).ptr);
  auto it = cache.find(key);
  if (it == cache.end()) {
    const std::string r(route.empty() ? "(unmatched)" : route);
    const std::string ms(m);
    Entry e{
        &impl_->requests.Add({{"route", r}, {"method", ms}, {"status", std::to_string(status)}}),
        &impl_->latency.Add({{"route", r}, {"method", ms}}, latency_buckets())};
    it = cache.emplace(key, e).first;
  }
  it->second.count->Increment();
  it->second.latency->Observe(seconds);
}

void Metrics::token_issued(bool call_token) {
  (call_token ? impl_->tokens_call : impl_->tokens_user).Increment();
}

void Metrics::webhook(std::string_view type, std::string_view outcome) {
  const std::string t = core::is_meeting_event(type) ? std::string(type) : "other";
  impl_->webhooks.Add({{"type", t}, {"outcome", std::string(outcome)}}).Increment();
}

void Metrics::stream_call(std::string_view operation, int status, bool retry, double seconds) {
  const std::string op(operation);  // one of StreamClient's fixed operation names
  impl_->stream_calls.Add({{"operation", op}, {"status", std::to_string(status)}}).Increment();
  impl_->stream_latency.Add({{"operation", op}}, latency_buckets()).Observe(seconds);
  if (retry) impl_->stream_retries.Add({{"operation", op}}).Increment();
}

void Metrics::rate_limiter_unavailable(bool let_through) {
  impl_->limiter_unavailable.Add({{"decision", let_through ? "open" : "closed"}}).Increment();
}

void Metrics::jwks_failure() { impl_->jwks_failures.Add({}).Increment(); }

void Metrics::readiness(bool ready) { impl_->ready.Set(ready ? 1 : 0); }

void Metrics::store_call(std::string_view operation, double seconds, bool ok) {
  impl_->store_latency
      .Add({{"operation", std::string(operation)}, {"result", ok ? "ok" : "error"}},
           latency_buckets())
      .Observe(seconds);
}

void Metrics::app_event_attempt(std::string_view type, std::string_view outcome, double seconds) {
  const std::string t = core::is_app_event_type(type) ? std::string(type) : "other";
  impl_->app_deliveries.Add({{"type", t}, {"outcome", std::string(outcome)}}).Increment();
  impl_->app_latency.Add({{"outcome", std::string(outcome)}}, latency_buckets()).Observe(seconds);
}

void Metrics::app_event_queue(std::int64_t pending, double oldest_pending_seconds) {
  impl_->pending.Set(static_cast<double>(pending));
  impl_->oldest.Set(oldest_pending_seconds);
}

void Metrics::transcript_fetch(std::string_view outcome, double seconds, std::int64_t segments) {
  const std::string o(outcome == "ready" || outcome == "retry" ? outcome : "failed");
  impl_->transcript_fetches.Add({{"outcome", o}}).Increment();
  impl_->transcript_latency.Add({{"outcome", o}}, latency_buckets()).Observe(seconds);
  if (segments > 0) impl_->transcript_segments.Add({}).Increment(static_cast<double>(segments));
}

namespace {

struct ProcessReading {
  double cpu_seconds = 0;
  double rss_bytes = 0;
  double vsize_bytes = 0;
  double start_time = 0;
  double open_fds = 0;
  double max_fds = 0;
};

// /proc/self/stat fields after the command name (which may hold spaces, hence the last ')'):
// utime (14), stime (15), starttime (22), vsize (23), rss (24), numbered from 1.
ProcessReading read_process() {
  ProcessReading r;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));
  std::ifstream stat("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close != std::string::npos && ticks > 0) {
    std::istringstream in(text.substr(close + 2));
    std::vector<std::string> f;
    for (std::string w; in >> w && f.size() < 22;) f.push_back(w);
    // f[0] is field 3 (state), so field N is f[N - 3].
    const auto num = [&](std::size_t field) {
      return field - 3 < f.size() ? std::strtod(f[field - 3].c_str(), nullptr) : 0.0;
    };
    r.cpu_seconds = (num(14) + num(15)) / ticks;
    r.vsize_bytes = num(23);
    r.rss_bytes = num(24) * page;
    std::ifstream boot_in("/proc/stat");
    for (std::string line; std::getline(boot_in, line);)
      if (line.rfind("btime ", 0) == 0) r.start_time = std::strtod(line.c_str() + 6, nullptr);
    r.start_time += num(22) / ticks;
  }
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    r.open_fds += 1;
  struct rlimit lim {};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0) r.max_fds = static_cast<double>(lim.rlim_cur);
  return r;
}

}  // namespace

std::string Metrics::render(double open_connections) {
  impl_->open.Set(open_connections);
  {
    const ProcessReading p = read_process();
    std::lock_guard lock(impl_->scrape_mutex);
    if (p.cpu_seconds > impl_->cpu_seen) {
      impl_->cpu.Increment(p.cpu_seconds - impl_->cpu_seen);
      impl_->cpu_seen = p.cpu_seconds;
    }
    const auto dropped = static_cast<double>(dropped_log_lines());
    if (dropped > impl_->dropped_seen) {
      impl_->dropped.Increment(dropped - impl_->dropped_seen);
      impl_->dropped_seen = dropped;
    }
    impl_->rss.Set(p.rss_bytes);
    impl_->vsize.Set(p.vsize_bytes);
    impl_->fds.Set(p.open_fds);
    impl_->max_fds.Set(p.max_fds);
    impl_->start_time.Set(p.start_time);
  }
  return pm::TextSerializer().Serialize(impl_->registry->Collect());
}

http::Middleware metrics_middleware(std::shared_ptr<Metrics> metrics) {
  return [metrics](http::Request& req, http::Context& ctx,
                   http::Next next) -> http::Task<http::Response> {
    http::Response res = co_await next(req, ctx);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count();
    metrics->observe_request(ctx.route_pattern, req.method_name, res.status, secs);
    co_return res;
  };
}

}  // namespace streamgate::server
