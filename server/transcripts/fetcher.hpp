#pragma once
// The transcript fetcher (docs/transcripts.md): off the request threads, it claims due fetch jobs,
// downloads each file through the SSRF guard (https only, every resolved address vetted and only
// those connected to, an optional host allow-list), parses it as it arrives (bounded size and
// time), and stores the segments with their search index. A 403/404 is answered by re-listing
// the call's transcriptions from Stream (a pre-signed URL may have expired) and trying the fresh
// URL; other failures are retried on a schedule; a refused URL, a file over the limit and
// content that is not a transcript fail at once.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/https_client.hpp"
#include "server/clients/stream_client.hpp"
#include "server/store/store.hpp"

namespace boost::asio {
class io_context;
}

namespace streamgate::server {

struct TranscriptFetcherSettings {
  std::shared_ptr<Store> store;
  std::shared_ptr<http::HttpsClient> client;  // TRANSCRIPT_CA_FILE
  std::shared_ptr<StreamClient> stream;       // re-lists a call's transcriptions
  std::size_t max_bytes = 32 * 1024 * 1024;
  std::chrono::milliseconds timeout{60000};
  std::chrono::milliseconds poll{1000};
  std::size_t concurrency = 2;
  std::vector<std::int64_t> retry_schedule_seconds;
  bool allow_private_hosts = false;
  std::vector<std::string> hosts;  // allow-list; empty: any public host
  // Observer (may be empty): outcome ready | retry | failed, seconds, segments stored.
  std::function<void(std::string_view, double, std::int64_t)> on_fetch;
};

class TranscriptFetcher final {
 public:
  explicit TranscriptFetcher(TranscriptFetcherSettings settings);
  ~TranscriptFetcher();
  TranscriptFetcher(const TranscriptFetcher&) = delete;
  TranscriptFetcher& operator=(const TranscriptFetcher&) = delete;

  // Runs its loop on `ctx` (one thread) until stop() or the context stops.
  void start(boost::asio::io_context& ctx);
  // Ends the loop after its current round; finished() once it has returned (http/job_loop.hpp).
  void stop();
  bool finished() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// The URL as logs may show it: scheme, host and path, never the query (a pre-signed URL's query
// is its credential).
std::string url_for_logs(std::string_view url);

}  // namespace streamgate::server
