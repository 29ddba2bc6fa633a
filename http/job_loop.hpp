#pragma once
// The loop of a background worker (the app event dispatcher, the transcript fetcher): rounds of
// claim, then run every claimed job concurrently and wait for all of them. After a round that
// found work the next one starts at once; after an empty one it waits for the poll interval or a
// wake(). A job that throws is logged and counted done, so a round always ends.
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/task.hpp"

namespace boost::asio {
class io_context;
}

namespace streamgate::http {

struct JobLoopOptions {
  std::string name;  // for logs
  std::chrono::milliseconds poll{1000};
  // The jobs of one round (none: wait). Expected failures are the claimer's to handle; one that
  // escapes is logged and the round is empty.
  std::function<Task<std::vector<std::function<Task<void>()>>>()> claim;
  std::function<Task<void>()> after_round;  // may be empty; runs after every round
};

class JobLoop final {
 public:
  explicit JobLoop(JobLoopOptions options);
  ~JobLoop();
  JobLoop(const JobLoop&) = delete;
  JobLoop& operator=(const JobLoop&) = delete;

  // Runs on `ctx` (one thread) until stop() or the context stops.
  void start(boost::asio::io_context& ctx);
  // Ends the loop after its current round (a poll wait ends at once). The round's store calls
  // complete on `ctx`: keep it running until finished() (bounded) before destroying it.
  void stop();
  // True once the loop has returned (or was never started).
  bool finished() const;
  // Ends the current wait early; safe from any thread, before start and after stop.
  void wake();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace streamgate::http
