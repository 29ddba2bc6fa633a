#pragma once
// Verifies the app's own login JWTs (docs/spec.md §1.2) and yields the caller as a Principal.
#include <cstdint>
#include <memory>
#include <string>

#include "core/jwt.hpp"
#include "http/pipeline.hpp"
#include "server/auth/jwks.hpp"

namespace streamgate::server {

class AppJwtVerifier final {
 public:
  AppJwtVerifier(core::JwtKeys keys, core::JwtRules rules, std::string user_id_claim,
                 std::string roles_claim, std::shared_ptr<JwksSource> jwks = nullptr);

  // Throws http::HttpError 401 unauthenticated with a clear reason. With a JWKS, a token
  // signed by a key we do not know yet makes the key set refresh (within its cooldown).
  http::Task<http::Principal> verify(std::string_view token, std::int64_t now_seconds) const;

  const std::shared_ptr<JwksSource>& jwks() const { return jwks_; }

 private:
  // The JWT error, or none with *out filled.
  core::JwtError check(std::string_view token, std::int64_t now, http::Principal* out,
                       std::string* why) const;
  core::JwtKeys keys_;
  std::shared_ptr<JwksSource> jwks_;
  core::JwtRules rules_;
  std::string user_id_claim_;
  std::string roles_claim_;
};

// The bearer token from an Authorization header value, or empty.
std::string_view bearer_token(std::string_view authorization);

// Guard: requires a valid app JWT and sets ctx.principal.
http::Middleware require_app_jwt(std::shared_ptr<const AppJwtVerifier> verifier);

std::int64_t unix_now();

}  // namespace streamgate::server
