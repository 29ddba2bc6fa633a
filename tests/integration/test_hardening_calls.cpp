// Hardening of the call routes: who may change a call, what Stream's odd answers become, and
// what a failing Stream reveals (issue "defects found from outside", items 1, 4, 5 and 6).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <climits>

#include "tests/support/app_fixture.hpp"
#include "tests/support/calls_client.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"

using namespace streamgate;
using namespace streamgate::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::string role_of(const json::value& meeting, const std::string& user) {
  for (const auto& m : meeting.at("members").as_array())
    if (m.at("userId").as_string() == user) return std::string(m.at("role").as_string());
  return "(absent)";
}

json::value meeting_of(std::uint16_t port, const std::string& id) {
  const auto r = api(port, "GET", "/api/v1/calls/" + id, admin());
  BOOST_TEST_REQUIRE(r.status == 200);
  return r.json().at("data");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hardening_calls)

BOOST_AUTO_TEST_CASE(re_creating_a_call_never_raises_roles_per_role) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  const auto created =
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
          R"({"callId":"priv","members":[{"userId":"mem","role":"viewer"}],"custom":{"a":1}})");
  BOOST_TEST_REQUIRE(created.status == 201, created.body);
  const auto before = meeting_of(app.port, "priv");
  const auto stream_requests = [&] { return fake.requests().size(); };

  // A plain member: the meeting as it is, nothing sent to Stream, nothing stored.
  {
    const auto sent = stream_requests();
    const auto r = api(
        app.port, "POST", "/api/v1/calls", app_jwt("mem"),
        R"({"callId":"priv","members":[{"userId":"eve","role":"host"}],"custom":{"a":2,"b":3}})");
    BOOST_TEST(r.status == 200, r.body);
    BOOST_TEST(role_of(r.json().at("data"), "mem") == "viewer");
    BOOST_TEST(stream_requests() == sent);
    auto after = meeting_of(app.port, "priv");
    BOOST_TEST(role_of(after, "mem") == "viewer");
    BOOST_TEST(role_of(after, "eve") == "(absent)");
    BOOST_TEST(after.at("custom") == before.at("custom"));
    BOOST_TEST(after.at("createdBy").as_string() == "alice");
  }
  // A stranger: 409, nothing changes.
  {
    const auto sent = stream_requests();
    const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("mallory"),
                       R"({"callId":"priv","members":[{"userId":"mallory","role":"host"}]})");
    BOOST_TEST(r.status == 409);
    BOOST_TEST(r.json().at("error").at("code").as_string() == "call_exists");
    BOOST_TEST(stream_requests() == sent);
    BOOST_TEST(role_of(meeting_of(app.port, "priv"), "mallory") == "(absent)");
  }
  // The creator: new members are added (through Stream's update_members); roles already held stay.
  {
    const auto r =
        api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
            R"({"callId":"priv","members":[{"userId":"mem","role":"host"},{"userId":"dan",)"
            R"("role":"guest"}],)"
            R"("custom":{"b":4}})");
    BOOST_TEST(r.status == 200, r.body);
    const auto after = meeting_of(app.port, "priv");
    BOOST_TEST(role_of(after, "mem") == "viewer");
    BOOST_TEST(role_of(after, "dan") == "guest");
    BOOST_TEST(role_of(after, "alice") == "host");
    BOOST_TEST(after.at("custom").at("a").as_int64() == 1);
    BOOST_TEST(after.at("custom").at("b").as_int64() == 4);
    const auto updates = fake.requests_to("POST", "/call/default/priv/members");
    BOOST_TEST_REQUIRE(updates.size() == 1u);
    const auto sent = json::parse(updates[0].body).at("update_members").as_array();
    BOOST_TEST_REQUIRE(sent.size() == 1u);
    BOOST_TEST(sent[0].at("user_id").as_string() == "dan");
  }
  // An admin who is not the creator: may add members, is not made one, and the creator stays.
  {
    const auto r =
        api(app.port, "POST", "/api/v1/calls", admin(),
            R"({"callId":"priv","members":[{"userId":"erin"},{"userId":"dan","role":"host"}]})");
    BOOST_TEST(r.status == 200, r.body);
    const auto after = meeting_of(app.port, "priv");
    BOOST_TEST(role_of(after, "ops") == "(absent)");
    BOOST_TEST(role_of(after, "erin") != "(absent)");
    BOOST_TEST(role_of(after, "dan") == "guest");
    BOOST_TEST(after.at("createdBy").as_string() == "alice");
    BOOST_TEST(role_of(after, "mem") == "viewer");
  }
  // Whatever happened above, Stream was never told that mem is a host.
  for (const auto& req : fake.requests())
    BOOST_TEST(req.body.find(R"("user_id":"mem","role":"host")") == std::string::npos);
  BOOST_TEST(fake.violations().empty());
}

BOOST_AUTO_TEST_CASE(extreme_rate_limit_hints_from_stream_are_clamped) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"STREAM_MAX_ATTEMPTS", "3"}, {"STREAM_RETRY_BUDGET_MS", "3000"}}));
  const std::vector<std::pair<std::string, std::string>> hints = {
      {"Retry-After", "100000000000000000"},
      {"Retry-After", "9223372036854775807"},
      {"Retry-After", "-9223372036854775808"},
      {"Retry-After", "99999999999999999999999"},
      {"X-RateLimit-Reset", "9223372036854775807"},
      {"X-RateLimit-Reset", "-9223372036854775808"},
      {"X-RateLimit-Reset", "-1"},
      {"Retry-After", "soon"},
  };
  int n = 0;
  for (const auto& [name, value] : hints) {
    BOOST_TEST_CONTEXT(name << ": " << value) {
      fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
        if (r.path.rfind("/api/v2/video/call/", 0) != 0) return std::nullopt;
        auto res = FakeStream::error(429, 9, "rate limited");
        res.headers.emplace_back(name, value);
        return res;
      });
      const auto start = std::chrono::steady_clock::now();
      const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                         R"({"callId":"hint-)" + std::to_string(n++) + "\"}");
      BOOST_TEST(r.status == 503, r.body);
      BOOST_TEST(r.json().at("error").at("code").as_string() == "upstream_unavailable");
      const auto retry_after = std::stoll(r.header("retry-after"));
      BOOST_TEST(retry_after >= 1);
      BOOST_TEST(retry_after <= 86400);
      BOOST_TEST(
          (std::chrono::steady_clock::now() - start < 10s));  // bounded by the budget, not the hint
    }
  }
}

BOOST_AUTO_TEST_CASE(stream_redirects_and_odd_statuses_are_502_not_the_clients_fault) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake, {{"STREAM_MAX_ATTEMPTS", "1"}}));
  int n = 0;
  for (int status : {301, 302, 307, 308, 304, 204}) {
    BOOST_TEST_CONTEXT("Stream answered " << status) {
      fake.set_override([&](const FakeRequest& r) -> std::optional<FakeResponse> {
        if (r.path.rfind("/api/v2/video/call/", 0) != 0) return std::nullopt;
        if (status == 204) return FakeResponse{204, {}, ""};
        return FakeResponse{status, {{"Location", "https://elsewhere.example/"}}, ""};
      });
      const auto r = api(app.port, "POST", "/api/v1/calls", app_jwt("alice"),
                         R"({"callId":"odd-)" + std::to_string(n++) + "\"}");
      if (status == 204) {
        // An empty 2xx is an answer without a call (nor "created"): the call we asked for is kept.
        BOOST_TEST(r.status == 200, r.body);
      } else {
        BOOST_TEST(r.status == 502, r.body);
        BOOST_TEST(r.json().at("error").at("code").as_string() == "upstream_unavailable");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(transport_errors_reveal_no_internal_address) {
  RunningApp app({{"STREAM_BASE_URL", "https://127.0.0.1:1"}, {"STREAM_MAX_ATTEMPTS", "2"}});
  const auto r =
      api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":"nowhere"})");
  BOOST_TEST(r.status == 503, r.body);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "upstream_unavailable");
  BOOST_TEST(r.body.find("127.0.0.1") == std::string::npos, r.body);
  BOOST_TEST(r.body.find(":1") == std::string::npos, r.body);
  BOOST_TEST(r.body.find("connect") == std::string::npos, r.body);
}

BOOST_AUTO_TEST_CASE(stream_answers_with_out_of_range_times_do_not_crash) {
  FakeStream fake(kStreamKey, kStreamSecret);
  RunningApp app(against(fake));
  // Stream already has these calls, with times no real call has.
  const std::vector<std::pair<std::string, std::function<void(FakeStream::Call&)>>> cases = {
      {"created INT64_MIN", [](FakeStream::Call& c) { c.created_at = INT64_MIN; }},
      {"created INT64_MAX", [](FakeStream::Call& c) { c.created_at = INT64_MAX; }},
      {"session -9e18..9e18",
       [](FakeStream::Call& c) {
         c.session_id = "s1";
         c.session_started_at = -9'000'000'000'000'000'000;
         c.session_ended_at = 9'000'000'000'000'000'000;
       }},
      {"ended INT64_MIN", [](FakeStream::Call& c) { c.ended_at = INT64_MIN; }},
  };
  int n = 0;
  for (const auto& [name, mutate] : cases) {
    BOOST_TEST_CONTEXT(name) {
      const std::string id = "times-" + std::to_string(n++);
      fake.with_call("default:" + id, [&](FakeStream::Call& c) {
        c.created_by = "alice";
        mutate(c);
      });
      const auto r =
          api(app.port, "POST", "/api/v1/calls", app_jwt("alice"), R"({"callId":")" + id + "\"}");
      BOOST_TEST(r.status == 200,
                 r.body);  // Stream's times are unusable; the call we asked for is kept
      BOOST_TEST(api(app.port, "GET", "/api/v1/calls/" + id, app_jwt("alice")).status == 200);
      // Pulling the same state on purpose is Stream's fault, not the client's.
      const auto sync = api(app.port, "POST", "/api/v1/calls/" + id + "/sync", app_jwt("alice"));
      BOOST_TEST(sync.status == 502, sync.body);
      BOOST_TEST(api(app.port, "GET", "/api/v1/calls/" + id, app_jwt("alice")).status == 200);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
