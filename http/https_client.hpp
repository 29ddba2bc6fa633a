#pragma once
// An async HTTP/1.1 client for outbound calls (Stream's REST API, JWKS): TLS with certificate
// and host-name verification against the system store or a CA file, SNI, a keep-alive pool per
// I/O thread and host (bounded, idle connections expire), one deadline per call covering DNS,
// connect, TLS, write and read, a response size limit and typed errors.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/pipeline.hpp"

namespace streamgate::http {

struct ClientRequest {
  std::string method = "GET";
  std::string url;  // https://host[:port]/path?query (http:// also accepted)
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{5000};
};

struct ClientResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string_view header(std::string_view name) const;
};

enum class ClientErrorKind { invalid_url, resolve, connect, tls, timeout, protocol, too_large };
std::string_view to_string(ClientErrorKind k);

struct ClientError : std::runtime_error {
  ClientError(ClientErrorKind kind, const std::string& what)
      : std::runtime_error(what), kind(kind) {}
  ClientErrorKind kind;
};

struct ClientOptions {
  std::string ca_file;  // empty: the system CA store
  std::size_t max_idle_per_host = 8;
  std::chrono::seconds idle_timeout{50};
  std::size_t max_response_bytes = 8 * 1024 * 1024;
};

class HttpsClient final {
 public:
  explicit HttpsClient(ClientOptions options = {});  // throws std::runtime_error for a bad CA file
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // Throws ClientError. A connection reused from the pool that turns out to be closed is
  // replaced once, transparently.
  Task<ClientResponse> request(ClientRequest req);

  std::uint64_t connections_opened() const;

  // Closes every pooled connection. Call after the I/O threads have stopped and before their
  // io_contexts are destroyed (a socket must not outlive its context).
  void close_idle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace streamgate::http
