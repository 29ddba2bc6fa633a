#pragma once
// Runs a behavioural test once per store backend: SQLite (a temp file) and PostgreSQL (a
// fresh database on a server the test process starts once). Without PostgreSQL installed the
// PostgreSQL half is skipped loudly; under CI=true that is a failure instead.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"

namespace streamgate::test {

inline PostgresServer* shared_postgres() {
  static std::unique_ptr<PostgresServer> server;
  static bool tried = false;
  if (!tried) {
    tried = true;
    if (PostgresServer::available()) server = std::make_unique<PostgresServer>();
  }
  return server.get();
}

inline std::string fresh_database_name() {
  static int n = 0;
  return "sg_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n);
}

// fn(name, database_url) for each backend.
inline void for_each_backend(
    const std::function<void(const std::string&, const std::string&)>& fn) {
  {
    const std::string dir = make_temp_dir("sg-store");
    BOOST_TEST_CONTEXT("backend sqlite") { fn("sqlite", "sqlite:" + dir + "/streamgate.db"); }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  PostgresServer* pg = shared_postgres();
  if (pg == nullptr) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true") {
      BOOST_ERROR("PostgreSQL is not installed, and CI=true requires the PostgreSQL suite to run");
    } else {
      BOOST_TEST_MESSAGE(
          "*** SKIPPED: the PostgreSQL half of this test (PostgreSQL is not installed; run "
          "deploy/install-deps.sh) ***");
    }
    return;
  }
  BOOST_TEST_CONTEXT("backend postgres") {
    fn("postgres", pg->create_database(fresh_database_name()));
  }
}

}  // namespace streamgate::test
