// The HTTP adapters called directly with a Request and a Context: no socket, no database (an
// in-memory store), no Stream (the paths tested never reach it).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "core/jwt.hpp"
#include "core/meeting.hpp"
#include "http/https_client.hpp"
#include "server/calls/call_handlers.hpp"
#include "server/meetings/stream_signature.hpp"
#include "server/meetings/webhook_handler.hpp"
#include "server/tokens/token_handler.hpp"
#include "tests/support/memory_store.hpp"
#include "tests/support/run_coro.hpp"
#include "tests/support/stream_events.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;

namespace {

http::Context as_user(const std::string& subject, std::vector<std::string> roles = {}) {
  http::Context ctx;
  ctx.request_id = "unit";
  ctx.principal = http::Principal{subject, std::move(roles)};
  return ctx;
}

http::Request post(std::string body) {
  http::Request req;
  req.method = http::Method::post;
  req.method_name = "POST";
  req.body = std::move(body);
  return req;
}

// The HttpError a handler throws, or status 0 when it answered.
int thrown_status(const std::function<void()>& f) {
  try {
    f();
  } catch (const http::HttpError& e) {
    return e.status;
  }
  return 0;
}

std::shared_ptr<server::TokenSettings> token_settings() {
  auto s = std::make_shared<server::TokenSettings>();
  s->api_key = "unit-key";
  s->secret = std::make_shared<const core::HmacSha256Key>("unit-secret");
  return s;
}

std::shared_ptr<server::CallSettings> call_settings(std::shared_ptr<MemoryStore> store) {
  auto s = std::make_shared<server::CallSettings>();
  s->store = std::move(store);
  // Never reached by these cases: nothing listens there.
  server::StreamClientOptions o;
  o.base_url = "https://127.0.0.1:9";
  o.api_key = "unit-key";
  o.secret = std::make_shared<const core::HmacSha256Key>("unit-secret");
  s->stream = std::make_shared<server::StreamClient>(
      o, std::make_shared<http::HttpsClient>(http::ClientOptions{}));
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(handlers)

BOOST_AUTO_TEST_CASE(token_adapter_issues_a_signed_token) {
  const auto handler = server::make_token_handler(token_settings());
  auto req = post(R"({"validitySeconds":120})");
  auto ctx = as_user("alice");
  const http::Response res = run_coro(handler(req, ctx));
  BOOST_TEST(res.status == 200);
  BOOST_TEST(res.header("cache-control") == "no-store");
  const auto data = json::parse(res.body).at("data");
  BOOST_TEST(data.at("userId").as_string() == "alice");
  BOOST_TEST(data.at("apiKey").as_string() == "unit-key");
  const auto decoded = core::decode_jwt(std::string(data.at("token").as_string()));
  BOOST_TEST_REQUIRE(decoded.jwt.has_value());
  const auto& claims = decoded.jwt->claims;
  BOOST_TEST(claims.at("user_id").as_string() == "alice");
  BOOST_TEST(claims.at("exp").as_int64() - claims.at("iat").as_int64() ==
             120 + 5);  // iat backdated 5 s

  auto bad = post("[1]");
  BOOST_TEST(thrown_status([&] { run_coro(handler(bad, ctx)); }) == 400);
  auto call = post(R"({"callCids":["default:c1"]})");
  BOOST_TEST(thrown_status([&] { run_coro(handler(call, ctx)); }) == 403);  // policy off by default
}

BOOST_AUTO_TEST_CASE(create_call_adapter_never_lets_a_member_change_the_call) {
  auto store = std::make_shared<MemoryStore>();
  core::Meeting m =
      core::new_meeting("default", "c1", "alice", json::object{{"a", 1}}, core::system_now());
  core::merge_members(m, {{"alice", "host"}, {"mem", "viewer"}});
  store->put(m);
  const auto handler = server::make_create_call_handler(call_settings(store));

  auto req = post(R"({"callId":"c1","members":[{"userId":"eve","role":"host"}],"custom":{"a":2}})");
  auto member = as_user("mem");
  const http::Response res = run_coro(handler(req, member));
  BOOST_TEST(res.status == 200);
  const auto data = json::parse(res.body).at("data");
  BOOST_TEST(data.at("custom").at("a").as_int64() == 1);
  BOOST_TEST(data.at("members").as_array().size() == 2u);
  BOOST_TEST(store->writes == 0);

  auto stranger = as_user("mallory");
  BOOST_TEST(thrown_status([&] { run_coro(handler(req, stranger)); }) == 409);
  auto bad = post(R"({"callId":"bad id!"})");
  BOOST_TEST(thrown_status([&] { run_coro(handler(bad, member)); }) == 400);
  BOOST_TEST(store->writes == 0);
}

BOOST_AUTO_TEST_CASE(webhook_adapter_behind_its_signature_guard) {
  auto store = std::make_shared<MemoryStore>();
  auto sig = std::make_shared<server::StreamSignatureSettings>();
  sig->api_key = "unit-key";
  sig->secret = std::make_shared<const core::HmacSha256Key>("unit-secret");
  auto hooks = std::make_shared<server::WebhookSettings>();
  hooks->store = store;
  std::vector<std::string> outcomes;
  hooks->record = [&](std::string_view, std::string_view outcome) {
    outcomes.emplace_back(outcome);
  };
  const std::vector<http::Middleware> chain{server::verify_stream_signature(sig)};
  const http::Handler handler = server::make_webhook_handler(hooks);

  const auto deliver = [&](const std::string& body, const std::string& signature,
                           const std::string& id) {
    auto req = post(body);
    const std::string sig_header = signature, id_header = id;
    req.headers = {{"x-signature", sig_header}, {"x-webhook-id", id_header}};
    auto ctx = http::Context{};
    return run_coro(http::run_chain(chain, handler, req, ctx));
  };
  const std::string body = session_started("c2", "s1", "2026-04-08T14:00:00Z");
  const std::string good = sign("unit-secret", body);
  const auto status_of = [](const http::Response& r) {
    return std::string(json::parse(r.body).at("data").at("status").as_string());
  };

  BOOST_TEST(status_of(deliver(body, good, "w1")) == "applied");
  BOOST_TEST(status_of(deliver(body, good, "w1")) == "duplicate");
  BOOST_TEST(thrown_status([&] { deliver(body, sign("other", body), "w2"); }) == 401);
  BOOST_TEST(thrown_status([&] { deliver("not json", sign("unit-secret", "not json"), "w3"); }) ==
             400);
  const std::string other = R"({"type":"call.created","call_cid":"default:c2"})";
  BOOST_TEST(status_of(deliver(other, sign("unit-secret", other), "w4")) == "ignored");
  const auto meeting = run_coro(store->get_meeting("default", "c2"));
  BOOST_TEST_REQUIRE(meeting.has_value());
  BOOST_TEST(core::to_string(meeting->status()) == "active");
  BOOST_TEST((outcomes == std::vector<std::string>{"applied", "duplicate", "rejected", "ignored"}));
}

BOOST_AUTO_TEST_SUITE_END()
