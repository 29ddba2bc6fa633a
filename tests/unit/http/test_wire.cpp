// serialize_response against Beast's own serializer: the same message, byte for byte.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "http/wire.hpp"

using namespace streamgate::http;
namespace bhttp = boost::beast::http;

namespace {

// What the session wrote before http/wire.hpp: the response through Beast.
std::string through_beast(const Response& res, Method method, unsigned version, bool close) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  for (const auto& [k, v] : res.headers) out.set(k, v);
  if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type.view());
  out.keep_alive(!close);
  if (method == Method::head) {
    out.content_length(res.body.size());
  } else if (res.status != 204 && res.status != 304) {
    out.body() = res.body;
    out.prepare_payload();
  }
  std::ostringstream os;
  os << out;
  return os.str();
}

std::string ours(const Response& res, Method method, unsigned version, bool close) {
  std::string wire = "left over from the last answer";
  serialize_response(res, method, version, close, wire);
  return wire;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(wire)

BOOST_AUTO_TEST_CASE(the_same_bytes_as_beast) {
  Response json;
  json.body = R"({"success":true,"data":{"token":"abc"}})";
  json.set_header("X-Request-Id", "0123456789abcdef0123456789abcdef");
  json.set_header("X-RateLimit-Limit", "60");
  json.set_header("Cache-Control", "no-store");
  Response empty;
  empty.status = 204;
  empty.content_type.clear();
  empty.set_header("Allow", "GET, POST");
  Response not_found;
  not_found.status = 404;
  not_found.body = R"({"success":false})";
  Response text;
  text.status = 200;
  text.content_type = "text/vtt; charset=utf-8";
  text.body = std::string(100000, 'x');
  Response odd;
  odd.status = 599;  // no reason phrase known
  odd.body = "{}";
  for (const Response* r : {&json, &empty, &not_found, &text, &odd}) {
    for (const Method m : {Method::get, Method::post, Method::head}) {
      for (const unsigned version : {10u, 11u}) {
        for (const bool close : {false, true}) {
          BOOST_TEST_CONTEXT("status " << r->status << " version " << version << " close " << close
                                       << " head " << (m == Method::head)) {
            if (m == Method::head && r->status == 204) {
              // (The old path sent Content-Length: 0 here, which RFC 9110 §8.6 forbids.)
              BOOST_TEST(ours(*r, m, version, close).find("Content-Length") == std::string::npos);
              continue;
            }
            BOOST_TEST(ours(*r, m, version, close) == through_beast(*r, m, version, close));
          }
        }
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(a_field_that_could_split_the_header_is_left_out) {
  Response r;
  r.body = "{}";
  r.headers.emplace_back("X-Good", "yes");
  r.headers.emplace_back("X-Bad", "a\r\nSet-Cookie: evil=1");
  r.headers.emplace_back("X-Nul", std::string("a\0b", 3));
  r.headers.emplace_back("X-Bad\r\nName", "v");
  r.headers.emplace_back("Content-Length", "999");
  r.headers.emplace_back("x-good", "later wins");
  std::string wire;
  serialize_response(r, Method::get, 11, false, wire);
  BOOST_TEST(wire.find("evil") == std::string::npos);
  BOOST_TEST(wire.find("X-Nul") == std::string::npos);
  BOOST_TEST(wire.find("999") == std::string::npos);
  // Beast parses it back: one good field (the later one), the body by its length.
  bhttp::response_parser<bhttp::string_body> parser;
  boost::system::error_code ec;
  parser.eager(true);
  parser.put(boost::asio::buffer(wire), ec);
  BOOST_TEST_REQUIRE(!ec);
  BOOST_TEST_REQUIRE(parser.is_done());
  const auto& msg = parser.get();
  BOOST_TEST(msg["x-good"] == "later wins");
  BOOST_TEST(std::distance(msg.begin(), msg.end()) == 3);  // x-good, Content-Type, Content-Length
  BOOST_TEST(msg.body() == "{}");
}

BOOST_AUTO_TEST_SUITE_END()
