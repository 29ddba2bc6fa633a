#include "http/session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <memory_resource>
#include <tuple>
#include <type_traits>

#include "http/json_response.hpp"
#include "http/middleware.hpp"
#include "http/wire.hpp"

namespace streamgate::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// The largest header the server accepts, whatever is configured: Beast stores a field of 64 KiB
// or more by throwing std::length_error from inside its read operation, out of reach of the
// session. The connection's read buffer is bounded to this plus kBufferSlack, and every line
// the parser must hold whole (the header, a chunk-size line with its extensions, the trailer)
// has to fit in that buffer, so no field can reach 64 KiB: an oversized one is
// http::error::buffer_overflow, answered 431.
constexpr std::size_t kMaxHeaderLimit = 56 * 1024;
constexpr std::size_t kBufferSlack = 4 * 1024;
static_assert(kMaxHeaderLimit + kBufferSlack < 65000,
              "a field must not reach Beast's 64 KiB field limit");

// On a plain connection, `step` (a synchronous Beast or Asio algorithm over ConnStream's
// never-blocking read_some and write_some) does what it can without waiting: a request already
// in the buffer is parsed, an answer that fits the socket's send buffer is sent. True when it
// ended (done, or failed: the error is in `ec`); false when it would have had to wait (or was
// not to be tried), and the caller awaits the rest with the same parser, buffer or offset. TLS
// connections always await.
template <typename Stream, typename Step>
bool now_or_would_block(bool try_now, boost::system::error_code& ec, Step&& step) {
  if constexpr (std::is_same_v<Stream, ConnStream>) {
    if (!try_now) return false;
    step(ec);
    if (ec != asio::error::would_block) return true;
    ec = {};
  }
  return false;
}

// A connection's requests read and answered without waiting, in a row: a client that pipelines
// keeps the buffer from emptying, and would otherwise keep its worker from every other
// connection. After this many the next header is awaited, which lets the others run (Beast's
// read posts its completion even when the header is already buffered).
constexpr unsigned kMaxRequestsWithoutWaiting = 16;

// A request's header fields live in its connection's arena (FieldArena) instead of an
// allocation each: Beast gives each field its own block.
using FieldAllocator = std::pmr::polymorphic_allocator<char>;
using Parser = bhttp::request_parser<bhttp::string_body, FieldAllocator>;
using Message = bhttp::request<bhttp::string_body, bhttp::basic_fields<FieldAllocator>>;

// Room for a usual request's fields inside the connection's coroutine frame (1 KiB: a client's
// few fields and a bearer token); a larger header (up to the header limit) takes more from the
// heap, given back when the next request begins or the connection ends.
class FieldArena {
 public:
  FieldArena() : resource_(buffer_, sizeof buffer_) {}
  FieldArena(const FieldArena&) = delete;
  FieldArena& operator=(const FieldArena&) = delete;
  FieldAllocator allocator() { return FieldAllocator(&resource_); }
  // After the request's parser is gone: everything it took is free again.
  void reset() { resource_.release(); }

 private:
  alignas(std::max_align_t) std::byte buffer_[1024];
  std::pmr::monotonic_buffer_resource resource_;
};

// A connection keeps its response buffer between answers up to this size.
constexpr std::size_t kKeptWireCapacity = 64 * 1024;

// A drain closes the server's idle connections; a MemoryStream has no server to drain it. The
// connection's entry moves out of the set and back in as a node it keeps (`node`), so waiting
// for the next request allocates nothing.
void track_idle(IdleSet& idle, IdleSet::node_type& node, ConnStream& s, bool idle_now) {
  if (!idle_now) {
    node = idle.extract(&s);
  } else if (node.empty()) {
    idle.insert(&s);
  } else {
    node.value() = &s;
    idle.insert(std::move(node));
  }
}
void track_idle(IdleSet&, IdleSet::node_type&, MemoryStream&, bool) {}

bool is_quiet_network_error(const boost::system::error_code& ec) {
  return ec == beast::error::timeout || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::operation_aborted ||
         ec == asio::error::broken_pipe || ec == asio::error::not_connected ||
         ec == bhttp::error::end_of_stream || ec == asio::error::bad_descriptor ||
         ec == bhttp::error::partial_message;
}

// RFC 9112 framing rules that Beast leaves to us, checked on the parsed header before any body
// is read. Behind a load balancer these decide where one request ends and the next begins, so
// anything ambiguous is refused (400, then close) rather than guessed at. nullptr: it passes.
const char* framing_error(const Message& msg) {
  std::size_t hosts = 0, lengths = 0, encodings = 0, codings = 0;
  bool chunked_only = true;
  for (const auto& f : msg) {
    switch (f.name()) {
      case bhttp::field::host: ++hosts; break;
      case bhttp::field::content_length: ++lengths; break;
      case bhttp::field::transfer_encoding: {
        ++encodings;
        std::string_view v = f.value();
        while (!v.empty()) {
          const auto comma = v.find(',');
          std::string_view c = v.substr(0, comma);
          while (!c.empty() && (c.front() == ' ' || c.front() == '\t')) c.remove_prefix(1);
          while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.remove_suffix(1);
          if (!c.empty()) {
            ++codings;
            if (!iequals(c, "chunked")) chunked_only = false;
          }
          if (comma == std::string_view::npos) break;
          v.remove_prefix(comma + 1);
        }
        break;
      }
      default: break;
    }
  }
  // §3.2: a client MUST send Host in every HTTP/1.1 request; more than one is invalid.
  if (hosts > 1) return "Request has more than one Host header";
  if (msg.version() >= 11 && hosts == 0) return "HTTP/1.1 request without a Host header";
  if (encodings > 0) {
    // §6.1: Transfer-Encoding in HTTP/1.0 is faulty framing. §6.3: the only coding this server
    // decodes is chunked, and it must be the one and final coding.
    if (msg.version() < 11) return "Transfer-Encoding is not allowed in HTTP/1.0";
    if (codings != 1 || !chunked_only) return "Transfer-Encoding must be exactly \"chunked\"";
    if (lengths > 0) return "Content-Length and Transfer-Encoding together";
  }
  return nullptr;
}

// What a failed read of the header or the body is answered with (nullptr code: end quietly,
// as for a client that went away or timed out; a timed-out operation was cancelled by the
// worker's sweeper, see http/conn_stream.hpp).
struct Refusal {
  int status = 0;
  const char* code = nullptr;
  const char* message = nullptr;
};

Refusal refusal_for(const boost::system::error_code& ec, bool in_body) {
  if (ec == bhttp::error::header_limit)
    return {431, "header_too_large", "Request header is too large"};
  if (ec == bhttp::error::buffer_overflow)
    return in_body ? Refusal{431, "header_too_large",
                             "Chunk extensions or trailer fields are too large"}
                   : Refusal{431, "header_too_large", "Request header is too large"};
  if (ec == bhttp::error::body_limit)
    return {413, "payload_too_large", "Request body is too large"};
  if (is_quiet_network_error(ec)) return {};
  return {400, "bad_request", in_body ? "Malformed HTTP request body" : "Malformed HTTP request"};
}

// Routes the parsed header into `req` and `ctx`; false for a target that cannot be parsed.
bool route(const SessionShared& s, const Parser& parser, std::vector<std::string>& segments,
           Request& req, Context& ctx, std::size_t& body_limit) {
  const auto& msg = parser.get();
  req.method = parse_method(msg.method_string());
  // Logs and metrics see a bounded name: a client-made method is "other", never its bytes.
  req.method_name = req.method == Method::other ? std::string_view("other")
                                                : std::string_view(msg.method_string());
  req.target = msg.target();
  RouteMatch match;
  if (req.method == Method::options && req.target == "*") {
    // OPTIONS * asks about the server as a whole (RFC 9110 §9.3.7).
    match.kind = RouteMatch::Kind::method_not_allowed;
    match.allow = "GET, HEAD, POST, OPTIONS";
  } else if (!split_target(req.target, segments, req.path, req.query)) {
    return false;
  } else {
    match = s.router.match(req.method, segments);
  }
  body_limit = s.options.unmatched_body_limit;
  if (match.kind == RouteMatch::Kind::found) {
    body_limit = match.route->options.body_limit;
    ctx.route = match.route;
    ctx.route_pattern = match.route->pattern;
  }
  ctx.path_known = match.kind != RouteMatch::Kind::not_found;
  ctx.allowed_methods = std::move(match.allow);
  ctx.params = std::move(match.params);
  return true;
}

// The wait for the next request's first bytes, into the empty `buffer`. A plain connection reads
// when its socket may hold bytes, and otherwise parks until the socket's next edge
// (read_watch.hpp); others (TLS, or a socket the watch refused) read Asio's way. Either way the
// wait is a real suspension: other connections run. False when the connection is to end (closed by
// the peer, an error, the idle timeout or a drain).
template <typename Stream>
Task<bool> wait_for_request(Stream& stream, const SessionShared& s, IdleSet& idle,
                            IdleSet::node_type& idle_node, beast::flat_buffer& buffer) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  if constexpr (std::is_same_v<Stream, ConnStream>) {
    if (stream.can_park()) {
      for (bool waited = false;; waited = true) {
        if (stream.read_ready()) {
          boost::system::error_code ec;
          const std::size_t n = stream.read_some(buffer.prepare(4096), ec);
          if (n > 0) {
            buffer.commit(n);
            // Bytes already there mean no wait yet: let the others run first.
            if (!waited) co_await asio::post(stream.get_executor(), asio::use_awaitable);
            co_return true;
          }
          if (ec != asio::error::would_block) co_return false;
        }
        track_idle(idle, idle_node, tcp_layer, true);
        tcp_layer.expires_after(s.options.idle_timeout);
        auto [ec] = co_await stream.async_wait_readable(kTuple);
        tcp_layer.expires_never();
        track_idle(idle, idle_node, tcp_layer, false);
        if (ec) co_return false;
      }
    }
  }
  track_idle(idle, idle_node, tcp_layer, true);
  tcp_layer.expires_after(s.options.idle_timeout);
  auto [rec, n] = co_await stream.async_read_some(buffer.prepare(4096), kTuple);
  tcp_layer.expires_never();
  track_idle(idle, idle_node, tcp_layer, false);
  if (rec) co_return false;
  buffer.commit(n);
  co_return true;
}

// Reads the next request into `parser`, `req` and `ctx`: the keep-alive wait, the header, the
// framing rules, routing, the route's body limit, 100-continue and the body. False when the
// connection is to end (the refusal, if any, has been sent).
template <typename Stream>
Task<bool> read_request(Stream& stream, const SessionShared& s, IdleSet& idle,
                        IdleSet::node_type& idle_node, beast::flat_buffer& buffer, Parser& parser,
                        std::vector<std::string>& segments, Request& req, Context& ctx,
                        unsigned& without_waiting) {
  auto& tcp_layer = beast::get_lowest_layer(stream);
  if (buffer.size() == 0) {
    // Idle between requests: the keep-alive timeout applies, and a drain may close us.
    if (s.draining.load()) co_return false;
    if (!co_await wait_for_request(stream, s, idle, idle_node, buffer)) co_return false;
    without_waiting = 0;
  }
  const bool header_now = ++without_waiting <= kMaxRequestsWithoutWaiting;
  if (!header_now) without_waiting = 0;

  parser.header_limit(static_cast<std::uint32_t>(s.options.header_limit));
  parser.body_limit(std::max(s.router.max_body_limit(), s.options.unmatched_body_limit));
  boost::system::error_code hec;
  if (!now_or_would_block<Stream>(
          header_now, hec, [&](auto& ec) { bhttp::read_header(stream, buffer, parser, ec); })) {
    tcp_layer.expires_after(s.options.header_timeout);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kTuple);
    tcp_layer.expires_never();
    hec = ec;
  }
  Refusal refusal;
  if (hec) {
    refusal = refusal_for(hec, false);
  } else if (const char* framing = framing_error(parser.get())) {
    refusal = {400, "bad_request", framing};
  }
  std::size_t body_limit = 0;
  if (!hec && refusal.code == nullptr) {
    if (!route(s, parser, segments, req, ctx, body_limit))
      refusal = {400, "bad_request", "Malformed request target"};
    else if (parser.content_length() && *parser.content_length() > body_limit)
      refusal = {413, "payload_too_large", "Request body is too large"};
  }
  if (hec || refusal.code != nullptr) {
    if (refusal.code != nullptr)
      co_await write_error_and_close(stream, refusal.status, refusal.code, refusal.message);
    co_return false;
  }

  if (!parser.is_done()) {
    parser.body_limit(body_limit);
    // A client that waits for 100 Continue has sent no body yet: nothing to try now.
    const bool expects_continue = iequals(parser.get()[bhttp::field::expect], "100-continue");
    if (expects_continue) {
      bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
      tcp_layer.expires_after(s.options.write_timeout);
      auto [cec, cn] = co_await bhttp::async_write(stream, cont, kTuple);
      tcp_layer.expires_never();
      if (cec) co_return false;
    }
    boost::system::error_code bec;
    if (!now_or_would_block<Stream>(!expects_continue, bec,
                                    [&](auto& ec) { bhttp::read(stream, buffer, parser, ec); })) {
      tcp_layer.expires_after(s.options.body_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      tcp_layer.expires_never();
      bec = ec;
    }
    if (bec) {
      refusal = refusal_for(bec, true);
      if (refusal.code != nullptr)
        co_await write_error_and_close(stream, refusal.status, refusal.code, refusal.message);
      co_return false;
    }
  }

  auto& msg = parser.get();
  req.headers.reserve(16);
  for (const auto& f : msg) req.headers.emplace_back(f.name_string(), f.value());
  req.body = std::move(msg.body());
  co_return true;
}

}  // namespace

std::size_t bounded_header_limit(std::size_t configured) {
  return std::min(configured, kMaxHeaderLimit);
}

namespace {

// What a request that matched no route gets: 204 to OPTIONS on a known path, else 405 or 404.
Task<Response> answer_unrouted(Request& req, Context& ctx) {
  if (ctx.path_known && req.method == Method::options) {
    Response res;
    res.status = 204;
    res.content_type.clear();
    res.set_header("Allow", ctx.allowed_methods);
    co_return res;
  }
  if (ctx.path_known)
    throw HttpError(405, "method_not_allowed", "Method not allowed for this path")
        .with_header("Allow", ctx.allowed_methods);
  throw HttpError(404, "not_found", "No such endpoint");
}

}  // namespace

Handler make_dispatch() {
  // Not a coroutine: a routed request goes straight into its route's chain (see Next).
  return [](Request& req, Context& ctx) -> Task<Response> {
    if (ctx.route == nullptr) return answer_unrouted(req, ctx);
    return run_chain(ctx.route->options.middleware, ctx.route->handler, req, ctx);
  };
}

template <typename Stream>
Task<void> serve_connection(Stream& stream, const SessionShared& s, IdleSet& idle,
                            const std::string& peer_ip) {
  // Bounded: see kMaxHeaderLimit. Bodies are not held here (the parser moves them out).
  beast::flat_buffer buffer(s.options.header_limit + kBufferSlack);
  std::vector<std::string> segments;
  std::string wire;  // each response's bytes, one write (http/wire.hpp)
  IdleSet::node_type idle_node;
  FieldArena fields;
  unsigned without_waiting = 0;
  for (;;) {
    fields.reset();  // the last request's parser, and all that pointed into it, are gone
    // The parser owns the header fields that req.headers points into; they live in `fields`.
    Parser parser(std::piecewise_construct, std::make_tuple(), std::make_tuple(fields.allocator()));
    Request req;
    Context ctx;
    if (!co_await read_request(stream, s, idle, idle_node, buffer, parser, segments, req, ctx,
                               without_waiting))
      break;
    req.remote_address = peer_ip;
    ctx.client_ip = client_ip(peer_ip, req.header("x-forwarded-for"), s.options.trusted_proxy_hops);
    ctx.started = std::chrono::steady_clock::now();

    Response res = co_await run_chain(s.global, s.dispatch, req, ctx);

    const bool close = !parser.get().keep_alive() || res.close || s.draining.load();
    serialize_response(res, req.method, parser.get().version(), close, wire);
    boost::system::error_code wec;
    std::size_t sent = 0;
    if (!now_or_would_block<Stream>(
            true, wec, [&](auto& ec) { sent = asio::write(stream, asio::buffer(wire), ec); })) {
      auto& tcp_layer = beast::get_lowest_layer(stream);
      tcp_layer.expires_after(s.options.write_timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(wire) + sent, kTuple);
      tcp_layer.expires_never();
      wec = ec;
    }
    if (wire.capacity() > kKeptWireCapacity) std::string().swap(wire);  // a large answer's room
    if (wec || close) break;
  }
}

template <typename Stream>
Task<void> write_error_and_close(Stream& stream, int status, std::string_view code,
                                 std::string_view message, bool linger) {
  const std::string request_id = generate_request_id();
  Response r = json_error(status, code, message, request_id);
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(status), 11};
  out.set(bhttp::field::content_type, r.content_type.view());
  out.set(bhttp::field::connection, "close");
  out.set("X-Request-Id", request_id);
  out.body() = std::move(r.body);
  out.prepare_payload();
  auto& tcp_layer = beast::get_lowest_layer(stream);
  tcp_layer.expires_after(std::chrono::seconds(2));
  auto [wec, wn] = co_await bhttp::async_write(stream, out, kTuple);
  tcp_layer.expires_never();
  boost::system::error_code ignored;
  tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
  if (wec || !linger) co_return;
  // Lingering close (as nginx does): closing with unread bytes in the socket makes the kernel
  // send a reset, which can destroy the answer before the client reads it. Read and drop what
  // the client is still sending, bounded in bytes and time. The connection still counts
  // against the limit meanwhile, so lingering never takes descriptors beyond it.
  tcp_layer.expires_after(std::chrono::milliseconds(500));
  std::array<char, 4096> sink;
  std::size_t drained = 0;
  while (drained < 1024 * 1024) {
    auto [rec, rn] = co_await tcp_layer.async_read_some(asio::buffer(sink), kTuple);
    if (rec) break;
    drained += rn;
  }
  tcp_layer.expires_never();
}

template Task<void> serve_connection(PlainStream&, const SessionShared&, IdleSet&,
                                     const std::string&);
template Task<void> serve_connection(TlsStream&, const SessionShared&, IdleSet&,
                                     const std::string&);
template Task<void> serve_connection(MemoryStream&, const SessionShared&, IdleSet&,
                                     const std::string&);
template Task<void> write_error_and_close(PlainStream&, int, std::string_view, std::string_view,
                                          bool);
template Task<void> write_error_and_close(TlsStream&, int, std::string_view, std::string_view,
                                          bool);
template Task<void> write_error_and_close(beast::tcp_stream&, int, std::string_view,
                                          std::string_view, bool);

}  // namespace streamgate::http
