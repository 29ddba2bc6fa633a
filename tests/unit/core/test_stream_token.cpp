#include <boost/test/unit_test.hpp>

#include "core/jwt.hpp"
#include "core/stream_token.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(stream_token)

// docs/stream-contract.md §1, secret "secret456".
BOOST_AUTO_TEST_CASE(contract_vectors_are_reproduced_byte_for_byte) {
  const HmacSha256Key secret("secret456");
  BOOST_TEST(make_stream_server_token(secret) ==
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzZXJ2ZXIiOnRydWV9.xwtLjTyIWD38lvfY-"
             "BfgR52wsMU6d7yRL9KuHnVMVRs");

  StreamTokenRequest user;
  user.user_id = "alice";
  user.now_seconds = 1700000005;
  user.iat_skew_seconds = 5;
  user.validity_seconds = 3595;
  const auto t = make_stream_token(user, secret);
  BOOST_TEST(t.iat == 1700000000);
  BOOST_TEST(t.exp == 1700003600);
  BOOST_TEST(t.token ==
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
             "eyJ1c2VyX2lkIjoiYWxpY2UiLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0."
             "RNCybVaM7GhW_4BCzDjJ3R7yR8MBW7DYGvjOg5FnIRQ");

  StreamTokenRequest call = user;
  call.call_cids = {"default:meeting-123"};
  call.role = "admin";
  BOOST_TEST(make_stream_token(call, secret).token ==
             "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
             "eyJ1c2VyX2lkIjoiYWxpY2UiLCJjYWxsX2NpZHMiOlsiZGVmYXVsdDptZWV0aW5nLTEyMyJdLCJyb2xlIjoiY"
             "WRtaW4iLCJpYXQiOjE3MDAwMDAwMDAsImV4cCI6MTcwMDAwMzYwMH0."
             "M5BGh0RdFhikO3tbhP1sLWfrg4wl8ug-PfUfURgEHb8");
}

BOOST_AUTO_TEST_CASE(iat_is_backdated_and_exp_is_now_plus_validity) {
  const HmacSha256Key secret("s");
  StreamTokenRequest r;
  r.user_id = "bob@example.com";
  r.now_seconds = 1800000000;
  r.validity_seconds = 600;
  r.iat_skew_seconds = 5;
  const auto t = make_stream_token(r, secret);
  const auto d = decode_jwt(t.token);
  BOOST_TEST_REQUIRE(d.jwt.has_value());
  BOOST_TEST(d.jwt->header->at("alg").as_string() == "HS256");
  BOOST_TEST(d.jwt->header->at("typ").as_string() == "JWT");
  BOOST_TEST(d.jwt->claims.at("user_id").as_string() == "bob@example.com");
  BOOST_TEST(d.jwt->claims.at("iat").as_int64() == 1799999995);
  BOOST_TEST(d.jwt->claims.at("exp").as_int64() == 1800000600);
  BOOST_TEST(!d.jwt->claims.contains("call_cids"));
  BOOST_TEST(!d.jwt->claims.contains("role"));
  JwtKeys keys;
  keys.hs256 = std::make_shared<HmacSha256Key>("s");
  BOOST_TEST(verify_jwt(*d.jwt, keys, {}, 1800000000) == JwtError::none);
}

BOOST_AUTO_TEST_CASE(claims_json_escapes_strings) {
  BOOST_TEST(stream_token_claims("a\"b", {}, "", 1, 2) == R"({"user_id":"a\"b","iat":1,"exp":2})");
}

BOOST_AUTO_TEST_SUITE_END()
