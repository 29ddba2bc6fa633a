#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"

using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

std::string token_request(const std::string& jwt, const std::string& request_id,
                          const std::string& body = "{}") {
  return "POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + jwt +
         "\r\nX-Request-Id: " + request_id +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_limits)

BOOST_AUTO_TEST_CASE(keep_alive_and_pipelined_requests_are_answered_in_order) {
  RunningApp app;
  RawConnection c(app.port);
  const std::string jwt = app_jwt("alice");
  c.send(token_request(jwt, "one") +
         "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: two\r\n\r\n" +
         token_request(jwt, "three", R"({"validitySeconds":120})"));
  const auto r1 = c.read_response();
  const auto r2 = c.read_response();
  const auto r3 = c.read_response();
  BOOST_TEST(r1.status == 200);
  BOOST_TEST(r1.header("x-request-id") == "one");
  BOOST_TEST(r2.status == 200);
  BOOST_TEST(r2.header("x-request-id") == "two");
  BOOST_TEST(r3.status == 200);
  BOOST_TEST(r3.header("x-request-id") == "three");
  // The connection stays open for more.
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(c.read_response().status == 200);
}

// A request's header fields live in its connection's arena: one past the arena's room (sixty
// fields of 100 bytes before the ones that matter) is read whole, and the small request after
// it on the same connection, and another large one, are read as themselves.
BOOST_AUTO_TEST_CASE(large_and_small_headers_alternate_on_one_connection) {
  RunningApp app;
  RawConnection c(app.port);
  std::string filler;
  for (int i = 0; i < 60; ++i)
    filler += "X-Filler-" + std::to_string(i) + ": " +
              std::string(100, static_cast<char>('a' + i % 26)) + "\r\n";
  const auto large = [&](const std::string& user, const std::string& id) {
    return "POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\n" + filler + "Authorization: Bearer " +
           app_jwt(user) + "\r\nX-Request-Id: " + id +
           "\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
  };
  c.send(large("alice", "big-one"));
  const auto r1 = c.read_response();
  BOOST_TEST(r1.status == 200);
  BOOST_TEST(r1.header("x-request-id") == "big-one");
  BOOST_TEST(r1.json().at("data").at("userId").as_string() == "alice");
  c.send(token_request(app_jwt("bob"), "small-one"));
  const auto r2 = c.read_response();
  BOOST_TEST(r2.status == 200);
  BOOST_TEST(r2.header("x-request-id") == "small-one");
  BOOST_TEST(r2.json().at("data").at("userId").as_string() == "bob");
  c.send(large("carol", "big-two"));
  const auto r3 = c.read_response();
  BOOST_TEST(r3.status == 200);
  BOOST_TEST(r3.header("x-request-id") == "big-two");
  BOOST_TEST(r3.json().at("data").at("userId").as_string() == "carol");
}

BOOST_AUTO_TEST_CASE(oversized_header_gets_431_and_close) {
  RunningApp app({{"HTTP_HEADER_LIMIT_BYTES", "4096"}});
  RawConnection c(app.port);
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'a') + "\r\n\r\n");
  const auto r = c.read_response();
  BOOST_TEST(r.status == 431);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "header_too_large");
  BOOST_TEST(c.closed_within(2s));
}

BOOST_AUTO_TEST_CASE(oversized_body_gets_413_before_it_is_read) {
  RunningApp app({{"HTTP_BODY_LIMIT_BYTES", "2048"}});
  RawConnection c(app.port);
  c.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n");
  const auto r = c.read_response();
  BOOST_TEST(r.status == 413);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "payload_too_large");
  BOOST_TEST(c.closed_within(2s));
}

BOOST_AUTO_TEST_CASE(oversized_chunked_body_gets_413) {
  RunningApp app({{"HTTP_BODY_LIMIT_BYTES", "2048"}});
  RawConnection c(app.port);
  std::string chunk(1500, 'x');
  c.send(
      "POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5dc\r\n" +
      chunk + "\r\n5dc\r\n" + chunk + "\r\n0\r\n\r\n");
  BOOST_TEST(c.read_response().status == 413);
}

BOOST_AUTO_TEST_CASE(body_on_an_unknown_path_is_bounded_too) {
  RunningApp app;
  RawConnection c(app.port);
  c.send("POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  BOOST_TEST(c.read_response().status == 413);
}

BOOST_AUTO_TEST_CASE(slow_client_is_closed_by_the_header_timeout) {
  RunningApp app({{"HTTP_HEADER_TIMEOUT_MS", "300"}});
  RawConnection c(app.port);
  c.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\n");  // never finishes the header
  BOOST_TEST(c.closed_within(3s));
}

BOOST_AUTO_TEST_CASE(a_header_trickled_a_byte_at_a_time_is_closed_by_the_header_timeout) {
  // Every read completes, but the header as a whole must arrive within the timeout: a byte
  // every 40 ms would take over 2 s to finish this header.
  RunningApp app({{"HTTP_HEADER_TIMEOUT_MS", "300"}});
  RawConnection c(app.port);
  const std::string header = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(50, 'a');
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (char ch : header) {
    try {
      c.send(std::string(1, ch));
    } catch (const std::runtime_error&) {
      closed = true;  // the server closed the connection: sending fails
      break;
    }
    if (c.closed_within(40ms)) {
      closed = true;
      break;
    }
  }
  BOOST_TEST(closed);
  // The header timeout plus at most one sweep of the deadlines (and the machine's slack).
  BOOST_TEST((std::chrono::steady_clock::now() - start < 1500ms));
}

BOOST_AUTO_TEST_CASE(slow_body_is_closed_by_the_body_timeout) {
  RunningApp app({{"HTTP_BODY_TIMEOUT_MS", "300"}});
  RawConnection c(app.port);
  c.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{\"a\"");
  BOOST_TEST(c.closed_within(3s));
}

BOOST_AUTO_TEST_CASE(idle_keep_alive_connections_are_closed) {
  RunningApp app({{"HTTP_IDLE_TIMEOUT_MS", "300"}});
  RawConnection c(app.port);
  c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(c.read_response().status == 200);
  BOOST_TEST(c.closed_within(3s));
}

BOOST_AUTO_TEST_CASE(malformed_requests_get_400) {
  RunningApp app;
  for (const std::string& raw :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET /healthz HTTP/1.1\r\nHost x\r\n\r\n"),
        std::string("GET http://other/healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("POST /api/v1/stream/token HTTP/1.1\r\nContent-Length: abc\r\n\r\n")}) {
    BOOST_TEST_CONTEXT(raw.substr(0, 30)) {
      RawConnection c(app.port);
      c.send(raw);
      const auto r = c.read_response();
      BOOST_TEST(r.status == 400);
      BOOST_TEST(r.json().at("success").as_bool() == false);
    }
  }
}

BOOST_AUTO_TEST_CASE(connection_limit_answers_503) {
  RunningApp app({{"HTTP_MAX_CONNECTIONS", "2"}, {"HTTP_THREADS", "1"}});
  RawConnection a(app.port), b(app.port);
  a.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  b.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(a.read_response().status == 200);
  BOOST_TEST(b.read_response().status == 200);
  RawConnection c(app.port);
  const auto r = c.read_response();
  BOOST_TEST(r.status == 503);
  BOOST_TEST(r.json().at("error").at("code").as_string() == "too_many_connections");
}

BOOST_AUTO_TEST_CASE(expect_100_continue_is_honoured) {
  RunningApp app;
  RawConnection c(app.port);
  const std::string body = R"({"validitySeconds":300})";
  c.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         app_jwt("gina") +
         "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n");
  const auto cont = c.read_response();
  BOOST_TEST(cont.status == 100);
  c.send(body);
  BOOST_TEST(c.read_response().status == 200);
}

BOOST_AUTO_TEST_CASE(options_asterisk_describes_the_server) {
  RunningApp app;
  RawConnection c(app.port);
  c.send("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto r = c.read_response();
  BOOST_TEST(r.status == 204);
  BOOST_TEST(r.header("allow").find("POST") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(head_gets_headers_without_a_body) {
  RunningApp app;
  RawConnection c(app.port);
  c.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  // read_response would wait for a body after HEAD; read the raw bytes instead.
  std::this_thread::sleep_for(200ms);
  const std::string raw = c.read_all(500ms);
  const auto first_end = raw.find("\r\n\r\n");
  BOOST_TEST_REQUIRE(first_end != std::string::npos);
  BOOST_TEST(raw.substr(0, 15) == "HTTP/1.1 200 OK");
  BOOST_TEST(raw.substr(first_end + 4, 15) == "HTTP/1.1 200 OK");  // no body in between
}

BOOST_AUTO_TEST_CASE(concurrent_clients_all_succeed) {
  RunningApp app;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      RawConnection c(app.port);
      const std::string jwt = app_jwt("user" + std::to_string(t));
      for (int i = 0; i < 25; ++i) {
        c.send(token_request(jwt, "r" + std::to_string(i)));
        const auto r = c.read_response();
        if (r.status == 200 &&
            r.json().at("data").at("userId").as_string() == "user" + std::to_string(t))
          ++ok;
      }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(ok.load() == 200);
}

BOOST_AUTO_TEST_SUITE_END()
