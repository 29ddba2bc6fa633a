#include "server/clients/redis_limiter.hpp"

#include <boost/asio/buffers_iterator.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "core/checked.hpp"
#include "http/deadline.hpp"
#include "http/log.hpp"
#include "http/types.hpp"
#include "server/clients/resp.hpp"

namespace streamgate::server {
namespace asio = boost::asio;
namespace ssl = asio::ssl;
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

// The script's SHA-1, as EVALSHA names it (lower-case hex).
std::string script_sha1() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  const std::string_view script(kScript);
  if (EVP_Digest(script.data(), script.size(), digest, &n, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("SHA-1 unavailable");
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(byte, sizeof byte, "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

// One connection to Redis: plain TCP, or TLS over it (rediss://).
struct Conn {
  Conn(asio::any_io_executor ex, ssl::context* tls_ctx) {
    if (tls_ctx != nullptr)
      tls.emplace(ex, *tls_ctx);
    else
      plain.emplace(ex);
  }
  tcp::socket& socket() { return tls ? tls->next_layer() : *plain; }
  std::optional<ssl::stream<tcp::socket>> tls;
  std::optional<tcp::socket> plain;
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
  std::string user;  // ACL user (AUTH user password), or empty (AUTH password)
  std::string password;
  std::string db;
  std::shared_ptr<ssl::context> tls;  // rediss://
  std::string sha1 = script_sha1();
  std::mutex mutex;
  std::map<const void*, std::vector<std::unique_ptr<Conn>>> idle;
};

namespace {

// Reads one RESP reply line, without its CRLF (the buffer bounds it to kMaxRespLine).
http::Task<std::string> read_line(Conn& c) {
  auto [ec, n] = c.tls ? co_await asio::async_read_until(*c.tls, c.buffer, "\r\n", kTuple)
                       : co_await asio::async_read_until(*c.plain, c.buffer, "\r\n", kTuple);
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
  auto [ec, n] = c.tls ? co_await asio::async_write(*c.tls, asio::buffer(wire), kTuple)
                       : co_await asio::async_write(*c.plain, asio::buffer(wire), kTuple);
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
  if (!u || (u->scheme() != "redis" && u->scheme() != "rediss"))
    throw std::invalid_argument("REDIS_URL must be redis[s]://[[user]:password@]host[:port][/db]");
  impl_->host = std::string(u->host_address());
  if (impl_->host.empty()) throw std::invalid_argument("REDIS_URL has no host");
  if (u->has_port()) impl_->port = std::string(u->port());
  if (u->has_userinfo()) {
    impl_->user = std::string(u->user());
    impl_->password = std::string(u->password());
    if (!impl_->user.empty() && impl_->password.empty())
      throw std::invalid_argument("REDIS_URL names a user without a password");
  }
  std::string path(u->path());
  if (path.size() > 1) {
    impl_->db = path.substr(1);
    const auto db = core::parse_int64(impl_->db);
    if (!db || *db < 0) throw std::invalid_argument("REDIS_URL's database must be a number");
  }
  if (u->scheme() == "rediss") {
    // The server's certificate must chain to a trusted CA (the system's, or REDIS_CA_FILE) and
    // name the host (checked on each connection).
    impl_->tls = std::make_shared<ssl::context>(ssl::context::tls_client);
    impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
    impl_->tls->set_verify_mode(ssl::verify_peer);
    boost::system::error_code ec;
    if (impl_->options.ca_file.empty())
      impl_->tls->set_default_verify_paths(ec);
    else
      impl_->tls->load_verify_file(impl_->options.ca_file, ec);
    if (ec) throw std::invalid_argument("REDIS_CA_FILE could not be loaded: " + ec.message());
  } else if (!impl_->options.ca_file.empty()) {
    throw std::invalid_argument("REDIS_CA_FILE is set, but REDIS_URL is not rediss://");
  }
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
    auto [cec, ep] = co_await asio::async_connect(conn.socket(), endpoints, kTuple);
    if (cec) throw std::runtime_error("redis connect: " + cec.message());
    conn.socket().set_option(tcp::no_delay(true));
    if (conn.tls) {
      if (!SSL_set_tlsext_host_name(conn.tls->native_handle(), impl.host.c_str()))
        throw std::runtime_error("redis tls: bad host name");
      conn.tls->set_verify_callback(ssl::host_name_verification(impl.host));
      auto [hec] = co_await conn.tls->async_handshake(ssl::stream_base::client, kTuple);
      if (hec) throw std::runtime_error("redis tls: " + hec.message());
    }
    if (!impl.password.empty()) {
      auto auth = impl.user.empty()
                      ? command(conn, {"AUTH", impl.password})
                      : command(conn, {"AUTH", impl.user, impl.password});  // [gcc12-co_await]
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
  const std::string bucket = impl.prefix + key;
  const std::string capacity = std::to_string(impl.per_minute);
  // The script by its SHA-1; a Redis that does not have it (new, restarted, flushed) answers
  // NOSCRIPT, and EVAL then sends it whole, which also loads it for the next calls.
  std::vector<std::int64_t> reply;
  bool loaded = true;
  try {
    auto evalsha =
        command(conn, {"EVALSHA", impl.sha1, "1", bucket, rate, capacity});  // [gcc12-co_await]
    reply = co_await std::move(evalsha);
  } catch (const RespError& e) {
    if (e.code != "NOSCRIPT") throw;
    loaded = false;
  }
  if (!loaded) {
    auto eval = command(conn, {"EVAL", kScript, "1", bucket, rate, capacity});  // [gcc12-co_await]
    reply = co_await std::move(eval);
  }
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
  if (!conn) conn = std::make_unique<Conn>(ex, impl->tls.get());
  // Closing the socket fails whatever operation is pending. Disarmed before the connection goes
  // back to the pool, so a late expiry never closes a pooled connection (http/deadline.hpp).
  http::ScopedDeadline deadline(ex, std::chrono::steady_clock::now() + impl->options.timeout,
                                [&conn] {
                                  boost::system::error_code ignored;
                                  if (conn) conn->socket().close(ignored);
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
    conn = std::make_unique<Conn>(ex, impl->tls.get());
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
