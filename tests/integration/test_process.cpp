#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <regex>
#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_https.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/stream_events.hpp"

#include <filesystem>

using namespace streamgate::test;
using namespace std::chrono_literals;

namespace {

std::map<std::string, std::string> process_env(std::map<std::string, std::string> overrides = {}) {
  auto env = base_env();
  env["LOG_LEVEL"] = "info";
  env["PATH"] = "/usr/bin:/bin";
  for (auto& [k, v] : overrides) env[k] = v;
  return env;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process)

BOOST_AUTO_TEST_CASE(missing_or_invalid_settings_exit_2_with_one_line_naming_them) {
  const std::string dir = make_temp_dir("sg-cfg");
  struct Case {
    std::string key;
    std::string value;
    bool erase;
  };
  for (const auto& c : {Case{"STREAM_API_KEY", "", true}, Case{"STREAM_API_SECRET", "", true},
                        Case{"AUTH_JWT_SECRET", "", true}, Case{"PORT", "not-a-port", false},
                        Case{"AUTH_JWT_PUBLIC_KEY_FILE", "/nonexistent.pem", false}}) {
    auto env = process_env();
    if (c.erase)
      env.erase(c.key);
    else
      env[c.key] = c.value;
    BOOST_TEST_CONTEXT(c.key) {
      const auto [code, out] = run_command({STREAMGATE_BINARY}, env, dir);
      BOOST_TEST(code == 2);
      BOOST_TEST(out.find(c.key) != std::string::npos, "output: " << out);
      BOOST_TEST(std::count(out.begin(), out.end(), '\n') == 1);
      BOOST_TEST(out.find(kStreamSecret) == std::string::npos);
      BOOST_TEST(out.find(kAppSecret) == std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(help_lists_every_setting) {
  const auto [code, out] = run_command({STREAMGATE_BINARY, "--help"}, {}, make_temp_dir("sg-help"));
  BOOST_TEST(code == 0);
  for (const char* name : {"STREAM_API_KEY",
                           "STREAM_API_SECRET",
                           "STREAM_API_SECRET_PREVIOUS",
                           "STREAM_BASE_URL",
                           "STREAM_CA_FILE",
                           "AUTH_JWT_SECRET",
                           "AUTH_JWT_PUBLIC_KEY_FILE",
                           "AUTH_JWKS_URL",
                           "AUTH_JWT_ISSUER",
                           "AUTH_JWT_AUDIENCE",
                           "AUTH_USER_ID_CLAIM",
                           "AUTH_ROLES_CLAIM",
                           "LISTEN_ADDRESS",
                           "PORT",
                           "DATABASE_URL",
                           "REDIS_URL",
                           "TOKEN_TTL_SECONDS",
                           "CORS_ALLOWED_ORIGINS",
                           "TLS_CERT_FILE",
                           "TLS_KEY_FILE",
                           "LOG_LEVEL",
                           "LOG_FORMAT",
                           "RATE_LIMIT_USER_PER_MINUTE",
                           "RATE_LIMIT_IP_PER_MINUTE"}) {
    BOOST_TEST_CONTEXT(name) { BOOST_TEST(out.find(name) != std::string::npos); }
  }
}

BOOST_AUTO_TEST_CASE(a_fresh_directory_gets_a_working_dev_setup) {
  const std::string dir = make_temp_dir("sg-fresh");
  const std::map<std::string, std::string> env{{"PATH", "/usr/bin:/bin"}};
  const auto [code, out] = run_command({STREAMGATE_BINARY, "init-env"}, env, dir);
  BOOST_TEST_REQUIRE(code == 0);
  BOOST_TEST(out.find("real STREAM_API_KEY") != std::string::npos);
  const std::string dotenv = read_file(dir + "/.env");
  BOOST_TEST(dotenv.find("STREAM_API_SECRET=") != std::string::npos);
  // Never overwritten by accident.
  BOOST_TEST(run_command({STREAMGATE_BINARY, "init-env"}, env, dir).first == 1);
  BOOST_TEST(read_file(dir + "/.env") == dotenv);

  auto serve_env = env;
  serve_env["PORT"] = "0";  // the environment wins over .env
  Process p({STREAMGATE_BINARY}, serve_env, dir, dir + "/serve.log");
  const auto port = p.wait_for_port();
  const auto [mcode, jwt_out] =
      run_command({STREAMGATE_BINARY, "mint-dev-jwt", "--sub", "alice"}, env, dir);
  BOOST_TEST_REQUIRE(mcode == 0);
  const std::string jwt = jwt_out.substr(0, jwt_out.find('\n'));
  const auto r =
      http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.json().at("data").at("userId").as_string() == "alice");
  p.signal(SIGTERM);
  BOOST_TEST(p.wait(10s) == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_drains_in_flight_requests_then_exits_0) {
  const std::string dir = make_temp_dir("sg-drain");
  Process p({STREAMGATE_BINARY},
            process_env({{"SHUTDOWN_GRACE_SECONDS", "10"}, {"SHUTDOWN_DELAY_SECONDS", "1"}}), dir,
            dir + "/serve.log");
  const auto port = p.wait_for_port();
  const std::string jwt = app_jwt("alice");

  // An idle keep-alive connection and a request whose body is still arriving.
  RawConnection idle(port);
  idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(idle.read_response().status == 200);
  RawConnection inflight(port);
  const std::string body = R"({"validitySeconds":300})";
  inflight.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + jwt +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
                body.substr(0, 5));
  std::this_thread::sleep_for(100ms);

  p.signal(SIGTERM);
  std::this_thread::sleep_for(300ms);
  // During the shutdown delay: not ready, but still serving.
  const auto ready = http_request(port, "GET", "/readyz");
  BOOST_TEST(ready.status == 503);
  BOOST_TEST(ready.json().at("error").at("code").as_string() == "draining");
  BOOST_TEST(http_request(port, "GET", "/healthz").status == 200);

  // After the delay: idle connections are closed, new ones refused, the in-flight one finishes.
  BOOST_TEST(idle.closed_within(3s));
  bool refused = false;
  try {
    RawConnection late(port);
    late.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    late.read_response(1s);
  } catch (const std::exception&) {
    refused = true;
  }
  BOOST_TEST(refused);
  inflight.send(body.substr(5));
  const auto r = inflight.read_response();
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.header("connection") == "close");
  BOOST_TEST(p.wait(10s) == 0);
  BOOST_TEST(p.log().find("\"msg\":\"stopped\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(grace_period_bounds_the_drain) {
  const std::string dir = make_temp_dir("sg-grace");
  Process p({STREAMGATE_BINARY}, process_env({{"SHUTDOWN_GRACE_SECONDS", "1"}}), dir,
            dir + "/serve.log");
  const auto port = p.wait_for_port();
  RawConnection stuck(port);
  stuck.send("POST /api/v1/stream/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{");
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  p.signal(SIGTERM);
  BOOST_TEST(p.wait(10s) == 0);
  BOOST_TEST((std::chrono::steady_clock::now() - start < 5s));
}

BOOST_AUTO_TEST_CASE(logs_carry_no_tokens_or_secrets) {
  const std::string dir = make_temp_dir("sg-logs");
  Process p({STREAMGATE_BINARY},
            process_env({{"STREAM_API_SECRET_PREVIOUS", "old-secret-value-xyz"}}), dir,
            dir + "/serve.log");
  const auto port = p.wait_for_port();
  const std::string jwt = app_jwt("alice");
  const auto ok =
      http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt}});
  BOOST_TEST_REQUIRE(ok.status == 200);
  const std::string stream_token(ok.json().at("data").at("token").as_string());
  http_request(port, "POST", "/api/v1/stream/token", {{"Authorization", "Bearer " + jwt + "x"}});
  http_request(port, "GET", "/api/v1/stream/token?token=" + jwt);
  p.signal(SIGTERM);
  BOOST_TEST(p.wait(10s) == 0);
  const std::string log = p.log();
  BOOST_TEST(log.find("\"msg\":\"token issued\"") != std::string::npos);  // the audit line
  BOOST_TEST(log.find("\"user\":\"alice\"") != std::string::npos);
  for (const std::string& s :
       {stream_token, jwt, kStreamSecret, kAppSecret, std::string("old-secret-value-xyz")}) {
    BOOST_TEST(log.find(s) == std::string::npos);
  }
  // Every line is one JSON object.
  std::size_t pos = 0, lines = 0;
  while (pos < log.size()) {
    const auto nl = log.find('\n', pos);
    const std::string line = log.substr(pos, nl - pos);
    if (!line.empty()) {
      boost::system::error_code ec;
      boost::json::parse(line, ec);
      BOOST_TEST(!ec, "not JSON: " << line);
      ++lines;
    }
    pos = nl == std::string::npos ? log.size() : nl + 1;
  }
  BOOST_TEST(lines >= 4u);
}

BOOST_AUTO_TEST_CASE(port_in_use_fails_clearly) {
  const std::string dir = make_temp_dir("sg-port");
  // Hold a port with a plain listening socket (no SO_REUSEPORT), then ask for it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_TEST_REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const auto [code, out] = run_command(
      {STREAMGATE_BINARY}, process_env({{"PORT", std::to_string(ntohs(addr.sin_port))}}), dir);
  ::close(fd);
  BOOST_TEST(code == 1);
  BOOST_TEST(out.find("cannot start") != std::string::npos, out);
  BOOST_TEST(out.find("in use") != std::string::npos, out);
}

BOOST_AUTO_TEST_CASE(sigkill_right_after_200_loses_no_webhook) {
  const std::string dir = make_temp_dir("sg-kill");
  const auto env = process_env({{"DATABASE_URL", "sqlite:" + dir + "/data/streamgate.db"}});
  std::vector<std::string> ids;
  {
    Process p({STREAMGATE_BINARY}, env, dir, dir + "/first.log");
    const auto port = p.wait_for_port();
    for (int i = 0; i < 40; ++i) {
      const std::string body = session_ended("killed", "s" + std::to_string(i),
                                             "2026-04-08T14:00:00Z", "2026-04-08T14:01:00Z");
      const auto r = http_request(
          port, "POST", "/api/webhook/stream",
          {{"X-Signature", sign(kStreamSecret, body)}, {"X-Webhook-Id", "k" + std::to_string(i)}},
          body);
      BOOST_TEST_REQUIRE(r.status == 200);
    }
    p.signal(SIGKILL);  // no drain, no flush: only what was committed survives
    BOOST_TEST(p.wait(10s) == 128 + SIGKILL);
  }
  Process again({STREAMGATE_BINARY}, env, dir, dir + "/second.log");
  const auto port = again.wait_for_port();
  const auto r =
      http_request(port, "GET", "/api/v1/calls/killed",
                   {{"Authorization", "Bearer " + app_jwt("ops", {{"roles", "admin"}})}});
  BOOST_TEST_REQUIRE(r.status == 200);
  // All 40 counted; the document keeps the latest 32 in detail (core::kKeptEndedSessions).
  BOOST_TEST(r.json().at("data").at("sessionCount").as_int64() == 40);
  BOOST_TEST(r.json().at("data").at("sessions").as_array().size() == 32u);
  BOOST_TEST(r.json().at("data").at("durationSeconds").as_int64() == 40 * 60);
  again.signal(SIGTERM);
  BOOST_TEST(again.wait(10s) == 0);
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_tls_certificate) {
  const std::string dir = make_temp_dir("sg-hup");
  std::filesystem::copy_file(test_pki().server_cert, dir + "/tls.pem");
  std::filesystem::copy_file(test_pki().server_key, dir + "/tls.key");
  Process p({STREAMGATE_BINARY},
            process_env({{"TLS_CERT_FILE", dir + "/tls.pem"}, {"TLS_KEY_FILE", dir + "/tls.key"}}),
            dir, dir + "/serve.log");
  p.wait_for_port();
  std::filesystem::copy_file(test_pki().server2_cert, dir + "/tls.pem",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(test_pki().server2_key, dir + "/tls.key",
                             std::filesystem::copy_options::overwrite_existing);
  p.signal(SIGHUP);
  bool reloaded = false;
  for (int i = 0; i < 100 && !reloaded; ++i) {
    std::this_thread::sleep_for(50ms);
    reloaded = p.log().find("\"msg\":\"tls reloaded\"") != std::string::npos;
  }
  BOOST_TEST(reloaded);
  BOOST_TEST(p.wait(0ms) == -1);  // still running
  write_file(dir + "/tls.pem", "garbage");
  p.signal(SIGHUP);
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    std::this_thread::sleep_for(50ms);
    refused = p.log().find("tls reload failed") != std::string::npos;
  }
  BOOST_TEST(refused);
  p.signal(SIGTERM);
  BOOST_TEST(p.wait(10s) == 0);
}

BOOST_AUTO_TEST_CASE(check_config_reaches_what_the_configuration_names) {
  const std::string dir = make_temp_dir("sg-check");
  FakeStream fake(kStreamKey, kStreamSecret);
  const std::string jwk = public_jwk(make_rsa_key(), "k1");
  FakeHttpsServer jwks(test_pki().server_cert, test_pki().server_key, [&](const FakeRequest&) {
    return FakeResponse{200, {}, R"({"keys":[)" + jwk + "]}"};
  });
  auto env = process_env({{"STREAM_BASE_URL", fake.base_url()},
                          {"STREAM_CA_FILE", test_pki().ca_cert},
                          {"AUTH_JWKS_URL", jwks.base_url() + "/jwks"},
                          {"AUTH_JWKS_CA_FILE", test_pki().ca_cert},
                          {"DATABASE_URL", "sqlite:" + dir + "/db.sqlite"}});
  const auto [code, out] = run_command({STREAMGATE_BINARY, "check-config"}, env, dir);
  BOOST_TEST(code == 0, out);
  BOOST_TEST(
      out.find("configuration ok: store sqlite; stream; jwks (1 keys);") != std::string::npos, out);
  // One authenticated call to Stream, for a call that does not exist.
  const auto sent = fake.requests();
  BOOST_TEST_REQUIRE(sent.size() == 1u);
  BOOST_TEST(sent[0].method == "GET");
  BOOST_TEST(sent[0].path.rfind("/api/v2/video/call/default/streamgate-check-", 0) == 0u);
  BOOST_TEST(fake.violations().empty());

  // Wrong credentials, an unreachable Redis and a JWKS host that does not answer with keys:
  // one line each, exit 1, and never a secret.
  auto bad = env;
  bad["STREAM_API_SECRET"] = "not-the-secret-at-all";
  bad["REDIS_URL"] = "redis://:redis-password-xyz@127.0.0.1:" + std::to_string(free_port());
  FakeHttpsServer empty(test_pki().server_cert, test_pki().server_key, [](const FakeRequest&) {
    return FakeResponse{404, {}, "{}"};
  });
  bad["AUTH_JWKS_URL"] = empty.base_url() + "/jwks";
  const auto [bad_code, bad_out] = run_command({STREAMGATE_BINARY, "check-config"}, bad, dir);
  BOOST_TEST(bad_code == 1, bad_out);
  BOOST_TEST(bad_out.find("streamgate: stream: ") != std::string::npos, bad_out);
  BOOST_TEST(bad_out.find("refused the credentials (HTTP 401") != std::string::npos, bad_out);
  BOOST_TEST(bad_out.find("streamgate: redis: not reachable") != std::string::npos, bad_out);
  BOOST_TEST(bad_out.find("streamgate: jwks: ") != std::string::npos, bad_out);
  BOOST_TEST(bad_out.find("configuration test failed") != std::string::npos, bad_out);
  BOOST_TEST(bad_out.find("not-the-secret-at-all") == std::string::npos);
  BOOST_TEST(bad_out.find("redis-password-xyz") == std::string::npos);

  // A configuration error is exit 2, as when serving.
  auto invalid = env;
  invalid["PORT"] = "eighty";
  const auto [invalid_code, invalid_out] =
      run_command({STREAMGATE_BINARY, "check-config"}, invalid, dir);
  BOOST_TEST(invalid_code == 2);
  BOOST_TEST(invalid_out.find("PORT must be an integer") != std::string::npos, invalid_out);
}

BOOST_AUTO_TEST_CASE(healthcheck_follows_the_port_and_tls_settings) {
  const std::string dir = make_temp_dir("sg-health");
  for (const bool tls : {false, true}) {
    BOOST_TEST_CONTEXT("tls " << tls) {
      auto env = process_env({{"PORT", std::to_string(free_port())},
                              {"DATABASE_URL", "sqlite:" + dir + "/db.sqlite"}});
      if (tls) {
        env["TLS_CERT_FILE"] = test_pki().server_cert;
        env["TLS_KEY_FILE"] = test_pki().server_key;
      }
      // Nothing listening yet: unhealthy.
      BOOST_TEST(run_command({STREAMGATE_BINARY, "healthcheck"}, env, dir).first == 1);
      Process p({STREAMGATE_BINARY}, env, dir, dir + "/serve.log");
      p.wait_for_port();
      const auto [code, out] = run_command({STREAMGATE_BINARY, "healthcheck"}, env, dir);
      BOOST_TEST(code == 0, out);
      BOOST_TEST(out.find(std::string(tls ? "https" : "http") + "://127.0.0.1:" + env["PORT"] +
                          "/readyz: 200") != std::string::npos,
                 out);
      p.signal(SIGTERM);
      BOOST_TEST(p.wait(10s) == 0);
    }
  }
}

BOOST_AUTO_TEST_CASE(text_logs_read_as_sentences_and_levels_are_named_as_log_level_names_them) {
  const std::string dir = make_temp_dir("sg-textlog");
  for (const std::string format : {"text", "json"}) {
    BOOST_TEST_CONTEXT(format) {
      auto env = process_env({{"LOG_FORMAT", format},
                              {"STREAM_BASE_URL", "https://127.0.0.1:9"},
                              {"STREAM_MAX_ATTEMPTS", "1"},
                              {"DATABASE_URL", "sqlite:" + dir + "/" + format + ".sqlite"}});
      Process p({STREAMGATE_BINARY}, env, dir, dir + "/" + format + ".log");
      std::uint16_t port = 0;
      if (format == "json") {
        port = p.wait_for_port();
      } else {
        // The text "listening" line: `HH:MM:SS INFO  listening address=... port=N ...`.
        const std::regex re("INFO  listening address=127\\.0\\.0\\.1 port=([0-9]+)");
        std::smatch m;
        for (int i = 0; i < 200 && port == 0; ++i) {
          const std::string text = p.log();
          if (std::regex_search(text, m, re)) port = static_cast<std::uint16_t>(std::stoi(m[1]));
          std::this_thread::sleep_for(25ms);
        }
        BOOST_TEST_REQUIRE(port != 0, p.log());
      }
      const auto r = http_request(port, "POST", "/api/v1/calls",
                                  {{"Authorization", "Bearer " + app_jwt("alice")},
                                   {"Content-Type", "application/json"},
                                   {"X-Request-Id", "text-log-1"}},
                                  R"({"callId":"c1"})");
      BOOST_TEST(r.status == 503);  // Stream unreachable: a warn line and a 5xx access line
      p.signal(SIGTERM);
      BOOST_TEST(p.wait(10s) == 0);
      const std::string log = p.log();
      if (format == "text") {
        const std::regex access(
            "\n[0-9]{2}:[0-9]{2}:[0-9]{2} WARN  request POST /api/v1/calls 503 [0-9.]+ms "
            "bytes=[0-9]+ user=alice ip=127\\.0\\.0\\.1 requestId=text-log-1 "
            "traceId=[0-9a-f]{32}\n");
        BOOST_TEST(std::regex_search(log, access), log);
        BOOST_TEST(
            log.find("WARN  stream request failed operation=upsert_users") != std::string::npos,
            log);
        BOOST_TEST(log.find("{") == std::string::npos, log);  // no JSON anywhere
      } else {
        BOOST_TEST(log.find("\"level\":\"warn\",\"msg\":\"request\"") != std::string::npos, log);
        BOOST_TEST(log.find("\"level\":\"warning\"") == std::string::npos);
        BOOST_TEST(log.find("\"level\":\"info\",\"msg\":\"listening\"") != std::string::npos);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(secrets_from_files_are_read_at_start) {
  const std::string dir = make_temp_dir("sg-secret-files");
  auto env = process_env({{"DATABASE_URL", "sqlite:" + dir + "/db.sqlite"}});
  env.erase("STREAM_API_SECRET");
  env.erase("AUTH_JWT_SECRET");
  std::ofstream(dir + "/stream_secret") << kStreamSecret << "\n";
  std::ofstream(dir + "/jwt_secret") << kAppSecret << "\n";
  env["STREAM_API_SECRET_FILE"] = dir + "/stream_secret";
  env["AUTH_JWT_SECRET_FILE"] = dir + "/jwt_secret";
  Process p({STREAMGATE_BINARY}, env, dir, dir + "/serve.log");
  const auto port = p.wait_for_port();
  const auto r = http_request(port, "POST", "/api/v1/stream/token",
                              {{"Authorization", "Bearer " + app_jwt("alice")}});
  BOOST_TEST_REQUIRE(r.status == 200, r.body);
  // The Stream token is signed with the secret from the file (its trailing newline removed).
  const auto token = std::string(r.json().at("data").at("token").as_string());
  const auto decoded = streamgate::core::decode_jwt(token);
  BOOST_TEST_REQUIRE(decoded.jwt.has_value());
  streamgate::core::JwtKeys keys;
  keys.hs256 = std::make_shared<const streamgate::core::HmacSha256Key>(kStreamSecret);
  BOOST_TEST(streamgate::core::verify_jwt(*decoded.jwt, keys, {}, streamgate::server::unix_now()) ==
             streamgate::core::JwtError::none);
  p.signal(SIGTERM);
  BOOST_TEST(p.wait(10s) == 0);
  // Both forms at once: exit 2 with one line.
  env["STREAM_API_SECRET"] = "x";
  const auto [code, out] = run_command({STREAMGATE_BINARY}, env, dir);
  BOOST_TEST(code == 2);
  BOOST_TEST(
      out.find("STREAM_API_SECRET and STREAM_API_SECRET_FILE are both set") != std::string::npos,
      out);
}

BOOST_AUTO_TEST_SUITE_END()
