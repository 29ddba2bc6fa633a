#pragma once
// An async HTTP/1.1 client for outbound calls (Stream's REST API, JWKS): TLS with certificate
// and host-name verification against the system store or a CA file, SNI, a keep-alive pool per
// I/O thread and host (bounded, idle connections expire), one deadline per call covering DNS,
// connect, TLS, write and read, a response size limit and typed errors.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
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

// `refused`: the URL or its address is not one the caller lets us reach (see FetchRequest).
enum class ClientErrorKind {
  invalid_url,
  resolve,
  connect,
  tls,
  timeout,
  protocol,
  too_large,
  refused
};
std::string_view to_string(ClientErrorKind k);

struct ClientError : std::runtime_error {
  ClientError(ClientErrorKind kind, const std::string& what)
      : std::runtime_error(what), kind(kind) {}
  ClientErrorKind kind;
};

struct ClientOptions {
  std::string ca_file;  // empty: the system CA store
  // false: TLS without checking the certificate. Only for `streamgate healthcheck`, which asks
  // its own listener on this host and sends nothing secret.
  bool verify_peer = true;
  std::size_t max_idle_per_host = 8;
  std::chrono::seconds idle_timeout{50};
  std::size_t max_response_bytes = 8 * 1024 * 1024;
};

// A streaming GET of a file that an outside party named (a transcript URL). Unlike request():
// never pooled (a new connection each time); the host and every resolved address are vetted
// before connecting, and only the vetted addresses are connected to, so a second resolution
// cannot change the answer (no DNS rebinding); the body goes to `on_body` chunk by chunk as it
// arrives and never beyond `max_bytes` (a larger Content-Length fails before the body is read).
struct FetchRequest {
  std::string url;
  bool https_only = true;  // an http:// URL is refused
  std::chrono::milliseconds timeout{60000};
  std::size_t max_bytes = 32 * 1024 * 1024;
  // Why the host name or an address may not be reached, or nullopt (null: no check).
  std::function<std::optional<std::string>(std::string_view host)> vet_host;
  std::function<std::optional<std::string>(std::string_view ip)> vet_address;
  std::function<void(std::string_view chunk)> on_body;  // 2xx answers only
};
struct FetchResult {
  int status = 0;
  std::int64_t bytes = 0;  // body bytes given to on_body
  std::string error_body;  // the first 4 KiB of a non-2xx answer's body
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

  // Throws ClientError: `refused` for a URL, host or address the request's checks refuse,
  // `too_large` past max_bytes, the others as request().
  Task<FetchResult> fetch(FetchRequest req);

  std::uint64_t connections_opened() const;

  // Closes every pooled connection. Call after the I/O threads have stopped and before their
  // io_contexts are destroyed (a socket must not outlive its context).
  void close_idle();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace streamgate::http
