#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <mutex>
#include <thread>

#include "server/auth/jwks.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"
#include "tests/support/keys.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

// A JWKS host whose key set the test can change.
struct JwksHost {
  std::mutex mutex;
  std::string document;
  std::chrono::milliseconds delay{0};
  FakeHttpsServer server;
  JwksHost()
      : server(test_pki().server_cert, test_pki().server_key, [this](const FakeRequest&) {
          std::lock_guard lock(mutex);
          return FakeResponse{200, {{"Cache-Control", "max-age=600"}}, document, delay};
        }) {}
  void publish(const std::vector<std::string>& jwks) {
    std::string doc = R"({"keys":[)";
    for (std::size_t i = 0; i < jwks.size(); ++i) doc += (i ? "," : "") + jwks[i];
    doc += "]}";
    std::lock_guard lock(mutex);
    document = doc;
  }
  std::size_t fetches() const { return server.requests().size(); }
};

std::string token(const KeyPair& kp, const std::string& alg, const std::string& kid,
                  const std::string& sub) {
  const std::int64_t now = server::unix_now();
  return core::sign_with_private_key_pem(
      kp.private_pem, R"({"alg":")" + alg + R"(","typ":"JWT","kid":")" + kid + "\"}",
      json::serialize(json::object{{"sub", sub}, {"exp", now + 600}}));
}

int token_status(std::uint16_t port, const std::string& jwt) {
  return http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}})
      .status;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(jwks)

BOOST_AUTO_TEST_CASE(parse_skips_unusable_keys) {
  const auto rsa = make_rsa_key();
  const auto keys =
      server::parse_jwks(R"({"keys":[{"kty":"oct","k":"AAAA"},)" + public_jwk(rsa, "a") + "]}");
  BOOST_TEST(keys.size() == 1u);
  BOOST_TEST(keys[0].kid() == "a");
  BOOST_CHECK_THROW(server::parse_jwks(R"({"keys":[]})"), std::invalid_argument);
  BOOST_CHECK_THROW(server::parse_jwks("[]"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(rs256_and_es256_via_jwks_with_rotation_and_a_refresh_cooldown) {
  JwksHost host;
  const auto k1 = make_rsa_key();
  const auto k2 = make_ec_p256_key();
  host.publish({public_jwk(k1, "k1")});
  RunningApp app({{"AUTH_JWKS_URL", host.server.base_url() + "/.well-known/jwks.json"},
                  {"AUTH_JWKS_CA_FILE", test_pki().ca_cert},
                  {"AUTH_JWKS_COOLDOWN_SECONDS", "2"}},
                 /*drop_app_secret=*/true);
  BOOST_TEST(host.fetches() == 1u);  // fetched once at start
  BOOST_TEST(token_status(app.port, token(k1, "RS256", "k1", "alice")) == 200);
  BOOST_TEST(host.fetches() == 1u);  // cached

  // Rotation: the issuer starts signing with k2 (ES256) and publishes it.
  host.publish({public_jwk(k1, "k1"), public_jwk(k2, "k2")});
  std::this_thread::sleep_for(2100ms);  // past the cooldown since the start-up fetch
  BOOST_TEST(token_status(app.port, token(k2, "ES256", "k2", "bob")) == 200);
  BOOST_TEST(host.fetches() == 2u);

  // Unknown kids in a burst refresh at most once per cooldown.
  const auto forger = make_rsa_key();
  for (int i = 0; i < 10; ++i)
    BOOST_TEST(
        token_status(app.port, token(forger, "RS256", "kx" + std::to_string(i), "mallory")) == 401);
  BOOST_TEST(host.fetches() <= 3u);

  // A known kid with a signature from another key is refused.
  BOOST_TEST(token_status(app.port, token(forger, "RS256", "k1", "mallory")) == 401);
  // HS256 is not allowed in JWKS-only mode, whatever the secret.
  const std::int64_t now = server::unix_now();
  BOOST_TEST(
      token_status(app.port,
                   core::sign_hs256(json::serialize(json::object{{"sub", "x"}, {"exp", now + 60}}),
                                    core::HmacSha256Key(public_jwk(k1, "k1")))) == 401);
}

BOOST_AUTO_TEST_CASE(concurrent_requests_wait_for_one_refresh) {
  JwksHost host;
  const auto k1 = make_rsa_key();
  const auto k2 = make_rsa_key();
  host.publish({public_jwk(k1, "k1")});
  RunningApp app({{"AUTH_JWKS_URL", host.server.base_url() + "/jwks"},
                  {"AUTH_JWKS_CA_FILE", test_pki().ca_cert},
                  {"AUTH_JWKS_COOLDOWN_SECONDS", "0"}},
                 /*drop_app_secret=*/true);
  host.publish({public_jwk(k1, "k1"), public_jwk(k2, "k2")});
  {
    std::lock_guard lock(host.mutex);
    host.delay = 400ms;  // a slow JWKS host: the other requests arrive while it is fetched
  }
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      if (token_status(app.port, token(k2, "RS256", "k2", "user" + std::to_string(i))) == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(ok.load() == 6);
  BOOST_TEST(host.fetches() <= 3u);  // start-up, then one or two refreshes, not one per request
}

BOOST_AUTO_TEST_CASE(a_jwks_host_with_an_unknown_ca_is_not_trusted) {
  JwksHost host;
  const auto k1 = make_rsa_key();
  host.publish({public_jwk(k1, "k1")});
  RunningApp app(
      {{"AUTH_JWKS_URL", host.server.base_url() + "/jwks"}, {"AUTH_JWKS_COOLDOWN_SECONDS", "0"}},
      /*drop_app_secret=*/true);
  BOOST_TEST(token_status(app.port, token(k1, "RS256", "k1", "alice")) == 401);
  BOOST_TEST(host.fetches() == 0u);  // the TLS handshake failed before any request
  // Each failed fetch is counted (the first at start, one more for the unknown kid).
  const auto m = http_request(app.app->metrics_port(), "GET", "/metrics").body;
  const auto at = m.find("\nstreamgate_jwks_refresh_failures_total ");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  BOOST_TEST(std::stoi(m.substr(at + 40)) >= 1);
}

BOOST_AUTO_TEST_SUITE_END()
