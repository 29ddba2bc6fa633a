#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/base64url.hpp"
#include "core/jwt.hpp"
#include "core/time.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/keys.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

const std::string kTokenPath = "/api/v1/stream/token";

HttpResponse post_token(std::uint16_t port, const std::string& jwt, const std::string& body = "",
                        Headers extra = {}) {
  Headers h = {{"Authorization", "Bearer " + jwt}, {"Content-Type", "application/json"}};
  for (auto& e : extra) h.push_back(e);
  return http_request(port, "POST", kTokenPath, h, body);
}

void expect_error(const HttpResponse& r, int status, const std::string& code) {
  BOOST_TEST(r.status == status);
  const auto body = r.json().as_object();
  BOOST_TEST(body.at("success").as_bool() == false);
  BOOST_TEST(body.at("error").at("code").as_string() == code);
  BOOST_TEST(!body.at("message").as_string().empty());
  BOOST_TEST(body.at("error").at("requestId").as_string() == r.header("x-request-id"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(token_endpoint)

BOOST_AUTO_TEST_CASE(issues_a_stream_token_for_the_caller) {
  RunningApp app;
  const std::int64_t before = server::unix_now();
  const auto r = post_token(app.port, app_jwt("alice"), "", {{"X-Request-Id", "req-1"}});
  const std::int64_t after = server::unix_now();
  BOOST_TEST_REQUIRE(r.status == 200);
  BOOST_TEST(r.header("cache-control") == "no-store");
  BOOST_TEST(r.header("x-request-id") == "req-1");
  BOOST_TEST(r.header("content-type").find("application/json") == 0u);
  const auto body = r.json().as_object();
  BOOST_TEST(body.at("success").as_bool());
  BOOST_TEST(body.at("message").as_string() == "Token generated successfully");
  const auto& data = body.at("data").as_object();
  BOOST_TEST(data.at("userId").as_string() == "alice");
  BOOST_TEST(data.at("apiKey").as_string() == kStreamKey);

  const std::string token(data.at("token").as_string());
  BOOST_TEST(token.substr(0, token.find('.')) ==
             core::base64url_encode(R"({"alg":"HS256","typ":"JWT"})"));
  const auto decoded = core::decode_jwt(token);
  BOOST_TEST_REQUIRE(decoded.jwt.has_value());
  core::JwtKeys keys;
  keys.hs256 = std::make_shared<core::HmacSha256Key>(kStreamSecret);
  BOOST_TEST(core::verify_jwt(*decoded.jwt, keys, {}, after) == core::JwtError::none);
  const auto& claims = decoded.jwt->claims;
  BOOST_TEST(claims.at("user_id").as_string() == "alice");
  BOOST_TEST(claims.at("iat").is_int64());
  BOOST_TEST(claims.at("exp").is_int64());
  const auto iat = claims.at("iat").as_int64();
  const auto exp = claims.at("exp").as_int64();
  BOOST_TEST(iat >= before - 5);
  BOOST_TEST(iat <= after - 5);
  BOOST_TEST(exp - (iat + 5) == 3600);
  BOOST_TEST(data.at("expiresAt").as_string() == core::format_rfc3339(exp));
  BOOST_TEST(!claims.contains("call_cids"));
  BOOST_TEST(claims.size() == 3u);
}

BOOST_AUTO_TEST_CASE(validity_is_clamped_to_configured_bounds) {
  RunningApp app({{"TOKEN_TTL_MIN_SECONDS", "60"}, {"TOKEN_TTL_MAX_SECONDS", "86400"}});
  const auto exp_minus_iat = [&](const std::string& body) {
    const auto r = post_token(app.port, app_jwt("bob"), body);
    BOOST_TEST_REQUIRE(r.status == 200);
    const auto d = core::decode_jwt(std::string(r.json().at("data").at("token").as_string()));
    return d.jwt->claims.at("exp").as_int64() - d.jwt->claims.at("iat").as_int64() - 5;
  };
  BOOST_TEST(exp_minus_iat(R"({"validitySeconds":120})") == 120);
  BOOST_TEST(exp_minus_iat(R"({"validitySeconds":5})") == 60);
  BOOST_TEST(exp_minus_iat(R"({"validitySeconds":-100})") == 60);
  BOOST_TEST(exp_minus_iat(R"({"validitySeconds":999999999})") == 86400);
  BOOST_TEST(exp_minus_iat(R"({"validitySeconds":null})") == 3600);
  BOOST_TEST(exp_minus_iat("{}") == 3600);
  BOOST_TEST(exp_minus_iat("  ") == 3600);
}

BOOST_AUTO_TEST_CASE(rejects_bad_app_jwts_with_401) {
  RunningApp app;
  const std::int64_t now = server::unix_now();
  const std::string claims_ok = json::serialize(json::object{{"sub", "alice"}, {"exp", now + 600}});
  struct Case {
    const char* name;
    Headers headers;
  };
  const auto bearer = [](const std::string& t) {
    return Headers{{"Authorization", "Bearer " + t}};
  };
  const std::vector<Case> table = {
      {"missing header", {}},
      {"basic scheme", {{"Authorization", "Basic YWxpY2U6cHc="}}},
      {"empty bearer", {{"Authorization", "Bearer "}}},
      {"malformed", bearer("not-a-jwt")},
      {"two parts", bearer("a.b")},
      {"alg none", bearer(core::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                          core::base64url_encode(claims_ok) + ".")},
      {"wrong key", bearer(app_jwt("alice", {}, "some-other-secret"))},
      {"expired", bearer(app_jwt("alice", {{"exp", now - 3600}}))},
      {"not yet valid", bearer(app_jwt("alice", {{"nbf", now + 3600}}))},
      {"missing subject", bearer(core::sign_hs256(json::serialize(json::object{{"exp", now + 600}}),
                                                  core::HmacSha256Key(kAppSecret)))},
      {"numeric subject", bearer(app_jwt("x", {{"sub", 12345}}))},
      {"empty subject", bearer(app_jwt(""))},
      {"subject too long", bearer(app_jwt(std::string(65, 'a')))},
      {"subject with unsafe characters", bearer(app_jwt("alice/../admin"))},
      {"tampered payload", bearer([&] {
         std::string t = app_jwt("alice");
         const auto dot = t.find('.');
         return t.substr(0, dot + 1) +
                core::base64url_encode(R"({"sub":"admin","exp":9999999999})") +
                t.substr(t.rfind('.'));
       }())},
  };
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.name) {
      const auto r = http_request(app.port, "POST", kTokenPath, c.headers, "");
      expect_error(r, 401, "unauthenticated");
      BOOST_TEST(!r.header("www-authenticate").empty());
      BOOST_TEST(r.body.find("token") != std::string::npos);  // the message says what was wrong
      BOOST_TEST(r.body.find("eyJ") == std::string::npos);    // and never echoes a token
    }
  }
}

BOOST_AUTO_TEST_CASE(issuer_and_audience_are_enforced_when_configured) {
  RunningApp app({{"AUTH_JWT_ISSUER", "https://login.example"}, {"AUTH_JWT_AUDIENCE", "video"}});
  BOOST_TEST(
      post_token(app.port, app_jwt("a", {{"iss", "https://login.example"}, {"aud", "video"}}))
          .status == 200);
  expect_error(
      post_token(app.port, app_jwt("a", {{"iss", "https://evil.example"}, {"aud", "video"}})), 401,
      "unauthenticated");
  expect_error(
      post_token(app.port, app_jwt("a", {{"iss", "https://login.example"}, {"aud", "other"}})), 401,
      "unauthenticated");
  expect_error(post_token(app.port, app_jwt("a")), 401, "unauthenticated");
}

BOOST_AUTO_TEST_CASE(public_key_mode_accepts_rs256_and_es256_and_refuses_key_confusion) {
  const std::string dir = make_temp_dir("sg-keys");
  for (const auto& kp : {make_rsa_key(), make_ec_p256_key()}) {
    write_file(dir + "/pub.pem", kp.public_pem);
    RunningApp app({{"AUTH_JWT_PUBLIC_KEY_FILE", dir + "/pub.pem"}}, /*drop_app_secret=*/true);
    const bool rsa = kp.public_pem.find("BEGIN PUBLIC KEY") != std::string::npos &&
                     core::PublicKey::from_pem(kp.public_pem).alg() == core::JwtAlg::rs256;
    const std::string header =
        rsa ? R"({"alg":"RS256","typ":"JWT"})" : R"({"alg":"ES256","typ":"JWT"})";
    const std::int64_t now = server::unix_now();
    const std::string claims = json::serialize(json::object{{"sub", "carol"}, {"exp", now + 600}});
    BOOST_TEST_CONTEXT((rsa ? "RS256" : "ES256")) {
      const auto ok =
          post_token(app.port, core::sign_with_private_key_pem(kp.private_pem, header, claims));
      BOOST_TEST(ok.status == 200);
      // HS256 signed with the public key text as the secret must not pass.
      const auto confused =
          post_token(app.port, core::sign_hs256(claims, core::HmacSha256Key(kp.public_pem)));
      expect_error(confused, 401, "unauthenticated");
      // Nor a token signed by a different key of the same type.
      const auto other = rsa ? make_rsa_key() : make_ec_p256_key();
      expect_error(
          post_token(app.port, core::sign_with_private_key_pem(other.private_pem, header, claims)),
          401, "unauthenticated");
    }
  }
}

BOOST_AUTO_TEST_CASE(user_id_and_roles_come_from_configured_claims) {
  RunningApp app(
      {{"AUTH_USER_ID_CLAIM", "_id"}, {"AUTH_ROLES_CLAIM", "https://app.example/roles"}});
  const auto r = post_token(app.port, app_jwt("ignored", {{"_id", "64f0c0ffee"}}));
  BOOST_TEST_REQUIRE(r.status == 200);
  BOOST_TEST(r.json().at("data").at("userId").as_string() == "64f0c0ffee");
  expect_error(post_token(app.port, app_jwt("only-sub")), 401, "unauthenticated");
}

BOOST_AUTO_TEST_CASE(bad_bodies_get_400) {
  RunningApp app;
  for (const char* body :
       {"not json", "[1,2]", "\"str\"", "{\"validitySeconds\":\"60\"}", "{\"validitySeconds\":1.5}",
        "{\"callCids\":\"default:x\"}", "{\"callCids\":[\"nocolon\"]}", "{\"callCids\":[1]}",
        "{\"callCids\":[\"default:bad id\"]}", "{\"role\":\"admin\"}",
        "{\"role\":5,\"callCids\":[\"a:b\"]}", "{\"validitySeconds\":60", "{\"a\":1}{\"b\":2}"}) {
    BOOST_TEST_CONTEXT(body) {
      expect_error(post_token(app.port, app_jwt("alice"), body), 400, "invalid_request");
    }
  }
}

BOOST_AUTO_TEST_CASE(call_tokens_follow_the_policy) {
  RunningApp off;  // default policy: off
  expect_error(post_token(off.port, app_jwt("alice"), R"({"callCids":["default:meeting-123"]})"),
               403, "forbidden");
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_methods) {
  RunningApp app;
  const auto get = http_request(app.port, "GET", kTokenPath);
  expect_error(get, 405, "method_not_allowed");
  BOOST_TEST(get.header("allow") == "POST");
  expect_error(http_request(app.port, "PUT", kTokenPath, {}, "{}"), 405, "method_not_allowed");
  expect_error(http_request(app.port, "GET", "/api/v1/nothing"), 404, "not_found");
  expect_error(http_request(app.port, "GET", "/"), 404, "not_found");
  BOOST_TEST(http_request(app.port, "GET", "/healthz").status == 200);
  BOOST_TEST(http_request(app.port, "GET", "/readyz").status == 200);
}

BOOST_AUTO_TEST_CASE(cors_preflight_for_configured_origins) {
  RunningApp app({{"CORS_ALLOWED_ORIGINS", "https://app.example, http://localhost:3000"}});
  const Headers preflight = {{"Origin", "https://app.example"},
                             {"Access-Control-Request-Method", "POST"},
                             {"Access-Control-Request-Headers", "authorization, content-type"}};
  const auto ok = http_request(app.port, "OPTIONS", kTokenPath, preflight);
  BOOST_TEST(ok.status == 204);
  BOOST_TEST(ok.header("access-control-allow-origin") == "https://app.example");
  BOOST_TEST(ok.header("access-control-allow-methods").find("POST") != std::string::npos);
  BOOST_TEST(ok.header("access-control-allow-headers").find("Authorization") != std::string::npos);

  const auto bad =
      http_request(app.port, "OPTIONS", kTokenPath,
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  BOOST_TEST(bad.status == 403);
  BOOST_TEST(bad.header("access-control-allow-origin").empty());

  // The real request, and its errors, carry the header for an allowed origin only.
  const auto real =
      post_token(app.port, app_jwt("alice"), "", {{"Origin", "http://localhost:3000"}});
  BOOST_TEST(real.status == 200);
  BOOST_TEST(real.header("access-control-allow-origin") == "http://localhost:3000");
  const auto denied =
      http_request(app.port, "POST", kTokenPath, {{"Origin", "http://localhost:3000"}}, "");
  BOOST_TEST(denied.status == 401);
  BOOST_TEST(denied.header("access-control-allow-origin") == "http://localhost:3000");
  const auto foreign =
      post_token(app.port, app_jwt("alice"), "", {{"Origin", "https://evil.example"}});
  BOOST_TEST(foreign.header("access-control-allow-origin").empty());
}

BOOST_AUTO_TEST_CASE(per_user_rate_limit_answers_429_with_retry_after) {
  RunningApp app({{"RATE_LIMIT_USER_PER_MINUTE", "3"}});
  const std::string jwt = app_jwt("dave");
  for (int i = 0; i < 3; ++i) BOOST_TEST(post_token(app.port, jwt).status == 200);
  const auto limited = post_token(app.port, jwt);
  expect_error(limited, 429, "rate_limited");
  const int retry_after = std::stoi(limited.header("retry-after"));
  BOOST_TEST(retry_after >= 1);
  BOOST_TEST(retry_after <= 60);
  // Another user is not affected.
  BOOST_TEST(post_token(app.port, app_jwt("erin")).status == 200);
}

BOOST_AUTO_TEST_CASE(per_ip_rate_limit_counts_before_authentication) {
  RunningApp app({{"RATE_LIMIT_IP_PER_MINUTE", "2"}});
  BOOST_TEST(http_request(app.port, "POST", kTokenPath, {}, "").status == 401);
  BOOST_TEST(http_request(app.port, "POST", kTokenPath, {}, "").status == 401);
  const auto limited = post_token(app.port, app_jwt("frank"));
  expect_error(limited, 429, "rate_limited");
  BOOST_TEST(!limited.header("retry-after").empty());
  BOOST_TEST(http_request(app.port, "GET", "/healthz").status == 200);  // health is never limited
}

BOOST_AUTO_TEST_CASE(secrets_never_appear_in_responses) {
  RunningApp app;
  for (const auto& r : {post_token(app.port, app_jwt("alice")), post_token(app.port, "bad"),
                        http_request(app.port, "GET", "/nope")}) {
    BOOST_TEST(r.body.find(kStreamSecret) == std::string::npos);
    BOOST_TEST(r.body.find(kAppSecret) == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
