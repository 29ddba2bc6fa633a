#pragma once
// A real PostgreSQL server for tests: initdb into a temporary directory and pg_ctl start on a
// free loopback port, as the postgres user (initdb and pg_ctl refuse root). Stopped and removed
// when the object dies. available() is false when the PostgreSQL binaries are not installed.
#include <cstdint>
#include <string>
#include <vector>

namespace streamgate::test {

class PostgresServer {
 public:
  PostgresServer();
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  static bool available();
  // A URL for a fresh, empty database on this server.
  std::string create_database(const std::string& name);
  // Runs one SQL statement with psql on the database a create_database() URL names; its rows,
  // unaligned ('|' between columns, one line per row).
  std::string query(const std::string& database_url, const std::string& sql) const;
  void stop();    // fast shutdown (the store is then "down")
  void start();   // start again on the same port and data
  void kill();    // immediate shutdown, as a crash: no checkpoint, connections cut
  void pause();   // SIGSTOP to the postmaster and every backend: sockets open, nothing answers
  void resume();  // SIGCONT to the same processes
  std::uint16_t port() const { return port_; }

 private:
  std::string run_as_postgres(const std::string& command) const;
  std::string dir_;
  std::string bin_;
  std::uint16_t port_ = 0;
  bool running_ = false;
  std::vector<int> paused_;
};

std::uint16_t free_port();

}  // namespace streamgate::test
