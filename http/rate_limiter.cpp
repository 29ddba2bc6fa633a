#include "http/rate_limiter.hpp"

#include <cmath>
#include <functional>

namespace streamgate::http {

LocalRateLimiter::LocalRateLimiter(std::int64_t per_minute)
    : per_minute_(per_minute), per_second_(static_cast<double>(per_minute) / 60.0) {}

Task<RateDecision> LocalRateLimiter::take(std::string key) {
  co_return take_now(key, Clock::now());
}

std::optional<RateDecision> LocalRateLimiter::take_at_once(std::string_view key) {
  return take_now(key, Clock::now());
}

RateDecision LocalRateLimiter::take_now(std::string_view key, Clock::time_point now) {
  RateDecision d;
  d.limit = per_minute_;
  const double capacity = static_cast<double>(per_minute_);
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mutex);
  auto it = shard.buckets.find(std::string(key));
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= kMaxKeysPerShard) {
      // Forget buckets that have refilled completely: they hold no information.
      std::erase_if(shard.buckets, [&](const auto& kv) {
        const double secs = std::chrono::duration<double>(now - kv.second.updated).count();
        return kv.second.tokens + secs * per_second_ >= capacity;
      });
    }
    it = shard.buckets.emplace(std::string(key), Bucket{capacity, now}).first;
  }
  Bucket& b = it->second;
  const double secs = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(capacity, b.tokens + std::max(0.0, secs) * per_second_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    d.allowed = true;
    d.remaining = static_cast<std::int64_t>(b.tokens);
  } else {
    d.allowed = false;
    d.remaining = 0;
    d.retry_after_seconds = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(std::ceil((1.0 - b.tokens) / per_second_)));
  }
  return d;
}

namespace {

// Counts the rate limiters a request is inside of, so that only the outermost one writes the
// X-RateLimit headers: it writes what the innermost ones would (ctx.rate_limit, the binding
// limit), and writing them once saves the others the work.
struct Nesting {
  explicit Nesting(Context& ctx) : ctx(ctx) { ++ctx.rate_limiters_entered; }
  ~Nesting() { --ctx.rate_limiters_entered; }
  Nesting(const Nesting&) = delete;
  Nesting& operator=(const Nesting&) = delete;
  Context& ctx;
};

}  // namespace

Middleware rate_limit(std::shared_ptr<Limiter> limiter, RateKeyFn key_fn) {
  return [limiter = std::move(limiter), key_fn = std::move(key_fn)](Request& req, Context& ctx,
                                                                    Next next) -> Task<Response> {
    std::string key = key_fn(req, ctx);
    if (key.empty()) co_return co_await next(req, ctx);
    RateDecision d;
    if (const auto at_once = limiter->take_at_once(key)) {
      d = *at_once;
    } else {
      auto taking = limiter->take(std::move(key));  // [gcc12-co_await]
      d = co_await std::move(taking);
    }
    // Several limiters (per IP, per user) may pass one request: the headers report the one
    // with the fewest tokens left.
    if (!ctx.rate_limit || d.remaining < ctx.rate_limit->remaining ||
        (d.remaining == ctx.rate_limit->remaining && d.limit < ctx.rate_limit->limit))
      ctx.rate_limit = RateLimitState{d.limit, d.allowed ? d.remaining : 0};
    const RateLimitState binding = *ctx.rate_limit;
    if (!d.allowed) {
      throw HttpError(429, "rate_limited", "Too many requests, retry later")
          .with_header("Retry-After", std::to_string(d.retry_after_seconds))
          .with_header("X-RateLimit-Limit", std::to_string(binding.limit))
          .with_header("X-RateLimit-Remaining", "0");
    }
    // Errors from further in (another limiter's 429, a handler's 4xx) carry the headers too.
    std::optional<HttpError> failure;
    std::optional<Response> res;  // not a default Response: that would be built to be replaced
    bool outermost = false;
    {
      const Nesting inside(ctx);
      try {
        res = co_await next(req, ctx);
      } catch (const HttpError& e) {
        failure = e;
      }
      outermost = ctx.rate_limiters_entered == 1;
    }
    const RateLimitState now = ctx.rate_limit.value_or(binding);
    if (failure) {
      if (outermost) {
        failure->with_header("X-RateLimit-Limit", std::to_string(now.limit));
        failure->with_header("X-RateLimit-Remaining", std::to_string(now.remaining));
      }
      throw *failure;
    }
    if (outermost) {
      res->set_header("X-RateLimit-Limit", std::to_string(now.limit));
      res->set_header("X-RateLimit-Remaining", std::to_string(now.remaining));
    }
    co_return std::move(*res);
  };
}

}  // namespace streamgate::http
