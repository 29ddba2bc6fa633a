#pragma once
// Runs the streamgate binary as a child process with a given environment, for tests of what
// only a whole process shows (signals, exit codes, start-up errors).
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace streamgate::test {

class Process {
 public:
  // Starts `args` (args[0] is the program) with exactly `env`, in `cwd`; stdout and stderr
  // go to `log_path`.
  Process(std::vector<std::string> args, const std::map<std::string, std::string>& env,
          const std::string& cwd, std::string log_path);
  ~Process();  // kills the child if it is still running
  int pid() const { return pid_; }
  void signal(int sig);
  // Exit code (or 128+signal); -1 if it has not exited within timeout.
  int wait(std::chrono::milliseconds timeout);
  std::string log() const;
  // Waits for the "listening" log line and returns its port; throws on timeout or exit.
  std::uint16_t wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // The same for the metrics listener's port (METRICS_PORT; a child started without one gets
  // METRICS_PORT=0, any free port).
  std::uint16_t wait_for_metrics_port(std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  std::uint16_t wait_for_listening(const std::string& field, std::chrono::milliseconds timeout);
  int pid_ = -1;
  int status_ = -1;
  std::string log_path_;
};

// Runs to completion and returns {exit code, output}.
std::pair<int, std::string> run_command(std::vector<std::string> args,
                                        const std::map<std::string, std::string>& env,
                                        const std::string& cwd);

}  // namespace streamgate::test
