#include "server/auth/app_jwt.hpp"

#include <boost/json/monotonic_resource.hpp>

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
                               std::string roles_claim, std::shared_ptr<JwksSource> jwks)
    : keys_(std::move(keys)),
      jwks_(std::move(jwks)),
      rules_(std::move(rules)),
      user_id_claim_(std::move(user_id_claim)),
      roles_claim_(std::move(roles_claim)) {}

namespace {
HttpError unauthenticated(std::string_view why) {
  return HttpError(401, "unauthenticated", "Authentication failed: " + std::string(why))
      .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
}
}  // namespace

core::JwtError AppJwtVerifier::check(std::string_view token, std::int64_t now, http::Principal* out,
                                     std::string* why) const {
  // The claims live only for this call: parsed into a buffer on the stack (a larger payload
  // spills to the heap), not one allocation per key.
  unsigned char buffer[1024];
  boost::json::monotonic_resource claims_memory(buffer, sizeof buffer);
  const auto decoded = core::decode_jwt(token, &claims_memory);
  if (!decoded.jwt) {
    *why = core::describe(decoded.error);
    return decoded.error;
  }
  core::JwtError err;
  if (jwks_ && decoded.jwt->alg != core::JwtAlg::hs256) {
    core::JwtKeys keys;
    keys.public_keys = keys_.public_keys;
    const auto fetched = jwks_->keys();
    keys.public_keys.insert(keys.public_keys.end(), fetched->begin(), fetched->end());
    err = core::verify_jwt(*decoded.jwt, keys, rules_, now);
  } else {
    err = core::verify_jwt(*decoded.jwt, keys_, rules_, now);
  }
  if (err != core::JwtError::none) {
    *why = core::describe(err);
    return err;
  }
  const auto& claims = decoded.jwt->claims;
  const auto* sub = claims.if_contains(user_id_claim_);
  if (sub == nullptr || !sub->is_string() || !core::is_valid_user_id(sub->get_string())) {
    *why = "token has no usable user id claim \"" + user_id_claim_ + "\"";
    return core::JwtError::malformed;
  }
  out->subject = std::string(sub->get_string());
  out->roles.clear();
  if (const auto* roles = claims.if_contains(roles_claim_)) {
    if (roles->is_string()) {
      out->roles.emplace_back(roles->get_string());
    } else if (roles->is_array()) {
      for (const auto& r : roles->get_array())
        if (r.is_string()) out->roles.emplace_back(r.get_string());
    }
  }
  return core::JwtError::none;
}

http::Task<http::Principal> AppJwtVerifier::verify(std::string_view token, std::int64_t now) const {
  http::Principal p;
  std::string why;
  auto err = check(token, now, &p, &why);
  // A key we have not fetched yet (rotation), or no keys yet: refresh once, within the cooldown.
  if (jwks_ && (err == core::JwtError::unknown_kid || err == core::JwtError::alg_not_allowed)) {
    const std::string copy(
        token);  // the view's buffer outlives us, but keep the frame self-contained
    auto refresh = jwks_->refresh();  // [gcc12-co_await]
    if (co_await std::move(refresh)) err = check(copy, now, &p, &why);
  }
  if (err != core::JwtError::none) throw unauthenticated(why);
  co_return p;
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
    auto verify = verifier->verify(token, unix_now());  // [gcc12-co_await]
    ctx.principal = co_await std::move(verify);
    co_return co_await next(req, ctx);
  };
}

}  // namespace streamgate::server
