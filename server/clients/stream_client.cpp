#include "server/clients/stream_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <random>

#include "core/checked.hpp"
#include "core/stream_token.hpp"
#include "http/log.hpp"

namespace streamgate::server {
namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

std::int64_t unix_now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string path_segment(const std::string& s) {
  // Our ids are [A-Za-z0-9_-]: nothing to escape, but never let a '/' or '?' through.
  std::string out;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '@')
      out += c;
  return out;
}

// A bounded name for metrics and logs.
std::string operation_of(const std::string& method, const std::string& path) {
  if (path.rfind("/api/v2/users", 0) == 0) return "upsert_users";
  for (const char* suffix : {"/members", "/mark_ended", "/recordings", "/transcriptions"}) {
    const std::string s(suffix);
    if (path.size() > s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0) {
      if (s == "/members") return "update_call_members";
      if (s == "/mark_ended") return "mark_ended";
      return "list_" + s.substr(1);
    }
  }
  return method == "GET" ? "get_call" : "get_or_create_call";
}

}  // namespace

StreamClient::StreamClient(StreamClientOptions options, std::shared_ptr<http::HttpsClient> client)
    : options_(std::move(options)), client_(std::move(client)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/')
    options_.base_url.pop_back();
}

std::string StreamClient::server_token() {
  const auto now = Clock::now();
  std::lock_guard lock(token_mutex_);
  if (server_token_.empty() || now >= token_renew_at_) {
    const std::int64_t unix_now = unix_now_seconds();
    const auto ttl = std::max<std::int64_t>(options_.server_token_ttl.count(), 2);
    server_token_ = core::make_stream_server_token(
        *options_.secret, unix_now - options_.server_token_skew.count(), unix_now + ttl);
    // Half the lifetime less a second (exp is whole seconds from a truncated now).
    token_renew_at_ = now + std::chrono::milliseconds(ttl * 500 - 1000 > 0 ? ttl * 500 - 1000 : 0);
  }
  return server_token_;
}

http::Task<json::object> StreamClient::call(std::string method, std::string path, json::value body,
                                            http::Trace trace) {
  const auto deadline = Clock::now() + options_.budget;
  const std::string operation = operation_of(method, path);
  auto attempt_started = Clock::now();
  const auto observe = [&](int status, bool retry) {
    const double seconds = std::chrono::duration<double>(Clock::now() - attempt_started).count();
    if (options_.observe) options_.observe(operation, status, retry, seconds);
  };
  const std::string url = options_.base_url + path +
                          (path.find('?') == std::string::npos ? "?" : "&") +
                          "api_key=" + options_.api_key;
  thread_local std::mt19937_64 rng{std::random_device{}()};
  for (int attempt = 1;; ++attempt) {
    http::ClientRequest req;
    req.method = method;
    req.url = url;
    req.headers = {{"Authorization", server_token()},
                   {"stream-auth-type", "jwt"},
                   {"X-Stream-Client", "streamgate-" + options_.client_version},
                   {"Content-Type", "application/json"},
                   {"x-client-request-id", core::random_uuid_v4()},
                   {"traceparent", trace.traceparent()},
                   {"X-Request-Id", trace.request_id}};
    attempt_started = Clock::now();
    if (!body.is_null()) req.body = json::serialize(body);
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    req.timeout = std::min(options_.attempt_timeout, std::max(left, std::chrono::milliseconds(1)));

    std::optional<StreamError> failure;
    std::optional<std::int64_t> wait_hint;
    try {
      const http::ClientResponse r = co_await client_->request(std::move(req));
      if (r.status >= 200 && r.status < 300) {
        observe(r.status, false);
        if (http::log_enabled(spdlog::level::debug))
          http::log(spdlog::level::debug,
                    http::LogLine("stream request")
                        .word("operation", operation)
                        .word("status", r.status)
                        .word_ms("durationMs", std::chrono::duration<double, std::milli>(
                                                   Clock::now() - attempt_started)
                                                   .count())
                        .add("attempt", attempt)
                        .add("requestId", trace.request_id)
                        .add("traceId", trace.trace_id));
        if (r.body.empty()) co_return json::object{};
        boost::system::error_code ec;
        json::value v = json::parse(r.body, ec);
        if (ec || !v.is_object())
          throw StreamError(StreamError::Kind::unavailable, r.status, 0,
                            "Stream answered with a body that is not JSON");
        co_return std::move(v.get_object());
      }
      failure = error_from_response(r, unix_now_seconds());
      if (r.status == 429) wait_hint = server_wait_ms(r, unix_now_seconds());
    } catch (const http::ClientError& e) {
      const bool timeout = e.kind == http::ClientErrorKind::timeout;
      failure.emplace(
          timeout ? StreamError::Kind::timeout : StreamError::Kind::unavailable, 0, 0, e.what(),
          // A certificate or URL problem will not fix itself on a retry.
          e.kind == http::ClientErrorKind::tls || e.kind == http::ClientErrorKind::invalid_url);
    }
    const bool retryable = !failure->unrecoverable && failure->kind != StreamError::Kind::rejected;
    // The detail (which may name an internal address) goes to the log, never to the client.
    const auto give_up = [&] {
      observe(failure->status, false);
      http::log(spdlog::level::warn, http::LogLine("stream request failed")
                                         .add("operation", operation)
                                         .add("attempts", attempt)
                                         .add("status", failure->status)
                                         .add("error", std::string_view(failure->what()))
                                         .add("requestId", trace.request_id)
                                         .add("traceId", trace.trace_id));
    };
    if (!retryable || attempt >= options_.max_attempts) {
      give_up();
      throw *failure;
    }
    // Full jitter: a random wait up to base * 2^(attempt-1), capped; a server's hint wins.
    const auto ceiling = std::min<std::int64_t>(options_.backoff_cap.count(),
                                                options_.backoff_base.count() << (attempt - 1));
    std::int64_t wait_ms =
        wait_hint ? *wait_hint : std::uniform_int_distribution<std::int64_t>(0, ceiling)(rng);
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (wait_ms >= remaining) {  // the budget cannot cover the wait
      give_up();
      throw *failure;
    }
    observe(failure->status, true);
    http::log(spdlog::level::warn, http::LogLine("stream retry")
                                       .add("operation", operation)
                                       .add("attempt", attempt)
                                       .add("status", failure->status)
                                       .add("waitMs", wait_ms)
                                       .add("requestId", trace.request_id)
                                       .add("traceId", trace.trace_id));
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             std::chrono::milliseconds(wait_ms));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

// Each awaitable below is built in its own statement: [gcc12-co_await].
http::Task<void> StreamClient::upsert_users(std::vector<std::string> ids, http::Trace trace) {
  json::object users;
  for (const auto& id : ids) users[id] = json::object{{"id", id}};
  auto op = call(std::string("POST"), std::string("/api/v2/users"),
                 json::object{{"users", std::move(users)}}, std::move(trace));  // [gcc12-co_await]
  co_await std::move(op);
}

http::Task<json::object> StreamClient::get_or_create_call(std::string type, std::string id,
                                                          json::object data, http::Trace trace) {
  std::string path = "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id);
  auto op = call(std::string("POST"), std::move(path), json::object{{"data", std::move(data)}},
                 std::move(trace));  // [gcc12-co_await]
  co_return co_await std::move(op);
}

http::Task<json::object> StreamClient::update_call_members(std::string type, std::string id,
                                                           json::array update, http::Trace trace) {
  std::string path =
      "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id) + "/members";
  auto op = call(std::string("POST"), std::move(path),
                 json::object{{"update_members", std::move(update)}},
                 std::move(trace));  // [gcc12-co_await]
  co_return co_await std::move(op);
}

http::Task<void> StreamClient::mark_ended(std::string type, std::string id, http::Trace trace) {
  std::string path =
      "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id) + "/mark_ended";
  auto op = call(std::string("POST"), std::move(path), json::value(nullptr),
                 std::move(trace));  // [gcc12-co_await]
  co_await std::move(op);
}

http::Task<json::object> StreamClient::get_call(std::string type, std::string id,
                                                http::Trace trace) {
  std::string path = "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id);
  auto op = call(std::string("GET"), std::move(path), json::value(nullptr),
                 std::move(trace));  // [gcc12-co_await]
  co_return co_await std::move(op);
}

namespace {
json::array list_member(const json::object& r, std::string_view key) {
  const auto* list = r.if_contains(key);
  return list && list->is_array() ? list->get_array() : json::array{};
}
}  // namespace

http::Task<json::array> StreamClient::list_recordings(std::string type, std::string id,
                                                      http::Trace trace) {
  std::string path =
      "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id) + "/recordings";
  auto op = call(std::string("GET"), std::move(path), json::value(nullptr),
                 std::move(trace));  // [gcc12-co_await]
  const json::object r = co_await std::move(op);
  co_return list_member(r, "recordings");
}

http::Task<json::array> StreamClient::list_transcriptions(std::string type, std::string id,
                                                          http::Trace trace) {
  std::string path =
      "/api/v2/video/call/" + path_segment(type) + "/" + path_segment(id) + "/transcriptions";
  auto op = call(std::string("GET"), std::move(path), json::value(nullptr),
                 std::move(trace));  // [gcc12-co_await]
  const json::object r = co_await std::move(op);
  co_return list_member(r, "transcriptions");
}

}  // namespace streamgate::server
