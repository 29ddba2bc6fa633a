#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/base64url.hpp"
#include "core/jwt.hpp"
#include "tests/support/keys.hpp"

using namespace streamgate::core;
namespace json = boost::json;

namespace {

// RFC 7515 Appendix A: all three examples sign the same payload; exp 1300819380.
constexpr std::int64_t kBeforeExp = 1300819370;
const std::string kA1 =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const std::string kA1KeyB64 =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
const std::string kA2 =
    "eyJhbGciOiJSUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_"
    "O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_"
    "nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-"
    "eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igc"
    "N_IoypGlUPQGe77Rw";
const std::string kA2Jwk =
    R"({"kty":"RSA",)"
    R"("n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEz)"
    R"(P1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaS)"
    R"(HSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_)"
    R"(I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",)"
    R"("e":"AQAB"})";
const std::string kA3 =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";
const std::string kA3Jwk =
    R"({"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
    R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})";

JwtKeys hs_keys(const std::string& secret) {
  JwtKeys k;
  k.hs256 = std::make_shared<HmacSha256Key>(secret);
  return k;
}

JwtKeys pub_keys(PublicKey key) {
  JwtKeys k;
  k.public_keys.push_back(std::move(key));
  return k;
}

JwtError check(const std::string& token, const JwtKeys& keys, const JwtRules& rules,
               std::int64_t now) {
  const auto d = decode_jwt(token);
  if (!d.jwt) return d.error;
  return verify_jwt(*d.jwt, keys, rules, now);
}

std::string hs(const std::string& secret, const std::string& claims,
               const std::string& header = R"({"alg":"HS256","typ":"JWT"})") {
  return sign_hs256(header, claims, HmacSha256Key(secret));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jwt)

BOOST_AUTO_TEST_CASE(rfc7515_a1_hs256_verifies) {
  const auto key = *base64url_decode(kA1KeyB64);
  const auto d = decode_jwt(kA1);
  BOOST_TEST_REQUIRE(d.jwt.has_value());
  BOOST_TEST(d.jwt->claims.at("iss").as_string() == "joe");
  BOOST_TEST(verify_jwt(*d.jwt, hs_keys(key), {}, kBeforeExp) == JwtError::none);
  BOOST_TEST(verify_jwt(*d.jwt, hs_keys(key), {}, 1300819380 + 31) == JwtError::expired);
  BOOST_TEST(verify_jwt(*d.jwt, hs_keys("other"), {}, kBeforeExp) == JwtError::bad_signature);
}

BOOST_AUTO_TEST_CASE(rfc7515_a1_hs256_signature_is_reproduced) {
  // The signing input is the RFC's exact header and payload bytes.
  const auto key = *base64url_decode(kA1KeyB64);
  const std::string header = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
  const std::string payload =
      "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
  BOOST_TEST(sign_hs256(header, payload, HmacSha256Key(key)) == kA1);
}

BOOST_AUTO_TEST_CASE(rfc7515_a2_rs256_verifies_with_jwk) {
  const auto key = PublicKey::from_jwk(json::parse(kA2Jwk).as_object());
  BOOST_TEST((key.alg() == JwtAlg::rs256));
  BOOST_TEST(check(kA2, pub_keys(key), {}, kBeforeExp) == JwtError::none);
  std::string tampered = kA2;
  tampered[30] = tampered[30] == 'A' ? 'B' : 'A';
  BOOST_TEST(check(tampered, pub_keys(key), {}, kBeforeExp) != JwtError::none);
}

BOOST_AUTO_TEST_CASE(rfc7515_a3_es256_verifies_with_jwk) {
  const auto key = PublicKey::from_jwk(json::parse(kA3Jwk).as_object());
  BOOST_TEST((key.alg() == JwtAlg::es256));
  BOOST_TEST(check(kA3, pub_keys(key), {}, kBeforeExp) == JwtError::none);
  // The RS256 key cannot verify an ES256 token: the algorithm is bound to the key type.
  const auto rsa = PublicKey::from_jwk(json::parse(kA2Jwk).as_object());
  BOOST_TEST(check(kA3, pub_keys(rsa), {}, kBeforeExp) == JwtError::alg_not_allowed);
}

BOOST_AUTO_TEST_CASE(generated_rsa_and_ec_keys_sign_and_verify_via_pem) {
  for (const auto& kp : {streamgate::test::make_rsa_key(), streamgate::test::make_ec_p256_key()}) {
    const auto pub = PublicKey::from_pem(kp.public_pem);
    const std::string header =
        pub.alg() == JwtAlg::rs256 ? R"({"alg":"RS256"})" : R"({"alg":"ES256"})";
    const std::string token =
        sign_with_private_key_pem(kp.private_pem, header, R"({"sub":"bob","exp":2000000000})");
    BOOST_TEST_CONTEXT(to_string(pub.alg())) {
      BOOST_TEST(check(token, pub_keys(pub), {}, 1900000000) == JwtError::none);
      const auto other = PublicKey::from_pem(pub.alg() == JwtAlg::rs256
                                                 ? streamgate::test::make_rsa_key().public_pem
                                                 : streamgate::test::make_ec_p256_key().public_pem);
      BOOST_TEST(check(token, pub_keys(other), {}, 1900000000) == JwtError::bad_signature);
    }
  }
}

BOOST_AUTO_TEST_CASE(hs256_token_is_never_checked_against_a_public_key) {
  // Key confusion: an attacker signs HS256 with the public key's PEM text as the secret.
  const auto kp = streamgate::test::make_rsa_key();
  const auto token = hs(kp.public_pem, R"({"sub":"mallory","exp":2000000000})");
  BOOST_TEST(check(token, pub_keys(PublicKey::from_pem(kp.public_pem)), {}, 1900000000) ==
             JwtError::alg_not_allowed);
}

BOOST_AUTO_TEST_CASE(alg_none_and_unknown_algorithms_are_rejected) {
  const std::string claims = base64url_encode(R"({"sub":"a","exp":2000000000})");
  for (const char* header :
       {R"({"alg":"none"})", R"({"alg":"None"})", R"({"alg":"HS512"})", R"({"alg":"PS256"})"}) {
    BOOST_TEST_CONTEXT(header) {
      const std::string token = base64url_encode(header) + "." + claims + ".";
      BOOST_TEST(check(token, hs_keys("s"), {}, 1900000000) != JwtError::none);
      const std::string token2 =
          base64url_encode(header) + "." + claims + "." + base64url_encode("sig");
      BOOST_TEST(check(token2, hs_keys("s"), {}, 1900000000) == JwtError::alg_not_allowed);
    }
  }
}

BOOST_AUTO_TEST_CASE(malformed_tokens) {
  const std::string good = hs("s", R"({"sub":"a","exp":2000000000})");
  const std::vector<std::string> bad = {
      "",
      "abc",
      "a.b",
      "a.b.c.d",
      good + ".",
      "." + good,
      base64url_encode("[1]") + "." + base64url_encode("{}") + ".c2ln",  // header not an object
      base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode("nope") +
          ".c2ln",  // claims not JSON
      base64url_encode(R"({"alg":"HS256","crit":["exp"]})") + "." + base64url_encode("{}") +
          ".c2ln",
      base64url_encode(R"({"alg":"HS256"})") + "." + base64url_encode("{}") + ".c2ln=",  // padding
      std::string(20000, 'a'),
  };
  for (const auto& t : bad) {
    BOOST_TEST_CONTEXT(t.substr(0, 60)) {
      BOOST_TEST(check(t, hs_keys("s"), {}, 1900000000) == JwtError::malformed);
    }
  }
}

// Claims can be parsed into the caller's memory (the app-JWT check passes a stack buffer): they
// are allocated there, read the same, and verify the same as with the default heap; a payload
// larger than the buffer spills to the resource's upstream and still reads whole.
BOOST_AUTO_TEST_CASE(claims_are_parsed_into_the_storage_given) {
  const std::string secret = "claims-storage-secret";
  const auto small = hs(secret, R"({"sub":"user-1","exp":1900000100,"roles":["a","b"]})");
  std::string many = R"({"sub":"user-2","exp":1900000100)";
  for (int i = 0; i < 200; ++i)
    many += ",\"claim_" + std::to_string(i) + "\":\"" + std::string(20, 'x') + "\"";
  many += "}";
  const auto large = hs(secret, many);
  for (const auto& [token, sub, size] : {std::tuple{small, "user-1", std::size_t{3}},
                                         std::tuple{large, "user-2", std::size_t{202}}}) {
    unsigned char buffer[512];
    boost::json::monotonic_resource memory(buffer, sizeof buffer);
    const auto d = decode_jwt(token, &memory);
    BOOST_TEST_REQUIRE(d.jwt.has_value());
    BOOST_TEST(d.jwt->claims.storage().get() == &memory);
    BOOST_TEST(d.jwt->claims.at("sub").as_string() == sub);
    BOOST_TEST(d.jwt->claims.size() == size);
    BOOST_TEST(verify_jwt(*d.jwt, hs_keys(secret), {}, 1'900'000'000) == JwtError::none);
    BOOST_TEST(verify_jwt(*d.jwt, hs_keys("other"), {}, 1'900'000'000) == JwtError::bad_signature);
    const auto on_heap = decode_jwt(token);
    BOOST_TEST(on_heap.jwt->claims.storage().get() != &memory);
    BOOST_TEST(on_heap.jwt->claims == d.jwt->claims);
  }
}

BOOST_AUTO_TEST_CASE(time_claims_with_leeway) {
  JwtRules rules;
  rules.leeway_seconds = 30;
  const std::int64_t now = 1'900'000'000;
  struct Case {
    const char* name;
    std::string claims;
    JwtError expected;
  };
  const std::vector<Case> table = {
      {"valid", R"({"sub":"a","exp":1900000100})", JwtError::none},
      {"expired beyond leeway", R"({"sub":"a","exp":1899999960})", JwtError::expired},
      {"expired within leeway", R"({"sub":"a","exp":1899999990})", JwtError::none},
      {"nbf in the future", R"({"sub":"a","exp":1900000100,"nbf":1900000060})",
       JwtError::not_yet_valid},
      {"nbf within leeway", R"({"sub":"a","exp":1900000100,"nbf":1900000010})", JwtError::none},
      {"iat in the future", R"({"sub":"a","exp":1900000100,"iat":1900000100})",
       JwtError::not_yet_valid},
      {"fractional exp", R"({"sub":"a","exp":1900000100.5})", JwtError::none},
      {"string exp", R"({"sub":"a","exp":"1900000100"})", JwtError::malformed},
      {"missing exp", R"({"sub":"a"})", JwtError::missing_exp},
      // Extremes: compared with saturating arithmetic, never overflowing exp + leeway.
      {"exp INT64_MAX", R"({"sub":"a","exp":9223372036854775807})", JwtError::none},
      {"exp above INT64_MAX", R"({"sub":"a","exp":18446744073709551615})", JwtError::none},
      {"exp 1e308", R"({"sub":"a","exp":1e308})", JwtError::none},
      {"exp INT64_MIN", R"({"sub":"a","exp":-9223372036854775808})", JwtError::expired},
      {"exp -1e308", R"({"sub":"a","exp":-1e308})", JwtError::expired},
      {"nbf INT64_MAX", R"({"sub":"a","exp":1900000100,"nbf":9223372036854775807})",
       JwtError::not_yet_valid},
      {"nbf INT64_MIN", R"({"sub":"a","exp":1900000100,"nbf":-9223372036854775808})",
       JwtError::none},
      {"iat INT64_MAX", R"({"sub":"a","exp":1900000100,"iat":9223372036854775807})",
       JwtError::not_yet_valid},
  };
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST(check(hs("k", c.claims), hs_keys("k"), rules, now) == c.expected);
    }
  }
  rules.require_exp = false;
  BOOST_TEST(check(hs("k", R"({"sub":"a"})"), hs_keys("k"), rules, now) == JwtError::none);
  // A clock at the end of int64 does not overflow now + leeway either.
  BOOST_TEST(check(hs("k", R"({"sub":"a","nbf":1})"), hs_keys("k"), rules, INT64_MAX) ==
             JwtError::none);
  BOOST_TEST(check(hs("k", R"({"sub":"a","exp":1})"), hs_keys("k"), rules, INT64_MAX) ==
             JwtError::expired);
}

BOOST_AUTO_TEST_CASE(issuer_and_audience) {
  JwtRules rules;
  rules.issuer = "https://login.example";
  rules.audience = "streamgate";
  const std::int64_t now = 1'900'000'000;
  const auto run = [&](const std::string& claims) {
    return check(hs("k", claims), hs_keys("k"), rules, now);
  };
  BOOST_TEST(run(R"({"exp":1900000100,"iss":"https://login.example","aud":"streamgate"})") ==
             JwtError::none);
  BOOST_TEST(run(R"({"exp":1900000100,"iss":"https://login.example","aud":["x","streamgate"]})") ==
             JwtError::none);
  BOOST_TEST(run(R"({"exp":1900000100,"iss":"https://evil.example","aud":"streamgate"})") ==
             JwtError::wrong_issuer);
  BOOST_TEST(run(R"({"exp":1900000100,"aud":"streamgate"})") == JwtError::wrong_issuer);
  BOOST_TEST(run(R"({"exp":1900000100,"iss":"https://login.example","aud":"other"})") ==
             JwtError::wrong_audience);
  BOOST_TEST(run(R"({"exp":1900000100,"iss":"https://login.example"})") ==
             JwtError::wrong_audience);
}

BOOST_AUTO_TEST_CASE(kid_selects_the_key) {
  auto a = json::parse(kA3Jwk).as_object();
  a["kid"] = "key-a";
  const auto key = PublicKey::from_jwk(a);
  BOOST_TEST(key.kid() == "key-a");
  const std::string payload = kA3.substr(kA3.find('.') + 1);
  const std::string with_kid_b =
      base64url_encode(R"({"alg":"ES256","kid":"key-b"})") + "." + payload;
  BOOST_TEST(check(with_kid_b, pub_keys(key), {}, kBeforeExp) == JwtError::unknown_kid);
}

BOOST_AUTO_TEST_CASE(a_header_seen_before_decides_as_its_first_parse_did) {
  // decode_jwt keeps a thread's last few accepted headers: a repeat shares the first parse,
  // more distinct headers than it keeps still decode each as its own, and a refused header
  // (unknown alg, crit, not JSON) is refused every time, whatever was seen before it.
  const std::string claims = R"({"sub":"a","exp":2000000000})";
  const auto first = decode_jwt(hs("s", claims));
  const auto again = decode_jwt(hs("s", claims));
  BOOST_TEST_REQUIRE(first.jwt.has_value());
  BOOST_TEST_REQUIRE(again.jwt.has_value());
  BOOST_TEST((first.jwt->header == again.jwt->header));  // one parse, shared
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 9; ++i) {
      const std::string kid = "k" + std::to_string(i);
      const auto d = decode_jwt(hs("s", claims, R"({"alg":"HS256","kid":")" + kid + R"("})"));
      BOOST_TEST_REQUIRE(d.jwt.has_value());
      BOOST_TEST(d.jwt->kid == kid);
      BOOST_TEST(d.jwt->header->at("kid").as_string() == kid);
      BOOST_TEST(check(hs("s", claims, R"({"alg":"HS256","kid":")" + kid + R"("})"), hs_keys("s"),
                       {}, 1900000000) == JwtError::none);
    }
    BOOST_TEST(check(hs("s", claims, R"({"alg":"HS256","crit":["x"]})"), hs_keys("s"), {},
                     1900000000) == JwtError::malformed);
    BOOST_TEST(check(base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(claims) + "." +
                         base64url_encode("sig"),
                     hs_keys("s"), {}, 1900000000) == JwtError::alg_not_allowed);
  }
  // The same bytes as a cached header but a different signature are still verified.
  std::string forged = hs("s", claims);
  char& c = forged[forged.size() - 10];  // inside the signature, all six bits data
  c = c == 'A' ? 'B' : 'A';
  BOOST_TEST(check(forged, hs_keys("s"), {}, 1900000000) == JwtError::bad_signature);
}

BOOST_AUTO_TEST_CASE(unusable_keys_are_refused) {
  BOOST_CHECK_THROW(PublicKey::from_pem("not a key"), std::runtime_error);
  BOOST_CHECK_THROW(PublicKey::from_pem(streamgate::test::make_rsa_key(1024).public_pem),
                    std::runtime_error);
  BOOST_CHECK_THROW(PublicKey::from_jwk(json::parse(R"({"kty":"oct","k":"AAAA"})").as_object()),
                    std::runtime_error);
  auto wrong_alg = json::parse(kA2Jwk).as_object();
  wrong_alg["alg"] = "ES256";
  BOOST_CHECK_THROW(PublicKey::from_jwk(wrong_alg), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()
