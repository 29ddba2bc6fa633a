#include "server/app/check.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <vector>

#include "core/crypto.hpp"
#include "http/https_client.hpp"
#include "http/trace.hpp"
#include "server/app/deps.hpp"
#include "server/auth/jwks.hpp"
#include "server/clients/redis_limiter.hpp"
#include "server/clients/stream_client.hpp"

namespace streamgate::server {

namespace {

// Runs `task` to completion on `ctx`; an escaping exception becomes its text. The io_context
// outlives every client that pooled a connection on it (they are declared after it).
std::optional<std::string> run(boost::asio::io_context& ctx,
                               std::function<http::Task<void>()> task) {
  ctx.restart();
  std::optional<std::string> failure;
  boost::asio::co_spawn(ctx, std::move(task), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      failure = ex.what();
    } catch (...) {
      failure = "unknown error";
    }
  });
  ctx.run();
  return failure;
}

}  // namespace

std::string local_base_url(const Config& c) {
  const bool any =
      c.listen_address == "0.0.0.0" || c.listen_address == "::" || c.listen_address.empty();
  const std::string host = any ? "127.0.0.1"
                           : c.listen_address.find(':') != std::string::npos
                               ? "[" + c.listen_address + "]"
                               : c.listen_address;
  return (c.tls_cert_file.empty() ? "http://" : "https://") + host + ":" + std::to_string(c.port);
}

int check_config(const std::map<std::string, std::string>& env, std::ostream& out) {
  boost::asio::io_context ctx;  // first: destroyed after every client below
  Config c;
  Deps d;
  try {
    c = load_config(env);
    d = make_deps(c);
  } catch (const ConfigError& e) {
    out << "streamgate: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    out << "streamgate: store: cannot open "
        << (c.database_url.rfind("sqlite:", 0) == 0 ? c.database_url : "DATABASE_URL") << ": "
        << e.what() << "\n";
    return 1;
  }
  std::vector<std::string> problems;
  std::vector<std::string> passed;

  if (auto f = run(ctx, [&]() -> http::Task<void> {
        auto ping = d.store->ping();  // [gcc12-co_await]
        if (!co_await std::move(ping)) throw std::runtime_error("it does not answer");
      }))
    problems.push_back("store: " + *f);
  else
    passed.push_back("store " + d.store->backend());

  {
    // One attempt, no retries: a check, not a call that must succeed.
    StreamClientOptions o;
    o.base_url = c.stream_base_url;
    o.api_key = c.stream_api_key;
    o.secret = d.stream_secret;
    o.attempt_timeout = std::chrono::milliseconds(c.stream_timeout_ms);
    o.budget = o.attempt_timeout + std::chrono::seconds(1);
    o.max_attempts = 1;
    o.server_token_ttl = std::chrono::seconds(c.stream_server_token_ttl_seconds);
    StreamClient stream(o, d.stream_https);
    std::optional<std::string> failure = run(ctx, [&]() -> http::Task<void> {
      try {
        auto get = stream.get_call("default", "streamgate-check-" + core::random_hex(6),
                                   http::Trace::fresh());  // [gcc12-co_await]
        co_await std::move(get);
      } catch (const StreamError& e) {
        if (e.status == 404) co_return;  // authenticated; the call does not exist
        if (e.status == 401 || e.status == 403)
          throw std::runtime_error("Stream refused the credentials (HTTP " +
                                   std::to_string(e.status) + ", code " + std::to_string(e.code) +
                                   "): check STREAM_API_KEY and STREAM_API_SECRET");
        throw std::runtime_error(std::string(e.what()));
      }
    });
    if (failure)
      problems.push_back("stream: " + c.stream_base_url + ": " + *failure);
    else
      passed.push_back("stream");
  }

  if (!c.auth_jwks_url.empty()) {
    std::optional<std::string> failed;
    JwksSource jwks(c.auth_jwks_url, d.jwks_https, std::chrono::seconds(0),
                    [&](const std::string& error) { failed = error; });
    auto f = run(ctx, [&]() -> http::Task<void> {
      auto refresh = jwks.refresh(true);  // [gcc12-co_await]
      co_await std::move(refresh);
    });
    if (f || failed || jwks.keys()->empty())
      problems.push_back("jwks: " + c.auth_jwks_url +
                         ": no usable keys fetched (see the log line)");
    else
      passed.push_back("jwks (" + std::to_string(jwks.keys()->size()) + " keys)");
  }

  if (!c.redis_url.empty()) {
    RedisOptions ro;
    ro.url = c.redis_url;
    ro.ca_file = c.redis_ca_file;
    ro.timeout = std::chrono::milliseconds(c.redis_timeout_ms);
    ro.fail_open = false;  // a failure must show, not be let through
    std::shared_ptr<RedisLimiter> limiter;
    std::optional<std::string> f;
    try {
      limiter = std::make_shared<RedisLimiter>(ro, "check", 1'000'000);
    } catch (const std::invalid_argument& e) {
      f = e.what();
    }
    if (limiter)
      f = run(ctx, [&]() -> http::Task<void> {
        auto take = limiter->take("check-config");  // [gcc12-co_await]
        co_await std::move(take);
        limiter->close_idle();
      });
    if (f)
      problems.push_back("redis: not reachable (" + *f + ")");
    else
      passed.push_back("redis");
  }

  d.close_pools();
  for (const auto& p : problems) out << "streamgate: " << p << "\n";
  if (!problems.empty()) {
    out << "streamgate: configuration test failed\n";
    return 1;
  }
  out << "streamgate: configuration ok:";
  for (const auto& p : passed) out << " " << p << ";";
  out << " listening would be on " << c.listen_address << ":" << c.port << "\n";
  return 0;
}

int healthcheck(const Config& c, std::ostream& out) {
  boost::asio::io_context ctx;
  http::ClientOptions options;
  options.verify_peer = false;
  options.max_idle_per_host = 0;
  http::HttpsClient client(options);
  const std::string url = local_base_url(c) + "/readyz";
  int status = 0;
  auto failure = run(ctx, [&]() -> http::Task<void> {
    http::ClientRequest req;
    req.url = url;
    req.timeout = std::chrono::seconds(2);
    auto send = client.request(std::move(req));  // [gcc12-co_await]
    const auto res = co_await std::move(send);
    status = res.status;
  });
  client.close_idle();
  if (failure) {
    out << "streamgate: healthcheck " << url << ": " << *failure << "\n";
    return 1;
  }
  out << "streamgate: healthcheck " << url << ": " << status << "\n";
  return status == 200 ? 0 : 1;
}

}  // namespace streamgate::server
