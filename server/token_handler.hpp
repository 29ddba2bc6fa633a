#pragma once
// POST /api/v1/stream/token (SPEC §1.1).
#include <memory>

#include "core/crypto.hpp"
#include "http/pipeline.hpp"
#include "server/config.hpp"

namespace streamgate::server {

struct TokenRequestBody {
  std::optional<std::int64_t> validity_seconds;
  std::vector<std::string> call_cids;
  std::string role;
};
// Throws HttpError 400 invalid_request for anything but an empty body or a JSON object
// with well-typed optional members.
TokenRequestBody parse_token_request(std::string_view body);

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

http::Handler make_token_handler(std::shared_ptr<const TokenSettings> settings);

}  // namespace streamgate::server
