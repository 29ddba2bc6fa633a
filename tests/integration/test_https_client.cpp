#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

#include "http/https_client.hpp"
#include "tests/support/fake_https.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

// Runs one request on `ctx` and returns the answer (or rethrows the client's error).
http::ClientResponse fetch(boost::asio::io_context& ctx, http::HttpsClient& client,
                           const std::string& url) {
  auto f = boost::asio::co_spawn(
      ctx,
      [&]() -> boost::asio::awaitable<http::ClientResponse> {
        http::ClientRequest r;
        r.url = url;
        r.timeout = 3s;
        auto op = client.request(std::move(r));  // [gcc12-co_await]
        co_return co_await std::move(op);
      },
      boost::asio::use_future);
  ctx.restart();
  ctx.run();
  return f.get();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(https_client)

BOOST_AUTO_TEST_CASE(responses_over_the_size_limit_are_refused) {
  FakeHttpsServer server(test_pki().server_cert, test_pki().server_key, [](const FakeRequest&) {
    return FakeResponse{200, {}, std::string(4096, 'x')};
  });
  http::ClientOptions o;
  o.ca_file = test_pki().ca_cert;
  o.max_response_bytes = 1024;
  http::HttpsClient client(o);
  boost::asio::io_context ctx;
  try {
    fetch(ctx, client, server.base_url() + "/big");
    BOOST_FAIL("a 4 KB body passed a 1 KB limit");
  } catch (const http::ClientError& e) {
    BOOST_TEST((e.kind == http::ClientErrorKind::too_large));
  }
  client.close_idle();
}

BOOST_AUTO_TEST_CASE(idle_connections_are_reused_then_expire) {
  FakeHttpsServer server(test_pki().server_cert, test_pki().server_key, [](const FakeRequest&) {
    return FakeResponse{200, {}, "{}"};
  });
  http::ClientOptions o;
  o.ca_file = test_pki().ca_cert;
  o.idle_timeout = 1s;
  http::HttpsClient client(o);
  boost::asio::io_context ctx;
  for (int i = 0; i < 3; ++i)
    BOOST_TEST(fetch(ctx, client, server.base_url() + "/a").status == 200);
  BOOST_TEST(server.accepts() == 1u);
  BOOST_TEST(client.connections_opened() == 1u);
  std::this_thread::sleep_for(1200ms);
  BOOST_TEST(fetch(ctx, client, server.base_url() + "/b").status == 200);
  BOOST_TEST(client.connections_opened() == 2u);  // the idle one had expired
  client.close_idle();
}

BOOST_AUTO_TEST_CASE(a_pooled_connection_the_server_dropped_is_replaced_transparently) {
  // The server promises keep-alive, then drops the connection: the pooled one is stale.
  FakeHttpsServer server(test_pki().server_cert, test_pki().server_key, [](const FakeRequest&) {
    FakeResponse r{200, {{"Connection", "keep-alive"}}, "{}"};
    r.close_after = true;
    return r;
  });
  http::ClientOptions o;
  o.ca_file = test_pki().ca_cert;
  http::HttpsClient client(o);
  boost::asio::io_context ctx;
  BOOST_TEST(fetch(ctx, client, server.base_url() + "/1").status == 200);
  std::this_thread::sleep_for(100ms);  // the close has reached us
  BOOST_TEST(fetch(ctx, client, server.base_url() + "/2").status == 200);
  BOOST_TEST(server.accepts() == 2u);  // a second connection replaced the stale one
  BOOST_TEST(server.requests().size() == 2u);
  client.close_idle();
}

BOOST_AUTO_TEST_CASE(bad_urls_and_refused_connections_are_typed_errors) {
  http::HttpsClient client;
  boost::asio::io_context ctx;
  const auto kind_of = [&](const std::string& url) {
    try {
      fetch(ctx, client, url);
    } catch (const http::ClientError& e) {
      return e.kind;
    }
    return http::ClientErrorKind::protocol;
  };
  BOOST_TEST((kind_of("ftp://example/x") == http::ClientErrorKind::invalid_url));
  BOOST_TEST((kind_of("not a url") == http::ClientErrorKind::invalid_url));
  BOOST_TEST((kind_of("https://127.0.0.1:9/") == http::ClientErrorKind::connect));
}

BOOST_AUTO_TEST_SUITE_END()
