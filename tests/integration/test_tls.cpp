#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <filesystem>

#include "http/https_client.hpp"
#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"

using namespace streamgate;
using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

struct Probe {
  bool handshake = false;
  std::string common_name;
  std::string version;
};

// A raw OpenSSL client: `max_version` 0 for the library's default range.
Probe tls_probe(std::uint16_t port, int min_version, int max_version) {
  Probe p;
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_security_level(ctx, 0);  // let the client offer old versions; the server must refuse
  if (min_version) SSL_CTX_set_min_proto_version(ctx, min_version);
  if (max_version) SSL_CTX_set_max_proto_version(ctx, max_version);
  SSL_CTX_load_verify_locations(ctx, test_pki().ca_cert.c_str(), nullptr);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    SSL* ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) == 1) {
      p.handshake = true;
      p.version = SSL_get_version(ssl);
      if (X509* cert = SSL_get1_peer_certificate(ssl)) {
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
        p.common_name = cn;
        X509_free(cert);
      }
      SSL_shutdown(ssl);
    }
    SSL_free(ssl);
  }
  ::close(fd);
  SSL_CTX_free(ctx);
  return p;
}

std::map<std::string, std::string> tls_env(const std::string& dir) {
  std::filesystem::copy_file(test_pki().server_cert, dir + "/tls.pem",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(test_pki().server_key, dir + "/tls.key",
                             std::filesystem::copy_options::overwrite_existing);
  return {{"TLS_CERT_FILE", dir + "/tls.pem"}, {"TLS_KEY_FILE", dir + "/tls.key"}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(tls_termination)

BOOST_AUTO_TEST_CASE(serves_https_with_tls12_or_13_only) {
  const std::string dir = make_temp_dir("sg-tls");
  RunningApp app(tls_env(dir));

  // A real HTTPS request, certificate and host name verified.
  http::ClientOptions o;
  o.ca_file = test_pki().ca_cert;
  http::HttpsClient client(o);
  boost::asio::io_context ctx;
  auto res = boost::asio::co_spawn(
      ctx,
      [&]() -> boost::asio::awaitable<http::ClientResponse> {
        http::ClientRequest r;
        r.url = "https://127.0.0.1:" + std::to_string(app.port) + "/healthz";
        auto op = client.request(std::move(r));  // [gcc12-co_await]
        co_return co_await std::move(op);
      },
      boost::asio::use_future);
  ctx.run();
  BOOST_TEST(res.get().status == 200);
  client.close_idle();

  const auto modern = tls_probe(app.port, 0, 0);
  BOOST_TEST(modern.handshake);
  BOOST_TEST(modern.version == "TLSv1.3");
  const auto tls12 = tls_probe(app.port, TLS1_2_VERSION, TLS1_2_VERSION);
  BOOST_TEST(tls12.handshake);
  BOOST_TEST(tls12.version == "TLSv1.2");
  BOOST_TEST(!tls_probe(app.port, TLS1_1_VERSION, TLS1_1_VERSION).handshake);
  BOOST_TEST(!tls_probe(app.port, TLS1_VERSION, TLS1_VERSION).handshake);

  // Plain HTTP on the TLS port gets no HTTP answer: the connection is closed.
  RawConnection plain(app.port);
  plain.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string answer = plain.read_all(3s);
  BOOST_TEST(answer.find("HTTP/1.1 200") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_renewed_certificate_is_picked_up_without_a_restart) {
  const std::string dir = make_temp_dir("sg-tls-reload");
  RunningApp app(tls_env(dir));
  BOOST_TEST(tls_probe(app.port, 0, 0).common_name == "server");
  std::filesystem::copy_file(test_pki().server2_cert, dir + "/tls.pem",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(test_pki().server2_key, dir + "/tls.key",
                             std::filesystem::copy_options::overwrite_existing);
  app.app->reload_tls();
  BOOST_TEST(tls_probe(app.port, 0, 0).common_name == "server2");
  // A broken file is refused and the current certificate stays in use.
  write_file(dir + "/tls.pem", "not a certificate");
  BOOST_CHECK_THROW(app.app->reload_tls(), std::runtime_error);
  BOOST_TEST(tls_probe(app.port, 0, 0).common_name == "server2");
}

BOOST_AUTO_TEST_CASE(unusable_tls_files_stop_start_up) {
  const std::string dir = make_temp_dir("sg-tls-bad");
  write_file(dir + "/bad.pem", "nope");
  BOOST_CHECK_THROW(
      RunningApp({{"TLS_CERT_FILE", dir + "/bad.pem"}, {"TLS_KEY_FILE", dir + "/bad.pem"}}),
      server::ConfigError);
  BOOST_CHECK_THROW(RunningApp({{"TLS_CERT_FILE", test_pki().server_cert},
                                {"TLS_KEY_FILE", test_pki().other_host_key}}),
                    server::ConfigError);
}

BOOST_AUTO_TEST_SUITE_END()
