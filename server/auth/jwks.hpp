#pragma once
// App JWT keys from a JWKS URL (docs/spec.md §1.2): fetched over HTTPS, cached, refreshed on a
// timer and when a token names a key we do not have — at most once per cooldown, so a stream of
// forged kids cannot make us hammer the JWKS host.
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/jwt.hpp"
#include "http/https_client.hpp"

namespace streamgate::server {

// Parses a JWKS document; keys that are not usable RSA/EC-P256 signing keys are skipped.
// Throws std::invalid_argument when the document is not a JWKS or holds no usable key.
std::vector<core::PublicKey> parse_jwks(std::string_view body);

class JwksSource final {
 public:
  // `on_failure` (optional) is called once per failed fetch with what went wrong.
  JwksSource(std::string url, std::shared_ptr<http::HttpsClient> client,
             std::chrono::seconds cooldown,
             std::function<void(const std::string& error)> on_failure = {});
  // Fetches now unless a fetch happened within the cooldown (or `force`). True when the key
  // set was replaced. A caller arriving while a fetch is under way waits for that fetch and
  // shares its result. Never throws: failures are logged and the old keys stay.
  http::Task<bool> refresh(bool force = false);
  std::shared_ptr<const std::vector<core::PublicKey>> keys() const;

 private:
  std::string url_;
  std::shared_ptr<http::HttpsClient> client_;
  std::chrono::seconds cooldown_;
  std::function<void(const std::string&)> on_failure_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<core::PublicKey>> keys_;
  std::chrono::steady_clock::time_point last_attempt_{};
  bool in_flight_ = false;
  std::uint64_t generation_ = 0;  // key sets installed so far
};

}  // namespace streamgate::server
