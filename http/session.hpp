#pragma once
// One connection's life: read a request, run it through the middleware chain, write the answer,
// and again while the connection is kept alive. Internal to the http module (server.cpp starts
// sessions; nothing outside http includes this), so Beast may appear here.
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "http/conn_stream.hpp"
#include "http/memory_stream.hpp"
#include "http/pipeline.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace streamgate::http {

// What every session of one server reads; it does not change while the server runs.
struct SessionShared {
  const ServerOptions& options;  // header_limit already bounded (bounded_header_limit)
  const Router& router;
  const std::vector<Middleware>& global;
  const Handler& dispatch;  // routing and the route's own chain
  const std::atomic<bool>& draining;
};

// A worker's connections that wait for their next request (a drain closes them at once).
using IdleSet = std::unordered_set<ConnStream*>;

// The header limit in force, whatever is configured (see kMaxHeaderLimit in session.cpp).
std::size_t bounded_header_limit(std::size_t configured);

// The terminal handler of every session: the matched route's own chain, or 204 for OPTIONS, 405
// with Allow, or 404.
Handler make_dispatch();

// Serves requests on `stream` until the client closes, an error ends it, keep-alive ends, or
// the server drains. Every failure of the client's making is answered (4xx) or ends quietly;
// nothing escapes.
template <typename Stream>
Task<void> serve_connection(Stream& stream, const SessionShared& shared, IdleSet& idle,
                            const std::string& peer_ip);

// Answers an error found by the session itself (framing, limits, the connection limit) with
// the JSON envelope, then ends the connection. With `linger`, what the client still sends is
// read and dropped for a moment first, so that the close does not reset the answer.
template <typename Stream>
Task<void> write_error_and_close(Stream& stream, int status, std::string_view code,
                                 std::string_view message, bool linger = true);

using PlainStream = ConnStream;
using TlsStream = boost::beast::ssl_stream<ConnStream&>;
extern template Task<void> serve_connection(PlainStream&, const SessionShared&, IdleSet&,
                                            const std::string&);
extern template Task<void> serve_connection(TlsStream&, const SessionShared&, IdleSet&,
                                            const std::string&);
extern template Task<void> serve_connection(MemoryStream&, const SessionShared&, IdleSet&,
                                            const std::string&);
extern template Task<void> write_error_and_close(PlainStream&, int, std::string_view,
                                                 std::string_view, bool);
extern template Task<void> write_error_and_close(TlsStream&, int, std::string_view,
                                                 std::string_view, bool);
// The answer to a connection over the limit: no session, so Beast's own timed stream.
extern template Task<void> write_error_and_close(boost::beast::tcp_stream&, int, std::string_view,
                                                 std::string_view, bool);

}  // namespace streamgate::http
