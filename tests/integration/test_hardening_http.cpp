// Hardening of the HTTP layer: RFC 9112 framing (smuggling), bounded chunk extensions and
// trailers, bounded method labels, rate-limit headers and numeric request fields (issue
// "defects found from outside", items 2, 3, 4 and 9).
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <climits>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"

using namespace streamgate::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// Status codes of every response in `raw`, in order (our bodies never hold "HTTP/1.").
std::vector<int> statuses(const std::string& raw) {
  std::vector<int> out;
  std::size_t pos = 0;
  while ((pos = raw.find("HTTP/1.", pos)) != std::string::npos) {
    if (pos == 0 || raw[pos - 1] == '\n') out.push_back(std::stoi(raw.substr(pos + 9, 3)));
    pos += 7;
  }
  return out;
}

// Sends bytes the server may stop reading part-way (it answers and closes): a failed send is
// then expected, not an error.
void send_tolerant(RawConnection& c, const std::string& bytes) {
  try {
    c.send(bytes);
  } catch (const std::runtime_error&) {
  }
}

const std::string kFollowUp = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
// What a front-end that trusts Content-Length (or ignores TE) would forward as a body: if the
// server reads it as a request, it answers it (a smuggled request).
const std::string kSmuggled =
    "0\r\n\r\nGET /api/v1/admin/webhooks/replay HTTP/1.1\r\nHost: x\r\n\r\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(hardening_http)

BOOST_AUTO_TEST_CASE(framing_table_rfc9112) {
  RunningApp app;
  struct Case {
    const char* name;
    std::string request;
    int status;       // the first (and, when closing, only) answer
    bool keeps_open;  // the follow-up request on the same connection is answered too
  };
  const auto post = [](const std::string& headers, const std::string& body) {
    return "POST /api/v1/stream/token HTTP/1.1\r\n" + headers + "\r\n" + body;
  };
  const std::vector<Case> table = {
      {"TE xchunked", post("Host: x\r\nTransfer-Encoding: xchunked\r\n", kSmuggled), 400, false},
      {"TE chunked, identity",
       post("Host: x\r\nTransfer-Encoding: chunked, identity\r\n", kSmuggled), 400, false},
      {"TE gzip", post("Host: x\r\nTransfer-Encoding: gzip\r\n", kSmuggled), 400, false},
      {"TE identity", post("Host: x\r\nTransfer-Encoding: identity\r\n", kSmuggled), 400, false},
      {"TE gzip, chunked", post("Host: x\r\nTransfer-Encoding: gzip, chunked\r\n", kSmuggled), 400,
       false},
      {"TE chunked twice",
       post("Host: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", kSmuggled),
       400, false},
      {"TE empty list", post("Host: x\r\nTransfer-Encoding: ,\r\n", kSmuggled), 400, false},
      {"TE with Content-Length",
       post("Host: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n", "0\r\n\r\n"), 400,
       false},
      {"TE in HTTP/1.0",
       "POST /api/v1/stream/token HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: "
       "chunked\r\n\r\n0\r\n\r\n",
       400, false},
      {"HTTP/1.1 without Host", "GET /healthz HTTP/1.1\r\n\r\n", 400, false},
      {"two Host headers", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, false},
      {"two Host headers in HTTP/1.0", "GET /healthz HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400,
       false},
      {"two different Content-Lengths",
       post("Host: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n", "{}"), 400, false},
      {"trailer field of 70 KB",
       post("Host: x\r\nTransfer-Encoding: chunked\r\n",
            "2\r\n{}\r\n0\r\nX-T: " + std::string(70000, 'a') + "\r\n\r\n"),
       431, false},
      {"trailer field of 64 KB",
       post("Host: x\r\nTransfer-Encoding: chunked\r\n",
            "2\r\n{}\r\n0\r\nX-T: " + std::string(65536, 'a') + "\r\n\r\n"),
       431, false},
      {"chunk extension of 1 MB",
       post("Host: x\r\nTransfer-Encoding: chunked\r\n",
            "2;ext=" + std::string(1 << 20, 'e') + "\r\n{}\r\n0\r\n\r\n"),
       431, false},
      // Valid framings: answered (401: no app JWT), and the connection serves the next request.
      {"TE chunked", post("Host: x\r\nTransfer-Encoding: chunked\r\n", "2\r\n{}\r\n0\r\n\r\n"), 401,
       true},
      {"TE Chunked, any case and spaces",
       post("Host: x\r\nTransfer-Encoding:  Chunked \r\n", "2\r\n{}\r\n0\r\n\r\n"), 401, true},
      {"chunk extension and a small trailer",
       post("Host: x\r\nTransfer-Encoding: chunked\r\n", "2;a=b\r\n{}\r\n0\r\nX-T: v\r\n\r\n"), 401,
       true},
      {"Content-Length", post("Host: x\r\nContent-Length: 2\r\n", "{}"), 401, true},
      {"HTTP/1.0 without Host", "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 200,
       true},
  };
  for (const auto& c : table) {
    BOOST_TEST_CONTEXT(c.name) {
      RawConnection conn(app.port);
      send_tolerant(conn, c.request + kFollowUp);
      if (c.keeps_open) {
        BOOST_TEST(conn.read_response().status == c.status);
        BOOST_TEST(conn.read_response().status == 200);
      } else {
        // One answer, then close: nothing after it (the smuggled request, the follow-up) runs.
        const auto got = statuses(conn.read_all(3s));
        BOOST_TEST_REQUIRE(got.size() == 1u);
        BOOST_TEST(got[0] == c.status);
      }
    }
  }
  // The server is still there for everyone else.
  BOOST_TEST(http_request(app.port, "GET", "/healthz").status == 200);
}

BOOST_AUTO_TEST_CASE(unknown_methods_get_one_bounded_label) {
  RunningApp app;
  for (int i = 0; i < 300; ++i) {
    RawConnection c(app.port);
    const std::string method = "M" + std::to_string(i) + std::string(4000, 'X');
    c.send(method + " /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    BOOST_TEST_REQUIRE(c.read_response().status == 405);
  }
  const auto m = http_request(app.app->metrics_port(), "GET", "/metrics");
  BOOST_TEST(m.status == 200);
  BOOST_TEST(m.body.find("method=\"other\"") != std::string::npos);
  BOOST_TEST(m.body.find("XXXX") == std::string::npos);
  // 300 distinct methods of 4 KB each added no label: the exposition stays small.
  BOOST_TEST(m.body.size() < 64u * 1024);
}

BOOST_AUTO_TEST_CASE(rate_limit_headers_report_the_binding_limit) {
  {
    // The per-user bucket (3) binds before the per-IP one (600).
    RunningApp app({{"RATE_LIMIT_USER_PER_MINUTE", "3"}, {"RATE_LIMIT_IP_PER_MINUTE", "600"}});
    const std::string jwt = app_jwt("rl-user");
    for (int i = 0; i < 3; ++i) {
      const auto r = http_request(app.port, "POST", "/api/v1/stream/token",
                                  {{"Authorization", "Bearer " + jwt}});
      BOOST_TEST_REQUIRE(r.status == 200);
      BOOST_TEST(r.header("x-ratelimit-limit") == "3");
      BOOST_TEST(r.header("x-ratelimit-remaining") == std::to_string(2 - i));
    }
    const auto refused = http_request(app.port, "POST", "/api/v1/stream/token",
                                      {{"Authorization", "Bearer " + jwt}});
    BOOST_TEST(refused.status == 429);
    BOOST_TEST(refused.header("x-ratelimit-limit") == "3");
    BOOST_TEST(refused.header("x-ratelimit-remaining") == "0");
    BOOST_TEST(std::stoi(refused.header("retry-after")) >= 1);
    // A handler's own error carries the headers as well.
    const auto bad =
        http_request(app.port, "POST", "/api/v1/stream/token",
                     {{"Authorization", "Bearer " + app_jwt("other-user")}}, "not json");
    BOOST_TEST(bad.status == 400);
    BOOST_TEST(bad.header("x-ratelimit-limit") == "3");
    BOOST_TEST(bad.header("x-ratelimit-remaining") == "2");
  }
  {
    // The per-IP bucket (2) binds before the per-user one (60); its 429 carries its headers.
    RunningApp app({{"RATE_LIMIT_USER_PER_MINUTE", "60"}, {"RATE_LIMIT_IP_PER_MINUTE", "2"}});
    const std::string jwt = app_jwt("rl-ip");
    for (int i = 0; i < 2; ++i) {
      const auto r = http_request(app.port, "POST", "/api/v1/stream/token",
                                  {{"Authorization", "Bearer " + jwt}});
      BOOST_TEST(r.header("x-ratelimit-limit") == "2");
      BOOST_TEST(r.header("x-ratelimit-remaining") == std::to_string(1 - i));
    }
    const auto refused = http_request(app.port, "POST", "/api/v1/stream/token",
                                      {{"Authorization", "Bearer " + jwt}});
    BOOST_TEST(refused.status == 429);
    BOOST_TEST(refused.header("x-ratelimit-limit") == "2");
    BOOST_TEST(refused.header("x-ratelimit-remaining") == "0");
  }
}

BOOST_AUTO_TEST_CASE(numbers_in_tokens_and_bodies_are_range_checked) {
  RunningApp app({{"TOKEN_MIN_TTL_SECONDS", "60"}, {"TOKEN_MAX_TTL_SECONDS", "86400"}});
  const auto token = [&](const std::string& jwt, const std::string& body) {
    return http_request(app.port, "POST", "/api/v1/stream/token",
                        {{"Authorization", "Bearer " + jwt}}, body);
  };
  const std::string jwt = app_jwt("numbers");
  // Doubles are range-checked before they are cast.
  for (const char* bad : {R"({"validitySeconds":1e300})", R"({"validitySeconds":-1e300})",
                          R"({"validitySeconds":9.3e18})", R"({"validitySeconds":120.5})"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(token(jwt, bad).status == 400); }
  }
  const auto whole = token(jwt, R"({"validitySeconds":120.0})");
  BOOST_TEST(whole.status == 200);
  const auto huge = token(jwt, R"({"validitySeconds":9000000000000000000})");
  BOOST_TEST(huge.status == 200);  // clamped to the maximum
  const auto beyond = token(jwt, R"({"validitySeconds":18446744073709551615})");
  BOOST_TEST(beyond.status == 200);
  const auto negative = token(jwt, R"({"validitySeconds":-9223372036854775808})");
  BOOST_TEST(negative.status == 200);  // clamped to the minimum

  // Correctly signed app JWTs with extreme claims: no overflow, a clear answer.
  BOOST_TEST(token(app_jwt("x", {{"exp", INT64_MAX}}), "").status == 200);
  BOOST_TEST(token(app_jwt("x", {{"exp", std::uint64_t{UINT64_MAX}}}), "").status == 200);
  BOOST_TEST(token(app_jwt("x", {{"exp", 1e308}}), "").status == 200);
  BOOST_TEST(token(app_jwt("x", {{"exp", INT64_MIN}}), "").status == 401);
  BOOST_TEST(token(app_jwt("x", {{"exp", -1e308}}), "").status == 401);
  BOOST_TEST(token(app_jwt("x", {{"nbf", INT64_MAX}}), "").status == 401);
  BOOST_TEST(token(app_jwt("x", {{"nbf", INT64_MIN}}), "").status == 200);
  BOOST_TEST(token(app_jwt("x", {{"iat", INT64_MAX}}), "").status == 401);
  BOOST_TEST(token(app_jwt("x", {{"iat", INT64_MIN}}), "").status == 200);
}

BOOST_AUTO_TEST_SUITE_END()
