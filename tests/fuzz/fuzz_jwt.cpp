// App JWTs in every verification mode: HS256 with a fixed secret, RS256/ES256 with PEM keys, and
// the same keys read from a JWKS document; the input also serves as key material (a PEM, or a
// JWKS document whose keys are then used). The fuzzer reaches the claim checks too, because the
// input is also signed as a claim set with each kind of key. Extreme clocks throughout.
// Properties: a token this server signed never fails as bad_signature, in any mode; parsing
// key material fails only with std::runtime_error.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <climits>
#include <stdexcept>

#include "core/crypto.hpp"
#include "core/jwt.hpp"
#include "tests/fuzz/fuzz.hpp"
#include "tests/support/keys.hpp"

using namespace streamgate;
using namespace streamgate::core;

namespace {

struct Keys {
  test::KeyPair rsa = test::make_rsa_key(2048);
  test::KeyPair ec = test::make_ec_p256_key();
  JwtKeys hs256;
  JwtKeys pem;
  JwtKeys jwks;

  Keys() {
    hs256.hs256 = std::make_shared<HmacSha256Key>("fuzz-secret");
    pem.public_keys = {PublicKey::from_pem(rsa.public_pem), PublicKey::from_pem(ec.public_pem)};
    const std::string doc =
        R"({"keys":[)" + test::public_jwk(rsa, "r1") + "," + test::public_jwk(ec, "e1") + "]}";
    const auto parsed = boost::json::parse(doc);
    for (const auto& k : parsed.at("keys").as_array())
      jwks.public_keys.push_back(PublicKey::from_jwk(k.as_object()));
  }
};

const Keys& keys() {
  static const Keys k;
  return k;
}

constexpr std::int64_t kClocks[] = {1'900'000'000, 0, INT64_MAX, INT64_MIN};

void verify_everywhere(std::string_view token) {
  const auto decoded = decode_jwt(token);
  if (!decoded.jwt) return;
  JwtRules rules;
  rules.leeway_seconds = 30;
  for (const auto* k : {&keys().hs256, &keys().pem, &keys().jwks})
    for (const std::int64_t now : kClocks) (void)verify_jwt(*decoded.jwt, *k, rules, now);
}

void check_signed(const std::string& token, const JwtKeys& with) {
  const auto decoded = decode_jwt(token);
  if (!decoded.jwt) return;
  JwtRules rules;
  for (const std::int64_t now : kClocks)
    FUZZ_CHECK(verify_jwt(*decoded.jwt, with, rules, now) != JwtError::bad_signature);
}

// The input as key material: whatever it holds, the only failure is std::runtime_error, and
// keys that parse can be used.
void use_as_keys(std::string_view text, std::string_view token) {
  JwtKeys found;
  try {
    found.public_keys.push_back(PublicKey::from_pem(text));
  } catch (const std::runtime_error&) {
  }
  boost::system::error_code ec;
  const auto doc = boost::json::parse(text, ec);
  if (!ec && doc.is_object()) {
    const auto* list = doc.get_object().if_contains("keys");
    if (list && list->is_array()) {
      for (const auto& k : list->get_array()) {
        if (!k.is_object()) continue;
        try {
          found.public_keys.push_back(PublicKey::from_jwk(k.get_object()));
        } catch (const std::runtime_error&) {
        }
      }
    }
  }
  const auto decoded = decode_jwt(token);
  if (decoded.jwt && !found.public_keys.empty())
    (void)verify_jwt(*decoded.jwt, found, JwtRules{}, 1'900'000'000);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  verify_everywhere(text);
  // The input as a claim set, signed by each kind of key.
  const std::string hs = sign_hs256(text, *keys().hs256.hs256);
  check_signed(hs, keys().hs256);
  const std::string es = sign_with_private_key_pem(
      keys().ec.private_pem, R"({"alg":"ES256","typ":"JWT","kid":"e1"})", text);
  check_signed(es, keys().pem);
  check_signed(es, keys().jwks);
  // An HS256 token is never accepted by public keys, nor an ES256 one by the secret.
  if (const auto d = decode_jwt(hs); d.jwt)
    FUZZ_CHECK(verify_jwt(*d.jwt, keys().pem, JwtRules{}, 1'900'000'000) != JwtError::none);
  if (const auto d = decode_jwt(es); d.jwt)
    FUZZ_CHECK(verify_jwt(*d.jwt, keys().hs256, JwtRules{}, 1'900'000'000) != JwtError::none);
  if (size <= 16 * 1024) use_as_keys(text, es);
  return 0;
}
