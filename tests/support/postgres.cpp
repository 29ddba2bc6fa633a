#include "tests/support/postgres.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace streamgate::test {
namespace {

std::string find_bin() {
  namespace fs = std::filesystem;
  if (!fs::exists("/usr/lib/postgresql")) return {};
  std::string best;
  for (const auto& e : fs::directory_iterator("/usr/lib/postgresql"))
    if (fs::exists(e.path() / "bin" / "pg_ctl") && e.path().string() > best)
      best = e.path().string();
  return best.empty() ? best : best + "/bin";
}

std::string sh(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = ::pclose(p);
  if (rc != 0) throw std::runtime_error("command failed (" + cmd + "): " + out);
  return out;
}

}  // namespace

std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool PostgresServer::available() { return !find_bin().empty(); }

std::string PostgresServer::run_as_postgres(const std::string& command) const {
  if (::geteuid() == 0) return sh("runuser -u postgres -- " + command);
  return sh(command);
}

PostgresServer::PostgresServer() : bin_(find_bin()) {
  if (bin_.empty())
    throw std::runtime_error("PostgreSQL is not installed (run deploy/install-deps.sh)");
  char tmpl[] = "/tmp/sg-pg-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (::geteuid() == 0) sh("chown postgres " + dir_);
  port_ = free_port();
  run_as_postgres(bin_ + "/initdb -D " + dir_ +
                  "/data -U postgres -A trust --no-sync -E UTF8 --locale=C.UTF-8 >/dev/null");
  start();
}

void PostgresServer::start() {
  run_as_postgres(
      bin_ + "/pg_ctl -D " + dir_ + "/data -l " + dir_ + "/log -w -t 60 -o \"-p " +
      std::to_string(port_) + " -k " + dir_ +
      " -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200\" start >/dev/null");
  running_ = true;
}

void PostgresServer::stop() {
  if (!running_) return;
  run_as_postgres(bin_ + "/pg_ctl -D " + dir_ + "/data -m fast -w stop >/dev/null");
  running_ = false;
}

void PostgresServer::kill() {
  if (!running_) return;
  run_as_postgres(bin_ + "/pg_ctl -D " + dir_ + "/data -m immediate -w stop >/dev/null");
  running_ = false;
}

void PostgresServer::pause() {
  // The postmaster's pid is the first line of postmaster.pid; its backends are its children.
  std::ifstream pidfile(dir_ + "/data/postmaster.pid");
  int postmaster = 0;
  pidfile >> postmaster;
  if (postmaster <= 0) throw std::runtime_error("PostgreSQL is not running");
  paused_ = {postmaster};
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(e.path() / "stat");
    std::string line;
    std::getline(stat, line);
    const auto close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    char state = 0;
    int ppid = 0;
    rest >> state >> ppid;
    if (ppid == postmaster) paused_.push_back(std::stoi(name));
  }
  for (const int pid : paused_) ::kill(pid, SIGSTOP);
}

void PostgresServer::resume() {
  for (const int pid : paused_) ::kill(pid, SIGCONT);
  paused_.clear();
}

PostgresServer::~PostgresServer() {
  resume();
  try {
    stop();
  } catch (...) {
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::query(const std::string& database_url, const std::string& sql) const {
  const std::string db = database_url.substr(database_url.rfind('/') + 1);
  std::string quoted = "'";
  for (const char ch : sql) quoted += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  quoted += "'";
  return run_as_postgres(bin_ + "/psql -X -At -h 127.0.0.1 -p " + std::to_string(port_) +
                         " -U postgres -d " + db + " -c " + quoted);
}

std::string PostgresServer::create_database(const std::string& name) {
  run_as_postgres(bin_ + "/createdb -h 127.0.0.1 -p " + std::to_string(port_) + " -U postgres " +
                  name);
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name;
}

}  // namespace streamgate::test
