#pragma once
// Stream's server-side REST API (docs/stream-contract.md §2-§4): server auth (bare JWT
// {"server":true} in Authorization, stream-auth-type: jwt, api_key query parameter,
// X-Stream-Client), JSON, Stream error bodies, and retries with exponential backoff and full jitter
// on 429 (honouring Retry-After / X-RateLimit-Reset), 5xx and transport errors — never on
// unrecoverable errors — within a bounded number of attempts and a total time budget.
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/crypto.hpp"
#include "core/meeting.hpp"
#include "http/https_client.hpp"
#include "http/trace.hpp"
#include "http/types.hpp"
#include "server/clients/stream_error.hpp"

namespace streamgate::server {

struct StreamClientOptions {
  std::string base_url;
  std::string api_key;
  std::shared_ptr<const core::HmacSha256Key> secret;
  std::string client_version = "0.0.0";
  std::chrono::milliseconds attempt_timeout{3000};
  std::chrono::milliseconds budget{10000};  // all attempts and waits together
  int max_attempts = 3;
  std::chrono::milliseconds backoff_base{200};
  std::chrono::milliseconds backoff_cap{2000};
  // The server token's lifetime: iat is backdated by `server_token_skew`, exp is `ttl` from now,
  // and a new one is minted once half of it has passed (never one per request).
  std::chrono::seconds server_token_ttl{3600};
  std::chrono::seconds server_token_skew{5};
  // Called after every attempt: operation name, HTTP status (0: no answer), retried or not,
  // and the attempt's duration in seconds.
  std::function<void(std::string_view operation, int status, bool retry, double seconds)> observe;
};

class StreamClient final {
 public:
  StreamClient(StreamClientOptions options, std::shared_ptr<http::HttpsClient> client);

  // One API call; `path` starts with /api/v2/. Returns the parsed JSON body of a 2xx answer.
  // Every attempt carries the trace: `traceparent` (its trace id, a new span id) and
  // X-Request-Id; the Stream log lines name both.
  http::Task<boost::json::object> call(std::string method, std::string path,
                                       boost::json::value body, http::Trace trace);

  http::Task<void> upsert_users(std::vector<std::string> user_ids, http::Trace trace);
  http::Task<boost::json::object> get_or_create_call(std::string type, std::string id,
                                                     boost::json::object data, http::Trace trace);
  http::Task<boost::json::object> update_call_members(std::string type, std::string id,
                                                      boost::json::array update_members,
                                                      http::Trace trace);
  http::Task<void> mark_ended(std::string type, std::string id, http::Trace trace);
  http::Task<boost::json::object> get_call(std::string type, std::string id, http::Trace trace);
  http::Task<boost::json::array> list_recordings(std::string type, std::string id,
                                                 http::Trace trace);
  http::Task<boost::json::array> list_transcriptions(std::string type, std::string id,
                                                     http::Trace trace);

  // The server token to send now (thread-safe): the current one, or a new one past half-life.
  std::string server_token();

 private:
  StreamClientOptions options_;
  std::shared_ptr<http::HttpsClient> client_;
  std::mutex token_mutex_;
  std::string server_token_;
  std::chrono::steady_clock::time_point token_renew_at_{};
};

}  // namespace streamgate::server
