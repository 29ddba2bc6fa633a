#pragma once
// Stream user and call tokens (docs/stream-contract.md §1): HS256 with header
// {"alg":"HS256","typ":"JWT"}, claims user_id[, call_cids][, role], iat, exp as integers.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"

namespace streamgate::core {

struct StreamTokenRequest {
  std::string user_id;
  std::int64_t now_seconds = 0;
  std::int64_t validity_seconds = 3600;
  std::int64_t iat_skew_seconds = 5;  // iat = now - skew, so Stream never sees it in the future
  std::vector<std::string> call_cids;
  std::string role;
};

struct StreamToken {
  std::string token;
  std::int64_t iat = 0;
  std::int64_t exp = 0;
};

// The claim set as compact JSON in the contract's key order.
std::string stream_token_claims(std::string_view user_id, const std::vector<std::string>& call_cids,
                                std::string_view role, std::int64_t iat, std::int64_t exp);

StreamToken make_stream_token(const StreamTokenRequest& req, const HmacSha256Key& secret);

// {"server":true}, no iat/exp: the official SDKs' server-to-server token (never expires).
std::string make_stream_server_token(const HmacSha256Key& secret);
// {"server":true,"iat":...,"exp":...}: the seed's server token, valid from `iat` until `exp`
// (streamgate sends this one: an hour by default, re-minted before it runs out).
std::string make_stream_server_token(const HmacSha256Key& secret, std::int64_t iat,
                                     std::int64_t exp);

}  // namespace streamgate::core
