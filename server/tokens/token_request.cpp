#include "server/tokens/token_request.hpp"

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>

#include "core/checked.hpp"
#include "core/ids.hpp"
#include "http/types.hpp"

namespace streamgate::server {
namespace json = boost::json;

namespace {

http::HttpError invalid(std::string message) {
  return http::HttpError(400, "invalid_request", std::move(message));
}

constexpr std::size_t kMaxCallCids = 32;

}  // namespace

TokenRequestBody parse_token_request(std::string_view body) {
  TokenRequestBody out;
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return out;
  // The parse lives only for this call: in a buffer on the stack (a larger body spills to the
  // heap), not one allocation per member.
  unsigned char buffer[1024];
  json::monotonic_resource memory(buffer, sizeof buffer);
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, &memory);
  if (ec) throw invalid("Request body is not valid JSON");
  if (!v.is_object()) throw invalid("Request body must be a JSON object");
  const auto& o = v.get_object();
  if (const auto* vs = o.if_contains("validitySeconds"); vs && !vs->is_null()) {
    std::int64_t whole = 0;
    if (vs->is_int64()) {
      out.validity_seconds = vs->get_int64();
    } else if (vs->is_uint64()) {
      out.validity_seconds = INT64_MAX;  // clamped to the configured maximum below
    } else if (vs->is_double() && core::double_to_int64(vs->get_double(), whole)) {
      // Range-checked before the cast: 1e300 is refused, 120.0 is 120.
      out.validity_seconds = whole;
    } else {
      throw invalid("validitySeconds must be an integer number of seconds");
    }
  }
  if (const auto* cids = o.if_contains("callCids"); cids && !cids->is_null()) {
    if (!cids->is_array()) throw invalid("callCids must be an array of \"type:id\" strings");
    if (cids->get_array().size() > kMaxCallCids)
      throw invalid("callCids may hold at most " + std::to_string(kMaxCallCids) + " entries");
    for (const auto& c : cids->get_array()) {
      if (!c.is_string() || !core::parse_call_cid(c.get_string()))
        throw invalid(
            "callCids entries must be \"type:id\" with 1-64 characters of [A-Za-z0-9_-] each");
      std::string cid(c.get_string());
      if (std::find(out.call_cids.begin(), out.call_cids.end(), cid) == out.call_cids.end())
        out.call_cids.push_back(std::move(cid));
    }
  }
  if (const auto* role = o.if_contains("role"); role && !role->is_null()) {
    if (!role->is_string() || !core::is_valid_call_id(role->get_string()))
      throw invalid("role must be a role name of 1-64 characters of [A-Za-z0-9_-]");
    out.role = std::string(role->get_string());
  }
  if (!out.role.empty() && out.call_cids.empty())
    throw invalid("role is only allowed together with callCids");
  return out;
}

}  // namespace streamgate::server
