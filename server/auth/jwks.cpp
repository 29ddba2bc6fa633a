#include "server/auth/jwks.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/parse.hpp>

#include "http/log.hpp"

namespace streamgate::server {
namespace json = boost::json;

std::vector<core::PublicKey> parse_jwks(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) throw std::invalid_argument("JWKS is not a JSON object");
  const auto* keys = v.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array())
    throw std::invalid_argument("JWKS has no \"keys\" array");
  std::vector<core::PublicKey> out;
  for (const auto& k : keys->get_array()) {
    if (!k.is_object()) continue;
    try {
      out.push_back(core::PublicKey::from_jwk(k.get_object()));
    } catch (const std::exception&) {
      // Encryption keys, other curves, symmetric keys: not for verifying our tokens.
    }
  }
  if (out.empty()) throw std::invalid_argument("JWKS holds no usable RS256/ES256 signing key");
  return out;
}

JwksSource::JwksSource(std::string url, std::shared_ptr<http::HttpsClient> client,
                       std::chrono::seconds cooldown,
                       std::function<void(const std::string&)> on_failure)
    : url_(std::move(url)),
      client_(std::move(client)),
      cooldown_(cooldown),
      on_failure_(std::move(on_failure)),
      keys_(std::make_shared<const std::vector<core::PublicKey>>()) {}

std::shared_ptr<const std::vector<core::PublicKey>> JwksSource::keys() const {
  std::lock_guard lock(mutex_);
  return keys_;
}

http::Task<bool> JwksSource::refresh(bool force) {
  std::uint64_t seen = 0;
  bool wait = false;
  {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    seen = generation_;
    if (in_flight_) {
      wait = true;
    } else {
      if (!force && last_attempt_.time_since_epoch().count() != 0 &&
          now - last_attempt_ < cooldown_)
        co_return false;
      in_flight_ = true;
      last_attempt_ = now;
    }
  }
  if (wait) {
    // Another request is fetching: wait for it (bounded by the fetch's own timeout) and use
    // what it got, rather than refusing a token that the new key set would accept.
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    for (int i = 0; i < 700; ++i) {
      {
        std::lock_guard lock(mutex_);
        if (!in_flight_) co_return generation_ != seen;
      }
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    }
    co_return false;
  }
  // Cleared however this frame ends (even destroyed unfinished with its io_context).
  struct InFlight {
    JwksSource* self;
    ~InFlight() {
      std::lock_guard lock(self->mutex_);
      self->in_flight_ = false;
    }
  } in_flight{this};
  std::string error;
  std::shared_ptr<const std::vector<core::PublicKey>> fresh;
  try {
    http::ClientRequest req;
    req.url = url_;
    req.headers = {{"Accept", "application/json"}};
    req.timeout = std::chrono::seconds(5);
    auto op = client_->request(std::move(req));  // [gcc12-co_await]
    const auto res = co_await std::move(op);
    if (res.status != 200)
      throw std::runtime_error("JWKS answered HTTP " + std::to_string(res.status));
    fresh = std::make_shared<const std::vector<core::PublicKey>>(parse_jwks(res.body));
  } catch (const std::exception& e) {
    error = e.what();
  }
  if (!fresh) {
    http::log(spdlog::level::warn, http::LogLine("jwks refresh failed").add("error", error));
    if (on_failure_) on_failure_(error);
    co_return false;
  }
  http::log(spdlog::level::info,
            http::LogLine("jwks refreshed").add("keys", static_cast<std::int64_t>(fresh->size())));
  {
    std::lock_guard lock(mutex_);
    keys_ = std::move(fresh);
    ++generation_;
  }
  co_return true;
}

}  // namespace streamgate::server
