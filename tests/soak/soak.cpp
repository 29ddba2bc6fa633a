#include "tests/soak/soak.hpp"

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/support/app_fixture.hpp"
#include "tests/support/calls_client.hpp"
#include "tests/support/client.hpp"
#include "tests/support/fake_stream.hpp"
#include "tests/support/keys.hpp"
#include "tests/support/postgres.hpp"
#include "tests/support/process.hpp"
#include "tests/support/stream_events.hpp"
#include "tests/support/webhook_client.hpp"

namespace streamgate::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

std::int64_t status_field(int pid, const std::string& name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(name + ":", 0) == 0) return std::stoll(line.substr(name.size() + 1));
  return -1;
}

// What each open descriptor is ("socket:[…]" reads as "socket"), for the report.
std::vector<std::string> fd_targets(int pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::string t = std::filesystem::read_symlink(e.path(), ec).string();
    if (t.rfind("socket:", 0) == 0) t = "socket";
    out.push_back(t);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The process's established TCP connections to `port` (the fake Stream): the HTTPS client's
// keep-alive pool, which holds up to max_idle_per_host per I/O thread by design.
int connections_to(int pid, std::uint16_t port) {
  std::set<std::string> inodes;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    const std::string t = std::filesystem::read_symlink(e.path(), ec).string();
    if (t.rfind("socket:[", 0) == 0) inodes.insert(t.substr(8, t.size() - 9));
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, ":%04X", port);
  int n = 0;
  for (const char* table : {"/net/tcp", "/net/tcp6"}) {
    std::ifstream in("/proc/" + std::to_string(pid) + table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream f(line);
      std::string sl, local, remote, state, skip, inode;
      f >> sl >> local >> remote >> state;
      for (int i = 0; i < 5; ++i) f >> skip;  // tx:rx tr:when retrnsmt uid timeout
      f >> inode;
      if (state == "01" && remote.size() > 5 && remote.substr(remote.size() - 5) == hex &&
          inodes.count(inode))
        ++n;
    }
  }
  return n;
}

int open_fds(int pid) {
  int n = 0;
  if (DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (const dirent* e = ::readdir(d))
      if (e->d_name[0] != '.') ++n;
    ::closedir(d);
  }
  return n;
}

// One kind of request: what it sends and the statuses it may get.
struct Kind {
  std::string name;
  std::vector<int> expected;
};

class Traffic {
 public:
  Traffic(std::uint16_t port, int client) : port_(port), client_(client) {}

  // The i-th request of this client: its kind and status.
  std::pair<const char*, int> next(std::uint64_t i) {
    // App JWTs live ten minutes (app_jwt): a long soak signs a fresh one now and then.
    if (i % 5000 == 0) jwt_ = app_jwt("soak-user", {}, kAppSecret);
    const std::string tag = std::to_string(client_) + "-" + std::to_string(i);
    switch (i % 10) {
      case 0:
      case 1:
      case 2: return {"token", post("/api/v1/stream/token", jwt_, "")};
      case 3: {  // a webhook with a new id
        const std::string call = "soak-" + std::to_string(client_) + "-" + std::to_string(i % 500);
        last_call_ = call;
        last_hook_ = session_started(call, "s" + std::to_string(i), "2026-04-08T14:00:00Z");
        last_id_ = "wh-" + tag;
        return {"webhook", post_hook(port_, last_hook_, last_id_).status};
      }
      case 4:  // the same delivery again (Stream retries)
        return {"webhook_duplicate", post_hook(port_, last_hook_, last_id_).status};
      case 5:
        return {"create_call",
                post("/api/v1/calls", jwt_, R"({"callId":"soak-call-)" + tag + R"("})")};
      case 6:  // the meeting of the last webhook
        return {"meeting_read", get_meeting(port_, last_call_, admin_jwt()).status};
      case 7: return {"bad_jwt", post("/api/v1/stream/token", "not.a.jwt", "")};
      case 8: return {"bad_json", post("/api/v1/calls", jwt_, "{\"callId\":")};
      default:
        return {"bad_signature", post_hook(port_, last_hook_.empty() ? "{}" : last_hook_,
                                           "wh-bad-" + tag, std::string(64, '0'))
                                     .status};
    }
  }

 private:
  int post(const std::string& path, const std::string& jwt, const std::string& body) {
    return http_request(port_, "POST", path,
                        {{"Authorization", "Bearer " + jwt}, {"Content-Type", "application/json"}},
                        body)
        .status;
  }
  std::uint16_t port_;
  int client_;
  std::string jwt_;
  std::string last_hook_;
  std::string last_id_;
  std::string last_call_;
};

const std::map<std::string, std::vector<int>> kExpected = {
    {"token", {200}},       {"webhook", {200}},       {"webhook_duplicate", {200}},
    {"create_call", {201}}, {"meeting_read", {200}},  {"bad_jwt", {401}},
    {"bad_json", {400}},    {"bad_signature", {401}},
};

}  // namespace

std::uint64_t SoakReport::total() const {
  std::uint64_t n = 0;
  for (const auto& [kind, by_status] : statuses)
    for (const auto& [status, count] : by_status) n += count;
  return n;
}

std::string SoakReport::summary() const {
  std::ostringstream out;
  const double seconds = samples.empty() ? 0 : samples.back().seconds;
  out << "soak: " << total() << " requests in " << static_cast<int>(seconds) << " s ("
      << static_cast<int>(seconds > 0 ? static_cast<double>(total()) / seconds : 0) << "/s)\n";
  for (const auto& [kind, by_status] : statuses) {
    out << "  " << kind << ":";
    for (const auto& [status, count] : by_status) out << " " << status << "×" << count;
    out << "\n";
  }
  out << "  unexpected answers: " << unexpected.size() << "\n";
  out << "  RSS: " << (samples.empty() ? 0 : samples.front().rss_kb) << " kB at start, "
      << rss_after_warmup_kb << " kB after " << warmup_seconds << " s of warm-up, " << rss_end_kb
      << " kB at the end; slope after warm-up " << slope_kb_per_minute << " kB/min\n";
  out << "  pooled connections to Stream at the end (not counted below): "
      << pooled_stream_connections << "\n";
  out << "  descriptors: " << baseline_fds << " at rest after warm-up, " << final_fds
      << " after the traffic stopped\n";
  if (final_fds != baseline_fds) {
    out << "  descriptors at rest after warm-up:";
    for (const auto& t : baseline_fd_targets) out << " " << t;
    out << "\n  descriptors at the end:";
    for (const auto& t : final_fd_targets) out << " " << t;
    out << "\n";
  }
  if (!samples.empty())
    out << "  threads: " << samples.front().threads << " at start, " << samples.back().threads
        << " at the end\n";
  return out.str();
}

SoakReport run_soak(const SoakOptions& o) {
  FakeStream fake(kStreamKey, kStreamSecret);
  const std::string dir = make_temp_dir("sg-soak");
  auto env = base_env();
  for (auto& [k, v] : against(fake)) env[k] = v;
  env["PATH"] = "/usr/bin:/bin";
  env["DATABASE_URL"] = "sqlite:" + dir + "/streamgate.db";
  env["HTTP_IDLE_TIMEOUT_MS"] = "2000";
  // Warnings only (no access log for hours of traffic), so the port is chosen here.
  const std::uint16_t port = free_port();
  env["PORT"] = std::to_string(port);
  // A small quarantine, so that what ASan holds back from reuse does not read as growth.
  env["ASAN_OPTIONS"] = "quarantine_size_mb=8";
  Process service({STREAMGATE_BINARY}, env, dir, dir + "/service.log");
  for (int i = 0; i < 200; ++i) {
    try {
      if (http_request(port, "GET", "/healthz").status == 200) break;
    } catch (const std::exception&) {
    }
    if (service.wait(0ms) >= 0) throw std::runtime_error("streamgate exited: " + service.log());
    std::this_thread::sleep_for(50ms);
  }
  const int pid = service.pid();

  SoakReport report;
  report.warmup_seconds = std::min(15.0, o.seconds / 4);
  std::mutex mutex;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<bool> paused{false};
  std::atomic<int> busy{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < o.clients; ++c)
    clients.emplace_back([&, c] {
      Traffic t(port, c);
      for (std::uint64_t i = 0; !stop.load();) {
        ++busy;  // before looking at `paused`: the pause waits for busy == 0
        if (paused.load()) {
          --busy;
          std::this_thread::sleep_for(10ms);
          continue;
        }
        const auto [kind, status] = t.next(i++);
        --busy;
        ++requests;
        std::lock_guard lock(mutex);
        ++report.statuses[kind][status];
        const auto& ok = kExpected.at(kind);
        if (std::find(ok.begin(), ok.end(), status) == ok.end() && report.unexpected.size() < 100)
          report.unexpected.push_back(std::string(kind) + ": " + std::to_string(status));
      }
    });
  // Descriptors at rest, measured the same way after warm-up and at the end: no request in
  // flight, and idle keep-alive connections closed by HTTP_IDLE_TIMEOUT_MS. The outbound pool to
  // the fake Stream is counted apart: it holds as many idle connections as the last burst
  // needed (bounded), which is not a leak.
  const std::uint16_t stream_port =
      static_cast<std::uint16_t>(std::stoi(fake.base_url().substr(fake.base_url().rfind(':') + 1)));
  const auto settle = [&] {
    int fds = open_fds(pid) - connections_to(pid, stream_port);
    for (int i = 0; i < 40; ++i) {  // up to 4 s past the 2 s idle timeout
      std::this_thread::sleep_for(100ms);
      fds = std::min(fds, open_fds(pid) - connections_to(pid, stream_port));
    }
    return fds;
  };
  bool baseline_taken = false;

  std::ofstream csv;
  if (!o.csv_path.empty()) {
    csv.open(o.csv_path);
    csv << "# seconds rss_kb fds threads requests\n";
  }
  const auto start = Clock::now();
  for (;;) {
    std::this_thread::sleep_for(1s);
    const double t = std::chrono::duration<double>(Clock::now() - start).count();
    SoakSample s{t, status_field(pid, "VmRSS"), open_fds(pid),
                 static_cast<int>(status_field(pid, "Threads")), requests.load()};
    report.samples.push_back(s);
    if (csv)
      csv << s.seconds << " " << s.rss_kb << " " << s.fds << " " << s.threads << " " << s.requests
          << "\n"
          << std::flush;
    if (!baseline_taken && t >= report.warmup_seconds) {
      paused.store(true);
      while (busy.load() != 0) std::this_thread::sleep_for(1ms);
      report.baseline_fds = settle();
      report.baseline_fd_targets = fd_targets(pid);
      report.rss_after_warmup_kb = status_field(pid, "VmRSS");
      baseline_taken = true;
      paused.store(false);
    }
    if (t >= o.seconds) break;
  }
  stop.store(true);
  for (auto& c : clients) c.join();

  report.final_fds = settle();
  report.pooled_stream_connections = connections_to(pid, stream_port);
  report.final_fd_targets = fd_targets(pid);
  report.rss_end_kb = report.samples.empty() ? 0 : report.samples.back().rss_kb;

  // Least squares of RSS over time, after warm-up.
  double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& s : report.samples) {
    if (s.seconds < report.warmup_seconds) continue;
    n += 1;
    sx += s.seconds;
    sy += static_cast<double>(s.rss_kb);
    sxx += s.seconds * s.seconds;
    sxy += s.seconds * static_cast<double>(s.rss_kb);
  }
  if (n >= 2 && n * sxx - sx * sx != 0)
    report.slope_kb_per_minute = 60.0 * (n * sxy - sx * sy) / (n * sxx - sx * sx);

  service.signal(SIGTERM);
  service.wait(20s);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return report;
}

}  // namespace streamgate::test
