// streamgate: the binary. Subcommands: serve (default), mint-dev-jwt, init-env, trigger,
// check-config, healthcheck.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <pthread.h>
#include <sys/stat.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include "core/app_events.hpp"
#include "core/crypto.hpp"
#include "core/ids.hpp"
#include "core/jwt.hpp"
#include "http/log.hpp"
#include "server/app/app.hpp"
#include "server/app/check.hpp"
#include "server/app/config.hpp"
#include "server/app/trigger.hpp"
#include "server/ops/logging.hpp"

#ifndef STREAMGATE_VERSION
#define STREAMGATE_VERSION "0.0.0"
#endif

namespace {

using namespace streamgate;

const char* kUsage =
    "usage: streamgate [serve] [--env-file PATH]\n"
    "       streamgate mint-dev-jwt --sub USER [--roles a,b] [--ttl SECONDS] [--env-file PATH]\n"
    "       streamgate init-env [--path PATH] [--force]\n"
    "       streamgate trigger meeting [--call ID] [--url BASE] [--env-file PATH]\n"
    "       streamgate check-config [--env-file PATH]\n"
    "       streamgate healthcheck [--env-file PATH]\n"
    "       streamgate --help | --version\n"
    "\n"
    "serve         run the HTTP service (the default)\n"
    "mint-dev-jwt  print an HS256 app JWT signed with AUTH_JWT_SECRET, for trying the API locally\n"
    "init-env      write a development .env with random secrets (refuses to overwrite without "
    "--force)\n"
    "trigger       send a running instance a signed Stream webhook sequence for one call\n"
    "              (session started, session ended, recording ready, transcription ready);\n"
    "              --url defaults to http://127.0.0.1:$PORT, --call to a new random id\n"
    "check-config  validate the settings and reach the store, Stream (one authenticated call),\n"
    "              the JWKS host and Redis; one line per problem, exit 0 only when all is well\n"
    "healthcheck   ask this configuration's own listener for /readyz (exit 0 when ready); the\n"
    "              container image's HEALTHCHECK\n"
    "\n"
    "Settings come from the environment and, when present, from .env (the environment wins):\n";

struct Args {
  std::string command = "serve";
  std::string env_file = ".env";
  std::string sub;
  std::string roles;
  std::int64_t ttl = 3600;
  std::string path = ".env";
  bool force = false;
  std::string call;
  std::string url;
};

[[noreturn]] void usage_error(const std::string& msg) {
  std::cerr << "streamgate: " << msg << "\n(see streamgate --help)\n";
  std::exit(2);
}

Args parse_args(int argc, char** argv) {
  Args a;
  int i = 1;
  if (i < argc && argv[i][0] != '-') a.command = argv[i++];
  if (a.command == "trigger") {
    if (i >= argc || std::string(argv[i]) != "meeting") usage_error("usage: trigger meeting");
    ++i;
  }
  for (; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage << server::settings_help();
      std::exit(0);
    } else if (arg == "--version") {
      std::cout << "streamgate " << STREAMGATE_VERSION << "\n";
      std::exit(0);
    } else if (arg == "--env-file") {
      a.env_file = value();
    } else if (arg == "--sub") {
      a.sub = value();
    } else if (arg == "--roles") {
      a.roles = value();
    } else if (arg == "--ttl") {
      try {
        a.ttl = std::stoll(value());
      } catch (...) {
        a.ttl = -1;
      }
      if (a.ttl < 1 || a.ttl > 366 * 86400)
        usage_error("--ttl must be a number of seconds from 1 to 31622400");
    } else if (arg == "--path") {
      a.path = value();
    } else if (arg == "--call") {
      a.call = value();
    } else if (arg == "--url") {
      a.url = value();
    } else if (arg == "--force") {
      a.force = true;
    } else {
      usage_error("unknown argument " + arg);
    }
  }
  if (a.command != "serve" && a.command != "mint-dev-jwt" && a.command != "init-env" &&
      a.command != "trigger" && a.command != "check-config" && a.command != "healthcheck")
    usage_error("unknown command " + a.command);
  return a;
}

int init_env(const Args& a) {
  if (std::filesystem::exists(a.path) && !a.force) {
    std::cerr << "streamgate: " << a.path << " exists; not overwriting (use --force)\n";
    return 1;
  }
  const std::string text =
      "# Development settings written by `streamgate init-env`. Random secrets: fine for trying\n"
      "# the token endpoint locally. Creating and managing calls needs your real Stream keys\n"
      "# (dashboard: https://dashboard.getstream.io) in STREAM_API_KEY / STREAM_API_SECRET.\n"
      "STREAM_API_KEY=dev-" +
      core::random_hex(6) +
      "\n"
      "STREAM_API_SECRET=" +
      core::random_hex(32) +
      "\n"
      "AUTH_JWT_SECRET=" +
      core::random_hex(32) +
      "\n"
      "# App events (docs/app-events.md): set APP_WEBHOOK_URL to your app's endpoint to turn\n"
      "# them on; the app verifies them with this secret.\n"
      "# APP_WEBHOOK_URL=http://127.0.0.1:3000/webhooks/streamgate\n"
      "APP_WEBHOOK_SECRET=" +
      core::make_webhook_secret() +
      "\n"
      "LISTEN_ADDRESS=127.0.0.1\n"
      "PORT=8000\n"
      "LOG_FORMAT=text\n";
  {
    std::ofstream out(a.path, std::ios::trunc);
    if (!out) {
      std::cerr << "streamgate: cannot write " << a.path << "\n";
      return 1;
    }
    out << text;
  }
  ::chmod(a.path.c_str(), 0600);
  std::cout << "streamgate: wrote " << a.path
            << " with random development secrets.\n"
               "  The token endpoint works with them; try: streamgate mint-dev-jwt --sub alice\n"
               "  Calls against Stream need your real STREAM_API_KEY and STREAM_API_SECRET in "
            << a.path << ".\n";
  return 0;
}

int mint_dev_jwt(const Args& a, const server::Config& c) {
  if (a.sub.empty()) usage_error("mint-dev-jwt needs --sub USER");
  if (c.auth_jwt_secret.empty()) {
    std::cerr << "streamgate: mint-dev-jwt needs AUTH_JWT_SECRET (HS256 mode)\n";
    return 2;
  }
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  boost::json::object claims;
  claims[c.auth_user_id_claim] = a.sub;
  claims["iat"] = now;
  claims["exp"] = now + a.ttl;
  if (!c.auth_jwt_issuer.empty()) claims["iss"] = c.auth_jwt_issuer;
  if (!c.auth_jwt_audience.empty()) claims["aud"] = c.auth_jwt_audience;
  if (!a.roles.empty()) {
    boost::json::array roles;
    std::string rest = a.roles;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      const auto comma = rest.find(',', pos);
      roles.emplace_back(rest.substr(pos, comma == std::string::npos ? comma : comma - pos));
      pos = comma == std::string::npos ? comma : comma + 1;
    }
    claims[c.auth_roles_claim] = std::move(roles);
  }
  const core::HmacSha256Key key(c.auth_jwt_secret);
  std::cout << core::sign_hs256(boost::json::serialize(claims), key) << "\n";
  return 0;
}

int trigger(const Args& a, const server::Config& c) {
  const std::string call = a.call.empty() ? "trigger-" + core::random_hex(4) : a.call;
  if (!core::is_valid_call_id(call)) usage_error("--call must be 1-64 characters of [A-Za-z0-9_-]");
  std::string url = a.url.empty() ? server::local_base_url(c) : a.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    usage_error("--url must be an http(s):// base URL");
  return server::trigger_meeting(c, call, url, std::cout);
}

int serve(const server::Config& c) {
  server::setup_logging(c.log_level, c.log_format);
  // Signals are taken by sigwait below, so every thread started from here on blocks them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A file-size limit (RLIMIT_FSIZE) reached by the database: the write fails with EFBIG and the
  // store answers 503, instead of the signal ending the process.
  std::signal(SIGXFSZ, SIG_IGN);

  std::unique_ptr<server::App> app;
  std::uint16_t port = 0;
  std::uint16_t metrics_port = 0;
  try {
    app = std::make_unique<server::App>(c);
    port = app->listen();
    metrics_port = app->metrics_port();
  } catch (const server::ConfigError& e) {
    // The App (which logs as it drains) goes before the logger does.
    app.reset();
    spdlog::shutdown();
    std::cerr << "streamgate: configuration error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    http::log(spdlog::level::critical, http::LogLine("cannot start").add("error", e.what()));
    app.reset();
    spdlog::default_logger()->flush();
    spdlog::shutdown();
    std::cerr << "streamgate: cannot start: " << e.what() << "\n";
    return 1;
  }
  app->start();
  http::log(spdlog::level::info,
            http::LogLine("listening")
                .add("address", c.listen_address)
                .add("port", static_cast<std::int64_t>(port))
                .add("metricsPort", static_cast<std::int64_t>(metrics_port))
                .add("version", STREAMGATE_VERSION)
                .add("authMode", c.auth_jwt_secret.empty() ? "public-key" : "hs256"));
  int sig = 0;
  for (;;) {
    sigwait(&signals, &sig);
    if (sig != SIGHUP) break;
    // SIGHUP: a renewed certificate, without a restart.
    try {
      app->reload_tls();
      http::log(spdlog::level::info, http::LogLine("tls reloaded"));
    } catch (const std::exception& e) {
      http::log(
          spdlog::level::err,
          http::LogLine("tls reload failed; keeping the old certificate").add("error", e.what()));
    }
  }
  http::log(spdlog::level::info,
            http::LogLine("signal received").add("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"));
  app->mark_not_ready();
  if (c.shutdown_delay_seconds > 0) {
    // Let the load balancer see /readyz fail before connections start being refused.
    struct timespec delay {
      static_cast<time_t>(c.shutdown_delay_seconds), 0
    };
    // A second SIGTERM/SIGINT cuts the delay short.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigtimedwait(&stop, nullptr, &delay);
  }
  app->drain();
  app->wait();
  http::log(spdlog::level::info, http::LogLine("stopped"));
  app.reset();
  spdlog::default_logger()->flush();
  spdlog::shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse_args(argc, argv);
  if (args.command == "init-env") return init_env(args);
  if (args.command == "check-config") {
    // Only errors are logged: the problems are check-config's own lines.
    server::setup_logging("error", "text");
    const int code = server::check_config(server::gather_environment(args.env_file), std::cout);
    spdlog::shutdown();
    return code;
  }
  server::Config config;
  try {
    config = server::load_config(server::gather_environment(args.env_file));
  } catch (const server::ConfigError& e) {
    std::cerr << "streamgate: configuration error: " << e.what() << "\n";
    return 2;
  }
  if (args.command == "mint-dev-jwt") return mint_dev_jwt(args, config);
  if (args.command == "trigger") return trigger(args, config);
  if (args.command == "healthcheck") return server::healthcheck(config, std::cout);
  return serve(config);
}
