#include "http/wire.hpp"

#include <boost/beast/http/status.hpp>

namespace streamgate::http {

namespace {

// CR, LF and NUL are never inside a field's name or value. (A plain loop: find_first_of over a
// set of three runs a memchr of the set for every character.)
bool clean(std::string_view s) {
  for (const char c : s)
    if (c == '\r' || c == '\n' || c == '\0') return false;
  return true;
}

void append_number(std::string& out, std::size_t n) {
  char digits[24];
  char* p = digits + sizeof digits;
  do {
    *--p = static_cast<char>('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(p, static_cast<std::size_t>(digits + sizeof digits - p));
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

}  // namespace

void serialize_response(const Response& res, Method method, unsigned version, bool close,
                        std::string& out) {
  out.clear();
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, static_cast<std::size_t>(res.status));
  out.push_back(' ');
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(res.status));
  out.append(reason.data(), reason.size()).append("\r\n");

  const auto& headers = res.headers;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    const auto& [name, value] = headers[i];
    if (name.empty() || !clean(name) || !clean(value) || name.find(':') != std::string::npos)
      continue;
    // Set by the server below, from the response itself.
    if (iequals(name, "connection") || iequals(name, "content-length") ||
        iequals(name, "transfer-encoding") ||
        (!res.content_type.empty() && iequals(name, "content-type")))
      continue;
    bool later = false;
    for (std::size_t j = i + 1; j < headers.size() && !later; ++j)
      later = iequals(headers[j].first, name);
    if (!later) append_field(out, name, value);
  }
  if (!res.content_type.empty() && clean(res.content_type))
    append_field(out, "Content-Type", res.content_type);
  if (version == 10 && !close) append_field(out, "Connection", "keep-alive");
  if (version != 10 && close) append_field(out, "Connection", "close");
  const bool no_body = res.status == 204 || res.status == 304;
  if (!no_body) {
    out.append("Content-Length: ");
    append_number(out, res.body.size());
    out.append("\r\n");
  }
  out.append("\r\n");
  if (!no_body && method != Method::head) out.append(res.body);
}

}  // namespace streamgate::http
