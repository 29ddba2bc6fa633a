#include "server/auth.hpp"

#include <chrono>
#include <fstream>
#include <sstream>

#include "core/ids.hpp"

namespace streamgate::server {

using http::HttpError;

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

AppJwtVerifier::AppJwtVerifier(core::JwtKeys keys, core::JwtRules rules, std::string user_id_claim,
                               std::string roles_claim)
    : keys_(std::move(keys)),
      rules_(std::move(rules)),
      user_id_claim_(std::move(user_id_claim)),
      roles_claim_(std::move(roles_claim)) {}

std::shared_ptr<AppJwtVerifier> AppJwtVerifier::from_config(const Config& c) {
  core::JwtKeys keys;
  if (!c.auth_jwt_secret.empty())
    keys.hs256 = std::make_shared<const core::HmacSha256Key>(c.auth_jwt_secret);
  if (!c.auth_jwt_public_key_file.empty()) {
    std::ifstream in(c.auth_jwt_public_key_file);
    if (!in) throw ConfigError("AUTH_JWT_PUBLIC_KEY_FILE cannot be read: " + c.auth_jwt_public_key_file);
    std::stringstream pem;
    pem << in.rdbuf();
    try {
      keys.public_keys.push_back(core::PublicKey::from_pem(pem.str()));
    } catch (const std::exception& e) {
      throw ConfigError("AUTH_JWT_PUBLIC_KEY_FILE is not a usable public key: " + std::string(e.what()));
    }
  }
  core::JwtRules rules;
  rules.issuer = c.auth_jwt_issuer;
  rules.audience = c.auth_jwt_audience;
  rules.leeway_seconds = c.auth_leeway_seconds;
  rules.require_exp = c.auth_require_exp;
  return std::make_shared<AppJwtVerifier>(std::move(keys), std::move(rules), c.auth_user_id_claim,
                                          c.auth_roles_claim);
}

http::Principal AppJwtVerifier::verify(std::string_view token, std::int64_t now) const {
  auto fail = [](std::string_view why) {
    return HttpError(401, "unauthenticated", "Authentication failed: " + std::string(why))
        .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  };
  const auto decoded = core::decode_jwt(token);
  if (!decoded.jwt) throw fail(core::describe(decoded.error));
  const auto err = core::verify_jwt(*decoded.jwt, keys_, rules_, now);
  if (err != core::JwtError::none) throw fail(core::describe(err));

  const auto& claims = decoded.jwt->claims;
  const auto* sub = claims.if_contains(user_id_claim_);
  if (sub == nullptr || !sub->is_string() || !core::is_valid_user_id(sub->get_string()))
    throw fail("token has no usable user id claim \"" + user_id_claim_ + "\"");
  http::Principal p;
  p.subject = std::string(sub->get_string());
  if (const auto* roles = claims.if_contains(roles_claim_)) {
    if (roles->is_string()) {
      p.roles.emplace_back(roles->get_string());
    } else if (roles->is_array()) {
      for (const auto& r : roles->get_array())
        if (r.is_string()) p.roles.emplace_back(r.get_string());
    }
  }
  return p;
}

std::string_view bearer_token(std::string_view h) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  if (h.size() < 7 || !http::iequals(h.substr(0, 6), "bearer") || h[6] != ' ') return {};
  h.remove_prefix(7);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  return h;
}

http::Middleware require_app_jwt(std::shared_ptr<const AppJwtVerifier> verifier) {
  return [verifier = std::move(verifier)](http::Request& req, http::Context& ctx,
                                          http::Next next) -> http::Task<http::Response> {
    const std::string_view token = bearer_token(req.header("authorization"));
    if (token.empty())
      throw HttpError(401, "unauthenticated", "Missing bearer token in the Authorization header")
          .with_header("WWW-Authenticate", "Bearer");
    ctx.principal = verifier->verify(token, unix_now());
    co_return co_await next(req, ctx);
  };
}

}  // namespace streamgate::server
