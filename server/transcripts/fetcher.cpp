#include "server/transcripts/fetcher.hpp"

#include <algorithm>
#include <random>

#include "core/app_events.hpp"
#include "core/crypto.hpp"
#include "core/net_address.hpp"
#include "core/time.hpp"
#include "core/transcript.hpp"
#include "http/job_loop.hpp"
#include "http/log.hpp"

namespace streamgate::server {
namespace asio = boost::asio;

std::string url_for_logs(std::string_view url) {
  return std::string(url.substr(0, url.find_first_of("?#")));
}

namespace {
std::int64_t now_ns() { return core::to_unix_nanos(core::system_now()); }

// How one attempt ended.
struct Attempt {
  enum class Kind { stored, lost, retry, failed } kind = Kind::retry;
  std::string error;
  std::string url;  // a fresh URL found by re-listing, to keep
  std::int64_t segments = 0;
};
}  // namespace

struct TranscriptFetcher::Impl : std::enable_shared_from_this<Impl> {
  TranscriptFetcherSettings s;
  std::string owner = "transcripts-" + core::random_hex(8);
  std::unique_ptr<http::JobLoop> loop;
  bool store_down = false;
  std::mt19937_64 rng{std::random_device{}()};

  explicit Impl(TranscriptFetcherSettings settings) : s(std::move(settings)) {}

  http::FetchRequest request(const std::string& url, core::TranscriptParser& parser) const {
    http::FetchRequest r;
    r.url = url;
    r.https_only = true;
    r.timeout = s.timeout;
    r.max_bytes = s.max_bytes;
    if (!s.hosts.empty())
      r.vet_host = [hosts = s.hosts](std::string_view host) -> std::optional<std::string> {
        for (const auto& h : hosts)
          if (core::host_allowed(host, h)) return std::nullopt;
        return std::string("not in TRANSCRIPT_HOSTS");
      };
    r.vet_address = [allow = s.allow_private_hosts](std::string_view ip) {
      return core::refuse_address(ip, allow);
    };
    r.on_body = [&parser](std::string_view chunk) { parser.feed(chunk); };
    return r;
  }

  // The file's current URL from Stream's list of the call's transcriptions, if it is there.
  http::Task<std::optional<std::string>> relist(const TranscriptFile& job) {
    try {
      auto list = s.stream->list_transcriptions(job.call_type, job.call_id,
                                                http::Trace::fresh());  // [gcc12-co_await]
      const auto files = co_await std::move(list);
      for (const auto& v : files) {
        if (!v.is_object()) continue;
        const auto& o = v.get_object();
        const auto* name = o.if_contains("filename");
        const auto* url = o.if_contains("url");
        if (name && name->is_string() && url && url->is_string() && name->get_string() == job.file)
          co_return std::string(url->get_string());
      }
    } catch (const std::exception& e) {
      http::log(spdlog::level::warn, http::LogLine("transcript: re-listing failed")
                                         .add("callCid", job.call_type + ":" + job.call_id)
                                         .add("error", e.what()));
    }
    co_return std::nullopt;
  }

  http::Task<Attempt> fetch(const TranscriptFile& job) {
    std::string url = job.url;
    bool relisted = false;
    for (;;) {
      core::TranscriptParser parser;
      http::FetchResult got;
      try {
        auto get = s.client->fetch(request(url, parser));  // [gcc12-co_await]
        got = co_await std::move(get);
      } catch (const http::ClientError& e) {
        const bool permanent = e.kind == http::ClientErrorKind::refused ||
                               e.kind == http::ClientErrorKind::too_large ||
                               e.kind == http::ClientErrorKind::invalid_url;
        co_return Attempt{permanent ? Attempt::Kind::failed : Attempt::Kind::retry,
                          std::string(to_string(e.kind)) + ": " + e.what(),
                          relisted ? url : std::string(), 0};
      }
      if (got.status >= 200 && got.status <= 299) {
        parser.finish();
        if (parser.unparseable())
          co_return Attempt{Attempt::Kind::failed,
                            "unparseable: the file is not a JSON Lines transcript (" +
                                std::to_string(parser.malformed_lines()) + " malformed lines)",
                            relisted ? url : std::string(), 0};
        TranscriptContent content;
        content.call_type = job.call_type;
        content.call_id = job.call_id;
        content.file = job.file;
        content.owner = owner;
        content.segments = std::move(parser.segments());
        content.malformed_lines = parser.malformed_lines();
        content.bytes = got.bytes;
        const auto count = static_cast<std::int64_t>(content.segments.size());
        auto save = s.store->store_transcript(std::move(content));  // [gcc12-co_await]
        const bool stored = co_await std::move(save);
        co_return Attempt{stored ? Attempt::Kind::stored : Attempt::Kind::lost, {}, {}, count};
      }
      const std::string error = "HTTP " + std::to_string(got.status);
      // An expired pre-signed URL: ask Stream for the file's current one, once per attempt.
      if ((got.status == 403 || got.status == 404 || got.status == 410) && !relisted) {
        relisted = true;
        auto find = relist(job);  // [gcc12-co_await]
        const auto fresh = co_await std::move(find);
        if (fresh && *fresh != url) {
          url = *fresh;
          continue;
        }
      }
      co_return Attempt{Attempt::Kind::retry, error, relisted ? url : std::string(), 0};
    }
  }

  http::Task<void> attempt(TranscriptFile job) {
    const auto started = std::chrono::steady_clock::now();
    Attempt a;
    try {
      auto run = fetch(job);  // [gcc12-co_await]
      a = co_await std::move(run);
    } catch (const std::exception& e) {
      // The store failed while saving: the lease runs out and the job is tried again.
      a = Attempt{Attempt::Kind::lost, e.what(), {}, 0};
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const std::string cid = job.call_type + ":" + job.call_id;
    if (a.kind == Attempt::Kind::stored) {
      if (s.on_fetch) s.on_fetch("ready", seconds, a.segments);
      http::log(spdlog::level::info, http::LogLine("transcript stored")
                                         .add("callCid", cid)
                                         .add("file", job.file)
                                         .add("segments", a.segments));
      co_return;
    }
    if (a.kind == Attempt::Kind::lost) {
      http::log(spdlog::level::warn, http::LogLine("transcript not stored")
                                         .add("callCid", cid)
                                         .add("file", job.file)
                                         .add("error", a.error.empty() ? "lease lost" : a.error));
      co_return;
    }
    TranscriptOutcome out;
    out.call_type = job.call_type;
    out.call_id = job.call_id;
    out.file = job.file;
    out.owner = owner;
    out.step = job.step;
    out.error = a.error.substr(0, 512);
    out.url = a.url;
    std::string_view outcome = "failed";
    const auto delay = a.kind == Attempt::Kind::retry
                           ? core::retry_delay_ms(s.retry_schedule_seconds, job.step,
                                                  std::uniform_real_distribution<>(0, 1)(rng))
                           : std::nullopt;
    if (delay) {
      out.status = "pending";
      out.step = job.step + 1;
      out.next_attempt_at = now_ns() + *delay * 1'000'000;
      outcome = "retry";
    } else {
      out.status = "failed";
    }
    if (s.on_fetch) s.on_fetch(outcome, seconds, 0);
    auto line = http::LogLine(outcome == "retry" ? "transcript fetch failed, will retry"
                                                 : "transcript fetch failed");
    line.add("callCid", cid)
        .add("file", job.file)
        .add("url", url_for_logs(a.url.empty() ? job.url : a.url))
        .add("attempt", job.attempts + 1)
        .add("error", out.error);
    http::log(spdlog::level::warn, line);
    try {
      auto finish = s.store->finish_transcript_job(out);  // [gcc12-co_await]
      co_await std::move(finish);
    } catch (const std::exception& e) {
      http::log(spdlog::level::warn, http::LogLine("transcript outcome not stored")
                                         .add("callCid", cid)
                                         .add("error", e.what()));
    }
  }

  // One round: the due jobs, one attempt each.
  http::Task<std::vector<std::function<http::Task<void>()>>> claim() {
    std::vector<std::function<http::Task<void>()>> jobs;
    const std::int64_t now = now_ns();
    TranscriptClaim claim;
    claim.now = now;
    claim.limit = s.concurrency;
    claim.owner = owner;
    // A fetch, a re-listing and a second fetch, and the store: three timeouts and a margin.
    claim.lease_until = now + (s.timeout.count() * 3 + 30'000) * 1'000'000;
    try {
      auto take = s.store->claim_transcript_jobs(claim);  // [gcc12-co_await]
      auto claimed = co_await std::move(take);
      if (store_down) http::log(spdlog::level::info, http::LogLine("transcripts: store back"));
      store_down = false;
      for (auto& job : claimed)
        jobs.push_back([self = shared_from_this(), job = std::move(job)]() mutable {
          return self->attempt(std::move(job));
        });
    } catch (const std::exception& e) {
      if (!store_down)
        http::log(spdlog::level::warn,
                  http::LogLine("transcripts: store unavailable").add("error", e.what()));
      store_down = true;
    }
    co_return jobs;
  }
};

TranscriptFetcher::TranscriptFetcher(TranscriptFetcherSettings settings)
    : impl_(std::make_shared<Impl>(std::move(settings))) {}

TranscriptFetcher::~TranscriptFetcher() { stop(); }

void TranscriptFetcher::start(asio::io_context& ctx) {
  std::weak_ptr<Impl> weak = impl_;
  http::JobLoopOptions o;
  o.name = "transcript fetcher";
  o.poll = impl_->s.poll;
  o.claim = [weak]() -> http::Task<std::vector<std::function<http::Task<void>()>>> {
    auto impl = weak.lock();
    if (!impl) co_return std::vector<std::function<http::Task<void>()>>{};
    auto claim = impl->claim();  // [gcc12-co_await]
    co_return co_await std::move(claim);
  };
  impl_->loop = std::make_unique<http::JobLoop>(std::move(o));
  impl_->loop->start(ctx);
}

void TranscriptFetcher::stop() {
  if (impl_ && impl_->loop) impl_->loop->stop();
}

bool TranscriptFetcher::finished() const {
  return !impl_ || !impl_->loop || impl_->loop->finished();
}

}  // namespace streamgate::server
