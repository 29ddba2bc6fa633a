#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "server/app/config.hpp"

using namespace streamgate::server;

namespace {

std::map<std::string, std::string> minimal() {
  return {{"STREAM_API_KEY", "key"},
          {"STREAM_API_SECRET", "topsecret-value"},
          {"AUTH_JWT_SECRET", "jwt-secret-value"}};
}

std::string error_of(std::map<std::string, std::string> env) {
  try {
    load_config(env);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config)

BOOST_AUTO_TEST_CASE(defaults) {
  const Config c = load_config(minimal());
  BOOST_TEST(c.listen_address == "0.0.0.0");
  BOOST_TEST(c.port == 8000);
  BOOST_TEST(c.auth_user_id_claim == "sub");
  BOOST_TEST(c.auth_roles_claim == "roles");
  BOOST_TEST(c.token_ttl_seconds == 3600);
  BOOST_TEST(c.token_iat_skew_seconds == 5);
  BOOST_TEST(c.database_url == "sqlite:./data/streamgate.db");
  BOOST_TEST(c.log_format == "json");
  BOOST_TEST(c.call_token_policy == "off");
  BOOST_TEST(c.metrics_address == "127.0.0.1");
  BOOST_TEST(c.metrics_port == 9464);
  BOOST_TEST(c.stream_server_token_ttl_seconds == 3600);
}

namespace {
std::string write_file(const std::string& name, const std::string& content) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sg-config-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}
}  // namespace

BOOST_AUTO_TEST_CASE(secrets_can_come_from_files) {
  auto env = minimal();
  env.erase("STREAM_API_SECRET");
  env.erase("AUTH_JWT_SECRET");
  env["STREAM_API_SECRET_FILE"] = write_file("stream", "from-a-file\n");
  env["AUTH_JWT_SECRET_FILE"] = write_file("jwt", "jwt-from-file\r\n");
  env["DATABASE_URL_FILE"] = write_file("db", "postgres://u:p@db/x");
  env["REDIS_URL_FILE"] = write_file("redis", "redis://:pw@cache:6379\n");
  env["APP_WEBHOOK_URL"] = "https://app.example/hook";
  env["APP_WEBHOOK_SECRET_FILE"] = write_file("whsec", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n");
  const Config c = load_config(env);
  BOOST_TEST(c.stream_api_secret == "from-a-file");  // one trailing newline removed
  BOOST_TEST(c.auth_jwt_secret == "jwt-from-file");  // and a CRLF
  BOOST_TEST(c.database_url == "postgres://u:p@db/x");
  BOOST_TEST(c.redis_url == "redis://:pw@cache:6379");
  BOOST_TEST(c.app_webhook_secret == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
  // Every secret setting has the variant, and --help says so.
  BOOST_TEST(settings_help().find("or STREAM_API_SECRET_FILE") != std::string::npos);
  BOOST_TEST(settings_help().find("or DATABASE_URL_FILE") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_secret_file_that_cannot_be_used_is_an_error) {
  auto both = minimal();
  both["STREAM_API_SECRET_FILE"] = write_file("both", "x\n");
  BOOST_TEST(error_of(both).find("STREAM_API_SECRET and STREAM_API_SECRET_FILE are both set") !=
             std::string::npos);
  auto missing = minimal();
  missing.erase("AUTH_JWT_SECRET");
  missing["AUTH_JWT_SECRET_FILE"] = "/nonexistent/secret";
  BOOST_TEST(error_of(missing).find("AUTH_JWT_SECRET_FILE: cannot read /nonexistent/secret") !=
             std::string::npos);
  auto two_lines = minimal();
  two_lines.erase("STREAM_API_SECRET");
  two_lines["STREAM_API_SECRET_FILE"] = write_file("two", "line-one\nline-two\n");
  const std::string e = error_of(two_lines);
  BOOST_TEST(e.find("more than one line") != std::string::npos);
  BOOST_TEST(e.find("line-one") == std::string::npos);  // never the value
  auto big = minimal();
  big.erase("STREAM_API_SECRET");
  big["STREAM_API_SECRET_FILE"] = write_file("big", std::string(70'000, 'a'));
  BOOST_TEST(error_of(big).find("larger than 64 KiB") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_metrics_listener_is_never_the_public_port) {
  auto env = minimal();
  env["METRICS_PORT"] = "8000";
  BOOST_TEST(error_of(env).find("METRICS_PORT must differ from PORT") != std::string::npos);
  env["METRICS_ADDRESS"] = "off";
  BOOST_TEST(error_of(env).empty());
  env["METRICS_ADDRESS"] = "";
  BOOST_TEST(error_of(env).find("METRICS_ADDRESS") != std::string::npos);
  auto ttl = minimal();
  ttl["STREAM_SERVER_TOKEN_TTL_SECONDS"] = "1";
  BOOST_TEST(error_of(ttl).find("STREAM_SERVER_TOKEN_TTL_SECONDS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_default_config_equals_the_parsed_defaults) {
  // kSettings is the only place defaults are written: Config() reads them, so a default Config
  // and one parsed from an environment with only the required settings differ in those alone.
  Config parsed = load_config(minimal());
  const Config fresh;
  BOOST_TEST(fresh.stream_api_key.empty());
  BOOST_TEST(fresh.auth_jwt_secret.empty());
  parsed.stream_api_key.clear();
  parsed.stream_api_secret.clear();
  parsed.auth_jwt_secret.clear();
  BOOST_TEST((parsed == fresh));
  // The values the struct once repeated by hand (and got wrong) come from kSettings now.
  BOOST_TEST(fresh.header_limit_bytes == 16384);
  BOOST_TEST(fresh.shutdown_grace_seconds == 20);
  BOOST_TEST(fresh.rate_limit_user_per_minute == 60);
  BOOST_TEST(fresh.rate_limit_ip_per_minute == 600);
  BOOST_TEST(fresh.max_connections == 10000);
}

BOOST_AUTO_TEST_CASE(required_and_invalid_settings_name_themselves) {
  struct Case {
    std::string key;
    std::string value;  // "" with erase=true removes it
    bool erase;
    std::string names;
  };
  const Case table[] = {
      {"STREAM_API_KEY", "", true, "STREAM_API_KEY"},
      {"STREAM_API_SECRET", "", true, "STREAM_API_SECRET"},
      {"AUTH_JWT_SECRET", "", true, "AUTH_JWT_SECRET"},
      {"PORT", "eighty", false, "PORT"},
      {"PORT", "70000", false, "PORT"},
      {"LOG_LEVEL", "loud", false, "LOG_LEVEL"},
      {"TOKEN_TTL_SECONDS", "5", false, "TOKEN_TTL_SECONDS"},
      {"CORS_ALLOWED_ORIGINS", "app.example", false, "CORS_ALLOWED_ORIGINS"},
      {"RATE_LIMIT_USER_PER_MINUTE", "-1", false, "RATE_LIMIT_USER_PER_MINUTE"},
      {"CALL_TOKEN_POLICY", "everyone", false, "CALL_TOKEN_POLICY"},
      {"AUTH_REQUIRE_EXP", "maybe", false, "AUTH_REQUIRE_EXP"},
  };
  for (const auto& c : table) {
    auto env = minimal();
    if (c.erase)
      env.erase(c.key);
    else
      env[c.key] = c.value;
    BOOST_TEST_CONTEXT(c.key << "=" << c.value) {
      const std::string e = error_of(env);
      BOOST_TEST(e.find(c.names) != std::string::npos, "error: " << e);
    }
  }
}

BOOST_AUTO_TEST_CASE(redis_urls_plain_tls_and_acl_users) {
  for (const char* ok : {"redis://cache:6379", "redis://:pw@cache/2", "rediss://cache:6380",
                         "rediss://limiter:pw@cache:6380/0"}) {
    auto env = minimal();
    env["REDIS_URL"] = ok;
    BOOST_TEST(error_of(env).empty(), ok);
  }
  auto env = minimal();
  env["REDIS_URL"] = "http://cache:6379";
  BOOST_TEST(error_of(env).find("REDIS_URL") != std::string::npos);
  env["REDIS_URL"] = "redis://cache:6379";
  env["REDIS_CA_FILE"] = "/etc/ssl/certs/ca-certificates.crt";
  BOOST_TEST(error_of(env).find("REDIS_CA_FILE needs a rediss://") != std::string::npos);
  env["REDIS_URL"] = "rediss://cache:6380";
  BOOST_TEST(error_of(env).empty());
  BOOST_TEST(load_config(env).redis_ca_file == "/etc/ssl/certs/ca-certificates.crt");
}

BOOST_AUTO_TEST_CASE(secret_values_never_appear_in_errors) {
  auto env = minimal();
  env["DATABASE_URL"] = "postgres://u:pa55word@db/x";
  env["PORT"] = "bad";
  const std::string e = error_of(env);
  BOOST_TEST(e.find("topsecret-value") == std::string::npos);
  BOOST_TEST(e.find("pa55word") == std::string::npos);
  BOOST_TEST(settings_help().find("STREAM_API_SECRET_PREVIOUS") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(app_event_settings_are_checked) {
  const std::string secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  auto with = [&](std::map<std::string, std::string> extra) {
    auto env = minimal();
    for (auto& [k, v] : extra) env[k] = v;
    return env;
  };
  const Config off = load_config(minimal());
  BOOST_TEST(off.app_webhook_urls.empty());
  BOOST_TEST(off.app_webhook_retry_schedule ==
                 (std::vector<std::int64_t>{5, 300, 1800, 7200, 18000, 36000, 36000}),
             boost::test_tools::per_element());
  const Config on = load_config(with({{"APP_WEBHOOK_URL",
                                       "https://app.example/hooks, http://127.0.0.1:3000/x,"
                                       "http://localhost:9/y,http://[::1]:9/z"},
                                      {"APP_WEBHOOK_SECRET", secret},
                                      {"APP_WEBHOOK_EVENTS", "meeting.ended,meeting.started"},
                                      {"APP_WEBHOOK_RETRY_SCHEDULE", "1,2"}}));
  BOOST_TEST(on.app_webhook_urls.size() == 4u);
  BOOST_TEST(on.app_webhook_events.size() == 2u);
  BOOST_TEST(on.app_webhook_retry_schedule.size() == 2u);
  struct Bad {
    std::map<std::string, std::string> env;
    const char* names;
  };
  const std::vector<Bad> bad = {
      {{{"APP_WEBHOOK_URL", "http://app.example/hooks"}, {"APP_WEBHOOK_SECRET", secret}},
       "APP_WEBHOOK_URL"},
      {{{"APP_WEBHOOK_URL", "http://127.0.0.1.evil.example/x"}, {"APP_WEBHOOK_SECRET", secret}},
       "APP_WEBHOOK_URL"},
      {{{"APP_WEBHOOK_URL", "ftp://x"}, {"APP_WEBHOOK_SECRET", secret}}, "APP_WEBHOOK_URL"},
      {{{"APP_WEBHOOK_URL", "https://app.example/hooks"}}, "APP_WEBHOOK_SECRET"},
      {{{"APP_WEBHOOK_URL", "https://a.example"}, {"APP_WEBHOOK_SECRET", "not-a-whsec"}},
       "APP_WEBHOOK_SECRET"},
      {{{"APP_WEBHOOK_SECRET_PREVIOUS", "whsec_c2hvcnQ="}}, "APP_WEBHOOK_SECRET_PREVIOUS"},
      {{{"APP_WEBHOOK_EVENTS", "meeting.exploded"}}, "APP_WEBHOOK_EVENTS"},
      {{{"APP_WEBHOOK_RETRY_SCHEDULE", "5,,6"}}, "APP_WEBHOOK_RETRY_SCHEDULE"},
      {{{"APP_WEBHOOK_CONCURRENCY", "0"}}, "APP_WEBHOOK_CONCURRENCY"},
  };
  for (const auto& b : bad) {
    const auto error = error_of(with(b.env));
    BOOST_TEST(error.find(b.names) != std::string::npos, b.names << ": " << error);
    BOOST_TEST(error.find("not-a-whsec") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(dotenv_parsing) {
  const auto m = parse_dotenv(
      "# comment\n"
      "A=1\n"
      "export B = two \n"
      "C=\"quoted # not a comment\"\n"
      "D='single'\n"
      "E=value # trailing comment\n"
      "\n"
      "garbage line\n"
      "F=\n");
  BOOST_TEST(m.at("A") == "1");
  BOOST_TEST(m.at("B") == "two");
  BOOST_TEST(m.at("C") == "quoted # not a comment");
  BOOST_TEST(m.at("D") == "single");
  BOOST_TEST(m.at("E") == "value");
  BOOST_TEST(m.at("F") == "");
  BOOST_TEST(m.count("garbage line") == 0u);
}

BOOST_AUTO_TEST_CASE(lists_are_split_and_trimmed) {
  auto env = minimal();
  env["CORS_ALLOWED_ORIGINS"] = " https://a.example , http://localhost:3000,, ";
  const Config c = load_config(env);
  BOOST_TEST(c.cors_allowed_origins.size() == 2u);
  BOOST_TEST(c.cors_allowed_origins[1] == "http://localhost:3000");
}

BOOST_AUTO_TEST_SUITE_END()
