#include "http/https_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <map>
#include <mutex>
#include <optional>

#include "http/deadline.hpp"
#include "http/types.hpp"

namespace streamgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string_view to_string(ClientErrorKind k) {
  switch (k) {
    case ClientErrorKind::invalid_url: return "invalid_url";
    case ClientErrorKind::resolve: return "resolve";
    case ClientErrorKind::connect: return "connect";
    case ClientErrorKind::tls: return "tls";
    case ClientErrorKind::timeout: return "timeout";
    case ClientErrorKind::protocol: return "protocol";
    case ClientErrorKind::too_large: return "too_large";
    case ClientErrorKind::refused: return "refused";
  }
  return "protocol";
}

std::string_view ClientResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (iequals(k, name)) return v;
  return {};
}

namespace {

struct Target {
  bool tls = true;
  std::string host;
  std::string port;
  std::string path_and_query;
  std::string host_header;
};

Target parse_url(const std::string& url) {
  auto parsed = boost::urls::parse_uri(boost::core::string_view(url.data(), url.size()));
  if (!parsed) throw ClientError(ClientErrorKind::invalid_url, "not an absolute URL: " + url);
  const auto& u = *parsed;
  Target t;
  if (u.scheme() == "https") {
    t.tls = true;
  } else if (u.scheme() == "http") {
    t.tls = false;
  } else {
    throw ClientError(ClientErrorKind::invalid_url, "unsupported scheme in " + url);
  }
  t.host = std::string(u.host_address());
  if (t.host.empty()) throw ClientError(ClientErrorKind::invalid_url, "URL has no host: " + url);
  t.port = u.has_port() ? std::string(u.port()) : (t.tls ? "443" : "80");
  t.path_and_query = std::string(u.encoded_path());
  if (t.path_and_query.empty()) t.path_and_query = "/";
  if (u.has_query()) t.path_and_query += "?" + std::string(u.encoded_query());
  t.host_header = t.host + (u.has_port() ? ":" + t.port : "");
  return t;
}

struct Connection {
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls;
  std::optional<beast::tcp_stream> plain;
  beast::flat_buffer buffer;
  std::chrono::steady_clock::time_point idle_since;

  beast::tcp_stream& lowest() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
};

}  // namespace

struct HttpsClient::Impl {
  ClientOptions options;
  ssl::context ctx{ssl::context::tls_client};
  std::mutex mutex;
  // Idle connections by (I/O context, scheme://host:port): a socket stays on its own thread.
  std::map<std::pair<const void*, std::string>, std::vector<std::unique_ptr<Connection>>> idle;
  std::atomic<std::uint64_t> opened{0};

  explicit Impl(ClientOptions o) : options(std::move(o)) {
    ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                    ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    ctx.set_verify_mode(options.verify_peer ? ssl::verify_peer : ssl::verify_none);
    if (!options.verify_peer) {
      // nothing to load
    } else if (options.ca_file.empty()) {
      ctx.set_default_verify_paths();
    } else {
      boost::system::error_code ec;
      ctx.load_verify_file(options.ca_file, ec);
      if (ec)
        throw std::runtime_error("cannot load CA file " + options.ca_file + ": " + ec.message());
    }
  }

  std::unique_ptr<Connection> take_idle(const void* ctx_key, const std::string& key) {
    std::lock_guard lock(mutex);
    auto it = idle.find({ctx_key, key});
    if (it == idle.end()) return nullptr;
    const auto now = std::chrono::steady_clock::now();
    while (!it->second.empty()) {
      auto conn = std::move(it->second.back());
      it->second.pop_back();
      if (now - conn->idle_since < options.idle_timeout) return conn;
    }
    return nullptr;
  }

  void give_back(const void* ctx_key, const std::string& key, std::unique_ptr<Connection> conn) {
    conn->idle_since = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex);
    auto& list = idle[{ctx_key, key}];
    if (list.size() >= options.max_idle_per_host) return;  // dropped: closes
    list.push_back(std::move(conn));
  }
};

namespace {

using VetAddress = std::function<std::optional<std::string>(std::string_view ip)>;

Task<std::unique_ptr<Connection>> open_connection(ssl::context& tls_ctx,
                                                  std::atomic<std::uint64_t>& opened,
                                                  const Target& t,
                                                  std::chrono::steady_clock::time_point deadline,
                                                  VetAddress vet = nullptr) {
  auto ex = co_await asio::this_coro::executor;
  tcp::resolver resolver(ex);
  // The resolver has no timeout of its own (see http/deadline.hpp for why not a bare timer).
  ScopedDeadline resolve_deadline(ex, deadline, [&resolver] { resolver.cancel(); });
  auto [rec, endpoints] = co_await resolver.async_resolve(t.host, t.port, kTuple);
  const bool timed_out = resolve_deadline.expired();
  resolve_deadline.disarm();
  if (timed_out) throw ClientError(ClientErrorKind::timeout, "timed out resolving " + t.host);
  if (rec)
    throw ClientError(ClientErrorKind::resolve, "cannot resolve " + t.host + ": " + rec.message());
  // Only the addresses that pass are connected to: the same ones that were checked.
  std::vector<tcp::endpoint> allowed;
  std::string refusal;
  for (const auto& entry : endpoints) {
    const auto ep = entry.endpoint();
    const auto why = vet ? vet(ep.address().to_string()) : std::nullopt;
    if (!why) {
      allowed.push_back(ep);
    } else if (refusal.empty()) {
      refusal = *why;
    }
  }
  if (allowed.empty())
    throw ClientError(vet ? ClientErrorKind::refused : ClientErrorKind::resolve,
                      refusal.empty() ? "no address for " + t.host
                                      : "refused to connect to " + t.host + ": " + refusal);

  auto conn = std::make_unique<Connection>();
  if (t.tls) {
    conn->tls.emplace(ex, tls_ctx);
  } else {
    conn->plain.emplace(ex);
  }
  auto& tcp_layer = conn->lowest();
  tcp_layer.expires_at(deadline);
  auto [cec, ep] = co_await tcp_layer.async_connect(allowed, kTuple);
  if (cec == beast::error::timeout)
    throw ClientError(ClientErrorKind::timeout, "timed out connecting to " + t.host);
  if (cec)
    throw ClientError(ClientErrorKind::connect,
                      "cannot connect to " + t.host + ":" + t.port + ": " + cec.message());
  opened.fetch_add(1);
  tcp_layer.socket().set_option(tcp::no_delay(true));
  if (t.tls) {
    // SNI, and the certificate must name the host we asked for.
    if (!SSL_set_tlsext_host_name(conn->tls->native_handle(), t.host.c_str()))
      throw ClientError(ClientErrorKind::tls, "cannot set SNI for " + t.host);
    // The certificate must name the host (unless the client was made not to verify at all).
    if (SSL_CTX_get_verify_mode(tls_ctx.native_handle()) != SSL_VERIFY_NONE)
      conn->tls->set_verify_callback(ssl::host_name_verification(t.host));
    auto [hec] = co_await conn->tls->async_handshake(ssl::stream_base::client, kTuple);
    if (hec == beast::error::timeout)
      throw ClientError(ClientErrorKind::timeout, "timed out in the TLS handshake with " + t.host);
    if (hec)
      throw ClientError(ClientErrorKind::tls,
                        "TLS handshake with " + t.host + " failed: " + hec.message());
  }
  co_return conn;
}

template <typename Stream>
Task<ClientResponse> exchange(Stream& stream, Connection& conn,
                              bhttp::request<bhttp::string_body>& req, std::size_t max_bytes,
                              std::chrono::steady_clock::time_point deadline, bool& keep_alive,
                              bool& sent_nothing) {
  conn.lowest().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec == beast::error::timeout)
    throw ClientError(ClientErrorKind::timeout, "timed out sending the request");
  if (wec) {
    sent_nothing = true;
    throw ClientError(ClientErrorKind::connect,
                      "connection failed while sending: " + wec.message());
  }
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(max_bytes);
  parser.header_limit(64 * 1024);
  auto [rec, rn] = co_await bhttp::async_read(stream, conn.buffer, parser, kTuple);
  if (rec == beast::error::timeout)
    throw ClientError(ClientErrorKind::timeout, "timed out waiting for the response");
  if (rec == bhttp::error::body_limit)
    throw ClientError(ClientErrorKind::too_large, "response body is too large");
  if (rec) {
    // Closed before any response: a pooled connection the server had already dropped.
    // Over TLS a peer that went away shows as stream_truncated (no close_notify).
    sent_nothing =
        rn == 0 && (rec == bhttp::error::end_of_stream || rec == asio::error::eof ||
                    rec == asio::error::connection_reset || rec == ssl::error::stream_truncated);
    throw ClientError(ClientErrorKind::protocol, "reading the response failed: " + rec.message());
  }
  auto& msg = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(msg.result_int());
  for (const auto& f : msg)
    out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
  out.body = std::move(msg.body());
  keep_alive = msg.keep_alive();
  co_return out;
}

}  // namespace

HttpsClient::HttpsClient(ClientOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}
HttpsClient::~HttpsClient() = default;

std::uint64_t HttpsClient::connections_opened() const { return impl_->opened.load(); }

void HttpsClient::close_idle() {
  std::lock_guard lock(impl_->mutex);
  impl_->idle.clear();
}

Task<ClientResponse> HttpsClient::request(ClientRequest r) {
  auto impl = impl_;
  const Target t = parse_url(r.url);
  const auto deadline = std::chrono::steady_clock::now() + r.timeout;
  auto ex = co_await asio::this_coro::executor;
  const void* ctx_key = &asio::query(ex, asio::execution::context);
  const std::string key = (t.tls ? "https://" : "http://") + t.host + ":" + t.port;

  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(r.method), t.path_and_query, 11};
  if (req.method() == bhttp::verb::unknown)
    throw ClientError(ClientErrorKind::invalid_url, "unknown method " + r.method);
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "streamgate");
  for (const auto& [k, v] : r.headers) req.set(k, v);
  req.keep_alive(true);
  req.body() = std::move(r.body);
  req.prepare_payload();

  for (int attempt = 0;; ++attempt) {
    auto conn = attempt == 0 ? impl->take_idle(ctx_key, key) : nullptr;
    const bool reused = conn != nullptr;
    if (!conn) conn = co_await open_connection(impl->ctx, impl->opened, t, deadline);
    bool keep_alive = false;
    bool sent_nothing = false;
    std::optional<ClientResponse> response;
    std::optional<ClientError> failure;
    try {
      if (conn->tls)
        response = co_await exchange(*conn->tls, *conn, req, impl->options.max_response_bytes,
                                     deadline, keep_alive, sent_nothing);
      else
        response = co_await exchange(*conn->plain, *conn, req, impl->options.max_response_bytes,
                                     deadline, keep_alive, sent_nothing);
    } catch (const ClientError& e) {
      failure = e;
    }
    if (failure) {
      if (reused && sent_nothing && failure->kind != ClientErrorKind::timeout)
        continue;  // stale: once more, fresh
      throw *failure;
    }
    if (keep_alive) impl->give_back(ctx_key, key, std::move(conn));
    co_return std::move(*response);
  }
}

namespace {

template <typename Stream>
Task<FetchResult> fetch_on(Stream& stream, Connection& conn, bhttp::request<bhttp::empty_body>& req,
                           const FetchRequest& r, std::chrono::steady_clock::time_point deadline) {
  conn.lowest().expires_at(deadline);
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kTuple);
  if (wec == beast::error::timeout)
    throw ClientError(ClientErrorKind::timeout, "timed out sending the request");
  if (wec)
    throw ClientError(ClientErrorKind::connect, "sending the request failed: " + wec.message());
  bhttp::response_parser<bhttp::buffer_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(r.max_bytes);  // a larger Content-Length fails with the header
  auto [hec, hn] = co_await bhttp::async_read_header(stream, conn.buffer, parser, kTuple);
  if (hec == beast::error::timeout)
    throw ClientError(ClientErrorKind::timeout, "timed out waiting for the response");
  if (hec == bhttp::error::body_limit)
    throw ClientError(ClientErrorKind::too_large,
                      "the file is larger than " + std::to_string(r.max_bytes) + " bytes");
  if (hec)
    throw ClientError(ClientErrorKind::protocol, "reading the response failed: " + hec.message());
  FetchResult out;
  out.status = static_cast<int>(parser.get().result_int());
  const bool ok = out.status >= 200 && out.status <= 299;
  std::vector<char> chunk(64 * 1024);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto [rec, rn] = co_await bhttp::async_read(stream, conn.buffer, parser, kTuple);
    if (rec == bhttp::error::need_buffer) rec = {};
    if (rec == beast::error::timeout)
      throw ClientError(ClientErrorKind::timeout, "timed out reading the file");
    if (rec == bhttp::error::body_limit)
      throw ClientError(ClientErrorKind::too_large,
                        "the file is larger than " + std::to_string(r.max_bytes) + " bytes");
    if (rec)
      throw ClientError(ClientErrorKind::protocol, "reading the file failed: " + rec.message());
    const std::string_view got(chunk.data(), chunk.size() - parser.get().body().size);
    if (ok) {
      out.bytes += static_cast<std::int64_t>(got.size());
      if (r.on_body && !got.empty()) r.on_body(got);
    } else {
      out.error_body.append(
          got.substr(0, 4096 - std::min<std::size_t>(4096, out.error_body.size())));
      if (out.error_body.size() >= 4096) break;  // enough to say why; the connection is dropped
    }
  }
  co_return out;
}

}  // namespace

Task<FetchResult> HttpsClient::fetch(FetchRequest r) {
  auto impl = impl_;
  const Target t = parse_url(r.url);
  if (r.https_only && !t.tls)
    throw ClientError(ClientErrorKind::refused, "only https:// URLs are fetched");
  if (r.vet_host)
    if (const auto why = r.vet_host(t.host))
      throw ClientError(ClientErrorKind::refused, "refused host " + t.host + ": " + *why);
  const auto deadline = std::chrono::steady_clock::now() + r.timeout;
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path_and_query, 11};
  req.set(bhttp::field::host, t.host_header);
  req.set(bhttp::field::user_agent, "streamgate");
  req.set(bhttp::field::accept_encoding, "identity");
  req.keep_alive(false);
  auto open = open_connection(impl->ctx, impl->opened, t, deadline,
                              VetAddress(r.vet_address));  // [gcc12-co_await]
  auto conn = co_await std::move(open);
  if (conn->tls) {
    auto get = fetch_on(*conn->tls, *conn, req, r, deadline);  // [gcc12-co_await]
    co_return co_await std::move(get);
  }
  auto get = fetch_on(*conn->plain, *conn, req, r, deadline);  // [gcc12-co_await]
  co_return co_await std::move(get);
}

}  // namespace streamgate::http
