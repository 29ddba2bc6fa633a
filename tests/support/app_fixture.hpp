#pragma once
// Runs the whole application in-process on 127.0.0.1:0 with settings layered over defaults
// meant for tests.
#include <boost/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "core/crypto.hpp"
#include "core/jwt.hpp"
#include "server/app/app.hpp"
#include "server/app/config.hpp"
#include "server/auth/app_jwt.hpp"
#include "tests/support/keys.hpp"

namespace streamgate::test {

inline const std::string kStreamKey = "test-api-key";
inline const std::string kStreamSecret = "secret456";
inline const std::string kAppSecret = "app-jwt-secret-for-tests-0123456789";

inline std::map<std::string, std::string> base_env() {
  return {{"STREAM_API_KEY", kStreamKey},
          {"STREAM_API_SECRET", kStreamSecret},
          {"AUTH_JWT_SECRET", kAppSecret},
          {"LISTEN_ADDRESS", "127.0.0.1"},
          {"PORT", "0"},
          {"METRICS_PORT", "0"},
          {"HTTP_THREADS", "2"},
          {"LOG_LEVEL", "warn"},
          {"RATE_LIMIT_USER_PER_MINUTE", "0"},
          {"RATE_LIMIT_IP_PER_MINUTE", "0"},
          {"RECONCILE_INTERVAL_SECONDS", "0"}};
}

struct RunningApp {
  using Overrides = std::initializer_list<std::pair<const std::string, std::string>>;
  RunningApp() : RunningApp(Overrides{}) {}
  explicit RunningApp(Overrides overrides, bool drop_app_secret = false)
      : RunningApp(std::map<std::string, std::string>(overrides), drop_app_secret) {}
  explicit RunningApp(const std::map<std::string, std::string>& overrides,
                      bool drop_app_secret = false) {
    auto env = base_env();
    temp_dir = make_temp_dir("sg-db");
    env["DATABASE_URL"] = "sqlite:" + temp_dir + "/streamgate.db";
    if (drop_app_secret) env.erase("AUTH_JWT_SECRET");
    for (auto& [k, v] : overrides) env[k] = v;
    app = std::make_unique<server::App>(server::load_config(env));
    port = app->listen();
    app->start();
  }
  RunningApp(const RunningApp&) = delete;
  RunningApp& operator=(const RunningApp&) = delete;
  ~RunningApp() {
    app->drain(std::chrono::milliseconds(0));
    app->wait();
    app.reset();
    std::error_code ec;
    std::filesystem::remove_all(temp_dir, ec);
  }
  std::string temp_dir;
  std::unique_ptr<server::App> app;
  std::uint16_t port = 0;
};

// An app JWT signed with kAppSecret; `extra` members override the defaults.
inline std::string app_jwt(const std::string& sub, boost::json::object extra = {},
                           const std::string& secret = kAppSecret) {
  const std::int64_t now = server::unix_now();
  boost::json::object claims{{"sub", sub}, {"iat", now}, {"exp", now + 600}};
  for (auto& kv : extra) claims[kv.key()] = kv.value();
  return core::sign_hs256(boost::json::serialize(claims), core::HmacSha256Key(secret));
}

}  // namespace streamgate::test
