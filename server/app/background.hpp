#pragma once
// The work that runs off the request threads, on a thread of its own: the reconciler (pulls
// stale meetings from Stream, docs/spec.md §1.6), the periodic JWKS refresh, the app event
// dispatcher (docs/app-events.md) and the transcript fetcher (docs/transcripts.md).
#include <atomic>
#include <memory>
#include <thread>

#include "server/app/config.hpp"
#include "server/app/deps.hpp"
#include "server/transcripts/fetcher.hpp"

namespace boost::asio {
class io_context;
}

namespace streamgate::server {

class Background final {
 public:
  Background();
  ~Background();  // stops and joins
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  // Fetches the first key set (bounded wait) and starts the loops the configuration asks for.
  void start(const Config& config, const Deps& deps);
  void stop();

 private:
  std::unique_ptr<boost::asio::io_context> ctx_;
  std::unique_ptr<AppEventDispatcher> dispatcher_;  // after ctx_: stopped and gone before it
  std::unique_ptr<TranscriptFetcher> fetcher_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace streamgate::server
