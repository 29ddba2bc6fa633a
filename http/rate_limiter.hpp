#pragma once
// Token-bucket rate limiting. `Limiter` is the interface the middleware uses (a shared Redis
// limiter can implement it); `LocalRateLimiter` keeps buckets in process, sharded so that
// concurrent requests rarely contend on one lock.
#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "http/pipeline.hpp"

namespace streamgate::http {

struct RateDecision {
  bool allowed = true;
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t retry_after_seconds = 0;  // when not allowed
};

class Limiter {
 public:
  virtual ~Limiter() = default;
  // Takes one token from `key`'s bucket.
  virtual Task<RateDecision> take(std::string key) = 0;
  // The same, when the limiter can decide without waiting (an in-process limiter): no
  // coroutine to start and await. nullopt: ask take().
  virtual std::optional<RateDecision> take_at_once(std::string_view key) { return std::nullopt; }
};

// `per_minute` tokens per minute, burst of `per_minute` (a full minute's worth).
class LocalRateLimiter final : public Limiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LocalRateLimiter(std::int64_t per_minute);
  Task<RateDecision> take(std::string key) override;
  std::optional<RateDecision> take_at_once(std::string_view key) override;
  RateDecision take_now(std::string_view key, Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Bucket> buckets;
  };
  static constexpr std::size_t kShards = 64;
  static constexpr std::size_t kMaxKeysPerShard = 16384;

  std::int64_t per_minute_;
  double per_second_;
  std::array<Shard, kShards> shards_;
};

// Middleware: one token from the bucket named by key_fn(req, ctx); 429 rate_limited with
// Retry-After when empty. An empty key skips the check.
using RateKeyFn = std::function<std::string(const Request&, const Context&)>;
Middleware rate_limit(std::shared_ptr<Limiter> limiter, RateKeyFn key_fn);

}  // namespace streamgate::http
