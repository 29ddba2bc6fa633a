#pragma once
// POST /api/v1/stream/token (docs/spec.md §1.1): parse the body, issue the token, answer.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/crypto.hpp"
#include "core/stream_token.hpp"
#include "http/pipeline.hpp"
#include "server/tokens/token_request.hpp"

namespace streamgate::server {

// Members of a call, for the "members" call-token policy; null until a store is wired.
using CallMembershipCheck =
    std::function<http::Task<bool>(std::string call_cid, std::string user_id)>;

struct TokenSettings {
  std::string api_key;
  std::shared_ptr<const core::HmacSha256Key> secret;
  std::int64_t default_ttl = 3600;
  std::int64_t min_ttl = 60;
  std::int64_t max_ttl = 86400;
  std::int64_t iat_skew = 5;
  std::string call_token_policy = "off";
  std::string admin_role = "admin";
  CallMembershipCheck is_member;
  std::function<void(bool call_token)> on_issued;
};

// The token service: checks the call-token policy for the caller (403 when it refuses) and
// signs the Stream token. Store failures propagate (mapped to 503 once, in app/).
http::Task<core::StreamToken> issue_token(const TokenSettings& settings,
                                          const http::Principal& caller,
                                          const TokenRequestBody& body, std::int64_t now_seconds);

// The adapter: parse_token_request → issue_token → the JSON answer and the audit line.
http::Handler make_token_handler(std::shared_ptr<const TokenSettings> settings);

}  // namespace streamgate::server
