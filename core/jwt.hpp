#pragma once
// JSON Web Tokens (RFC 7519) in JWS compact form (RFC 7515): HS256 signing and verification,
// RS256/ES256 verification with public keys from PEM or JWK, and claim validation.
#include <boost/json/object.hpp>

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/crypto.hpp"

namespace streamgate::core {

enum class JwtAlg { hs256, rs256, es256 };
std::optional<JwtAlg> parse_jwt_alg(std::string_view name);
std::string_view to_string(JwtAlg alg);

// header {"alg":"HS256","typ":"JWT"} exactly, as Stream expects.
std::string sign_hs256(std::string_view payload_json, const HmacSha256Key& key);
std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       const HmacSha256Key& key);

// An RSA (>= 2048 bits) or EC P-256 public key. Its algorithm is fixed by its type, so an
// HS256 token can never be checked against it (no key confusion).
class PublicKey final {
 public:
  static PublicKey from_pem(std::string_view pem);            // throws std::runtime_error
  static PublicKey from_jwk(const boost::json::object& jwk);  // throws std::runtime_error
  JwtAlg alg() const { return alg_; }
  const std::string& kid() const { return kid_; }
  bool verify(std::string_view signing_input, std::string_view signature) const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
  JwtAlg alg_ = JwtAlg::rs256;
  std::string kid_;
};

// Signs with a PEM private key (RSA → RS256, EC P-256 → ES256). For tools and tests.
std::string sign_with_private_key_pem(std::string_view pem, std::string_view header_json,
                                      std::string_view payload_json);

enum class JwtError {
  none,
  malformed,        // not three base64url parts of JSON objects
  alg_not_allowed,  // "none", unknown, or not configured
  unknown_kid,      // a kid no configured key has (JWKS callers refresh and retry)
  bad_signature,
  expired,
  not_yet_valid,
  missing_exp,
  wrong_issuer,
  wrong_audience,
};
std::string_view describe(JwtError e);
std::ostream& operator<<(std::ostream& os, JwtError e);

struct DecodedJwt {
  JwtAlg alg = JwtAlg::hs256;
  std::string kid;
  // Shared, never null after a decode: one issuer's tokens carry the same header bytes, and its
  // parse is kept per thread for the last few distinct ones (decode_jwt).
  std::shared_ptr<const boost::json::object> header;
  boost::json::object claims;
  std::string_view signing_input;  // view into the token passed to decode_jwt
  std::string signature;
};

struct JwtDecodeResult {
  std::optional<DecodedJwt> jwt;
  JwtError error = JwtError::none;
};
// The claims are allocated from `claims_storage` (the default heap when empty): a caller that
// reads them and lets them go can pass a stack-backed monotonic resource that outlives the result.
JwtDecodeResult decode_jwt(std::string_view token, boost::json::storage_ptr claims_storage = {});

struct JwtKeys {
  std::shared_ptr<const HmacSha256Key> hs256;  // null: HS256 not allowed
  std::vector<PublicKey> public_keys;          // allow RS256/ES256 by their types
};

struct JwtRules {
  std::string issuer;    // empty: not checked
  std::string audience;  // empty: not checked
  std::int64_t leeway_seconds = 30;
  bool require_exp = true;
};

// Checks signature (with the key matching alg and kid) and then exp/nbf/iss/aud.
JwtError verify_jwt(const DecodedJwt& jwt, const JwtKeys& keys, const JwtRules& rules,
                    std::int64_t now_seconds);

}  // namespace streamgate::core
