#include "server/clients/stream_error.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <string_view>

#include "core/checked.hpp"

namespace streamgate::server {
namespace json = boost::json;

namespace {

std::optional<std::int64_t> parse_int(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  const auto comma = s.find(',');  // repeated headers joined with commas: take the first
  if (comma != std::string_view::npos) s = s.substr(0, comma);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return core::parse_int64(s);
}

}  // namespace

// The longest wait a 429 may ask for that we take literally (a day); longer hints are clamped
// here and then refused by the call's time budget.
constexpr std::int64_t kMaxServerWaitSeconds = 86'400;

// How long a 429 asks us to wait, in milliseconds, if it says. Any integer a server sends is
// clamped to [0, kMaxServerWaitSeconds] before it is scaled.
std::optional<std::int64_t> server_wait_ms(const http::ClientResponse& r, std::int64_t now) {
  if (auto ra = parse_int(r.header("retry-after")); ra && *ra >= 0)
    return std::min(*ra, kMaxServerWaitSeconds) * 1000;
  if (auto reset = parse_int(r.header("x-ratelimit-reset")); reset) {
    return std::clamp<std::int64_t>(core::sat_sub(*reset, now), 0, kMaxServerWaitSeconds) * 1000;
  }
  return std::nullopt;
}

StreamError error_from_response(const http::ClientResponse& r, std::int64_t now) {
  int code = 0;
  bool unrecoverable = false;
  std::string message = "Stream answered HTTP " + std::to_string(r.status);
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (!ec && v.is_object()) {
    const auto& o = v.get_object();
    // Stream's codes are small; anything else is not one of them.
    if (const auto* c = o.if_contains("code");
        c && c->is_int64() && c->get_int64() >= 0 && c->get_int64() <= 100'000)
      code = static_cast<int>(c->get_int64());
    // Passed on to our client (upstream_rejected): bounded, and without control characters.
    if (const auto* m = o.if_contains("message"); m && m->is_string()) {
      message.clear();
      for (const char ch : std::string_view(m->get_string()).substr(0, kMaxUpstreamMessage))
        message.push_back(static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f ? ' ' : ch);
    }
    if (const auto* u = o.if_contains("unrecoverable"); u && u->is_bool())
      unrecoverable = u->get_bool();
  }
  const auto kind = r.status >= 500 || r.status == 429 ? StreamError::Kind::unavailable
                                                       : StreamError::Kind::rejected;
  std::int64_t retry_after = 0;
  if (r.status == 429)
    retry_after = std::max<std::int64_t>(1, (server_wait_ms(r, now).value_or(1000) + 999) / 1000);
  return StreamError(kind, r.status, code, message, unrecoverable, retry_after);
}

http::HttpError to_http_error(const StreamError& e) {
  // The client gets a generic message for anything on our side of the wire: a transport
  // error's text names internal addresses (the log has it, see StreamClient::call).
  int status = 502;
  std::string code = "upstream_unavailable";
  std::string message = "Stream is unavailable; retry later";
  if (e.kind == StreamError::Kind::timeout) {
    status = 504;
    message = "Stream did not answer in time";
  } else if (e.kind == StreamError::Kind::unavailable) {
    status = e.status == 429 || e.status == 0 ? 503 : 502;
    if (e.status == 0) message = "Stream could not be reached; retry later";
    if (e.status == 429) message = "Stream is rate limiting this server; retry later";
  } else if (e.status < 400 || e.status > 499) {
    // A redirect or another answer that is not an error of the request: not the client's fault.
    message = "Stream answered HTTP " + std::to_string(e.status) + ", which this server cannot use";
  } else {
    code = "upstream_rejected";
    message = "Stream rejected the request: " + std::string(e.what());
    switch (e.status) {
      case 400:
      case 404:
      case 409:
      case 422: status = e.status; break;
      case 401:
      case 403:
        status = 502;
        message =
            "Stream refused this server's credentials (check STREAM_API_KEY/STREAM_API_SECRET)";
        break;
      default: status = 400;  // another 4xx: Stream refused what was asked
    }
  }
  http::HttpError out(status, code, message);
  if (e.code != 0) out.details["upstreamCode"] = e.code;
  if (e.status != 0) out.details["upstreamStatus"] = e.status;
  if (e.retry_after_seconds > 0)
    out.with_header("Retry-After", std::to_string(e.retry_after_seconds));
  return out;
}

}  // namespace streamgate::server
