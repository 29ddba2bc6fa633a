#include "tests/support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <thread>

#include "tests/support/keys.hpp"

namespace streamgate::test {

Process::Process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                 const std::string& cwd, std::string log_path)
    : log_path_(std::move(log_path)) {
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  // Tests run side by side: a metrics listener on any free port unless the test names one.
  if (!env.count("METRICS_PORT")) env_strings.push_back("METRICS_PORT=0");
  // Truncated here, before the fork: log() never shows a previous process's lines (a reused
  // log file read before the child got to truncate it once passed for this one's "listening").
  const int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_path_);
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::dup2(fd, 1);  // (dup2 clears O_CLOEXEC on the copies)
    ::dup2(fd, 2);
    if (::chdir(cwd.c_str()) != 0) ::_exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ::close(fd);
}

Process::~Process() {
  if (pid_ > 0 && status_ < 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

void Process::signal(int sig) { ::kill(pid_, sig); }

int Process::wait(std::chrono::milliseconds timeout) {
  if (status_ >= 0) return status_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    const pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return status_;
    }
    if (std::chrono::steady_clock::now() > deadline) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string Process::log() const { return read_file(log_path_); }

std::uint16_t Process::wait_for_port(std::chrono::milliseconds timeout) {
  return wait_for_listening("port", timeout);
}

std::uint16_t Process::wait_for_metrics_port(std::chrono::milliseconds timeout) {
  return wait_for_listening("metricsPort", timeout);
}

std::uint16_t Process::wait_for_listening(const std::string& field,
                                          std::chrono::milliseconds timeout) {
  // The JSON line ("msg":"listening",...,"port":N) or the text one (listening ... port=N).
  const std::regex re("(\"msg\":\"listening\".*\"" + field + "\":|listening .* " + field +
                      "=)([0-9]+)");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = log();
    if (std::regex_search(text, m, re)) return static_cast<std::uint16_t>(std::stoi(m[2]));
    if (wait(std::chrono::milliseconds(0)) >= 0)
      throw std::runtime_error("streamgate exited before listening: " + text);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("streamgate did not start listening: " + log());
}

std::pair<int, std::string> run_command(std::vector<std::string> args,
                                        const std::map<std::string, std::string>& env,
                                        const std::string& cwd) {
  const std::string log = cwd + "/command-" + std::to_string(::getpid()) + ".log";
  Process p(std::move(args), env, cwd, log);
  const int code = p.wait(std::chrono::seconds(30));
  return {code, p.log()};
}

}  // namespace streamgate::test
