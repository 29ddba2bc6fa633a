#pragma once
// Per-user and per-IP limits shared by every replica through Redis: one Lua script (sent by its
// SHA-1, EVALSHA) applies a token bucket atomically with Redis's own clock, so replicas with
// skewed clocks agree. RESP is spoken over Asio, in TLS with rediss:// (no blocking call on an I/O
// thread), with a pool of connections per I/O thread and a deadline per call. When Redis is
// unreachable the limiter fails open (lets the request through, logged) or closed (503), as
// configured.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http/rate_limiter.hpp"

namespace streamgate::server {

struct RedisOptions {
  // redis://[[user]:password@]host[:port][/db], or rediss://... for TLS (AUTH user password
  // with a user: an ACL user)
  std::string url;
  std::string ca_file;  // rediss: the CA that signs Redis's certificate (else the system's)
  std::chrono::milliseconds timeout{250};
  bool fail_open = true;
  // Called on each decision taken without Redis: true when the request was let through.
  std::function<void(bool let_through)> on_unavailable;
};

class RedisLimiter final : public http::Limiter {
 public:
  // `name` separates buckets of different limits ("user", "ip"). Throws std::invalid_argument
  // for a malformed URL.
  RedisLimiter(RedisOptions options, std::string name, std::int64_t per_minute);
  ~RedisLimiter() override;
  http::Task<http::RateDecision> take(std::string key) override;
  // Drops pooled connections (call before the I/O contexts are destroyed).
  void close_idle();

  struct Impl;  // the connection settings and the pool (redis_limiter.cpp)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace streamgate::server
