#include "server/clients/redis_limiter.hpp"

#include <boost/asio/buffers_iterator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>

#include <map>
#include <mutex>
#include <vector>

#include "http/deadline.hpp"
#include "http/log.hpp"
#include "http/types.hpp"
#include "server/clients/resp.hpp"

namespace streamgate::server {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// KEYS[1] bucket; ARGV[1] tokens per ms; ARGV[2] capacity. Returns {allowed, remaining, retry_ms}.
constexpr const char* kScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or capacity
local ts = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
return {allowed, math.floor(tokens), retry}
)lua";

struct Conn {
  explicit Conn(asio::any_io_executor ex) : socket(ex) {}
  tcp::socket socket;
  // Our replies are a few short lines: a longer line is not Redis answering our script.
  asio::streambuf buffer{kMaxRespLine + 2};
};

}  // namespace

struct RedisLimiter::Impl {
  RedisOptions options;
  std::string prefix;
  std::int64_t per_minute = 0;
  std::string host;
  std::string port = "6379";
  std::string password;
  std::string db;
  std::mutex mutex;
  std::map<const void*, std::vector<std::unique_ptr<Conn>>> idle;
};

namespace {

// Reads one RESP reply line, without its CRLF (the buffer bounds it to kMaxRespLine).
http::Task<std::string> read_line(Conn& c) {
  auto [ec, n] = co_await asio::async_read_until(c.socket, c.buffer, "\r\n", kTuple);
  if (ec) throw std::runtime_error("redis read: " + ec.message());
  const auto data = c.buffer.data();
  std::string line(asio::buffers_begin(data), asio::buffers_begin(data) + (n - 2));
  c.buffer.consume(n);
  co_return line;
}

http::Task<std::vector<std::int64_t>> read_integers(Conn& c) {
  RespIntegerReply reply;
  for (;;) {
    auto line_op = read_line(c);  // [gcc12-co_await]
    const std::string line = co_await std::move(line_op);
    if (reply.take_line(line)) co_return reply.values();
  }
}

http::Task<std::vector<std::int64_t>> command(Conn& c, std::vector<std::string> args) {
  const std::string wire = resp_command(args);
  auto [ec, n] = co_await asio::async_write(c.socket, asio::buffer(wire), kTuple);
  if (ec) throw std::runtime_error("redis write: " + ec.message());
  auto reply = read_integers(c);  // [gcc12-co_await]
  co_return co_await std::move(reply);
}

}  // namespace

RedisLimiter::RedisLimiter(RedisOptions options, std::string name, std::int64_t per_minute)
    : impl_(std::make_shared<Impl>()) {
  impl_->options = std::move(options);
  impl_->prefix = "streamgate:rl:" + name + ":";
  impl_->per_minute = per_minute;
  const std::string& url = impl_->options.url;
  auto u = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!u || (u->scheme() != "redis"))
    throw std::invalid_argument("REDIS_URL must be redis://host[:port][/db]");
  impl_->host = std::string(u->host_address());
  if (impl_->host.empty()) throw std::invalid_argument("REDIS_URL has no host");
  if (u->has_port()) impl_->port = std::string(u->port());
  if (u->has_password()) impl_->password = std::string(u->password());
  std::string path(u->path());
  if (path.size() > 1) impl_->db = path.substr(1);
}

RedisLimiter::~RedisLimiter() = default;

void RedisLimiter::close_idle() {
  std::lock_guard lock(impl_->mutex);
  impl_->idle.clear();
}

namespace {

// One exchange on `conn` (connecting and authenticating it first when fresh): the script's reply.
// Throws for anything that is not a usable answer.
http::Task<std::vector<std::int64_t>> exchange(const RedisLimiter::Impl& impl, Conn& conn,
                                               bool fresh, std::string key) {
  if (fresh) {
    tcp::resolver resolver(co_await asio::this_coro::executor);
    auto [rec, endpoints] = co_await resolver.async_resolve(impl.host, impl.port, kTuple);
    if (rec) throw std::runtime_error("redis resolve: " + rec.message());
    auto [cec, ep] = co_await asio::async_connect(conn.socket, endpoints, kTuple);
    if (cec) throw std::runtime_error("redis connect: " + cec.message());
    conn.socket.set_option(tcp::no_delay(true));
    if (!impl.password.empty()) {
      auto auth = command(conn, {"AUTH", impl.password});  // [gcc12-co_await]
      co_await std::move(auth);
    }
    if (!impl.db.empty()) {
      auto select = command(conn, {"SELECT", impl.db});  // [gcc12-co_await]
      co_await std::move(select);
    }
  }
  const double rate_per_ms = static_cast<double>(impl.per_minute) / 60000.0;
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.12g", rate_per_ms);
  auto eval = command(conn, {"EVAL", kScript, "1", impl.prefix + key, rate,
                             std::to_string(impl.per_minute)});  // [gcc12-co_await]
  auto reply = co_await std::move(eval);
  if (reply.size() != 3) throw std::runtime_error("redis: unexpected script reply");
  co_return reply;
}

}  // namespace

http::Task<http::RateDecision> RedisLimiter::take(std::string key) {
  auto impl = impl_;
  auto ex = co_await asio::this_coro::executor;
  const void* ctx_key = &asio::query(ex, asio::execution::context);
  http::RateDecision d;
  d.limit = impl->per_minute;

  std::unique_ptr<Conn> conn;
  {
    std::lock_guard lock(impl->mutex);
    auto& list = impl->idle[ctx_key];
    if (!list.empty()) {
      conn = std::move(list.back());
      list.pop_back();
    }
  }
  bool fresh = !conn;
  if (!conn) conn = std::make_unique<Conn>(ex);
  // Closing the socket fails whatever operation is pending. Disarmed before the connection goes
  // back to the pool, so a late expiry never closes a pooled connection (http/deadline.hpp).
  http::ScopedDeadline deadline(ex, std::chrono::steady_clock::now() + impl->options.timeout,
                                [&conn] {
                                  boost::system::error_code ignored;
                                  if (conn) conn->socket.close(ignored);
                                });
  std::string error;
  std::vector<std::int64_t> reply;
  for (;;) {
    try {
      auto op = exchange(*impl, *conn, fresh, key);  // [gcc12-co_await]
      reply = co_await std::move(op);
      error.clear();
      break;
    } catch (const std::exception& e) {
      error = deadline.expired() ? "redis: no answer within the deadline" : e.what();
    }
    if (fresh || deadline.expired()) break;
    // A pooled connection that Redis closed since (a restart) fails at once: once more, on a
    // fresh connection, within the same deadline.
    conn = std::make_unique<Conn>(ex);
    fresh = true;
  }
  deadline.disarm();
  if (error.empty()) {
    {
      std::lock_guard lock(impl->mutex);
      impl->idle[ctx_key].push_back(std::move(conn));
    }
    // Redis's numbers are range-checked like any other input before they are used.
    d.allowed = reply[0] == 1;
    d.remaining = std::clamp<std::int64_t>(reply[1], 0, impl->per_minute);
    d.retry_after_seconds =
        std::max<std::int64_t>(1, (std::clamp<std::int64_t>(reply[2], 0, 3'600'000) + 999) / 1000);
    co_return d;
  }
  http::log(spdlog::level::warn, http::LogLine("rate limiter unavailable")
                                     .add("error", error)
                                     .add("policy", impl->options.fail_open ? "open" : "closed"));
  if (impl->options.on_unavailable) impl->options.on_unavailable(impl->options.fail_open);
  if (!impl->options.fail_open)
    throw http::HttpError(503, "rate_limiter_unavailable",
                          "Rate limiting is unavailable; retry later")
        .with_header("Retry-After", "1");
  d.allowed = true;
  d.remaining = 0;
  co_return d;
}

}  // namespace streamgate::server
