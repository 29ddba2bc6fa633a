#pragma once
// A response's bytes on the wire: the status line, the header and the body serialised into one
// contiguous buffer, which the session writes with one call (no buffer sequence to walk). The
// buffer is the connection's own and keeps its capacity from one response to the next.
#include <string>

#include "http/types.hpp"

namespace streamgate::http {

// Serialises `res` as the answer to a request of `method` and HTTP `version` (10 or 11) into
// `out` (cleared first): what Beast's serializer writes for the same message, with
// `Connection` decided by `close` and `Content-Length` by the body (none for 204 and 304; a HEAD
// answer names the body's length without it). A header whose name or value holds CR, LF or NUL
// is left out, and of two headers with one name the later wins.
void serialize_response(const Response& res, Method method, unsigned version, bool close,
                        std::string& out);

}  // namespace streamgate::http
