#include "core/stream_token.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/jwt.hpp"

namespace streamgate::core {
namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += boost::json::serialize(boost::json::string_view(s.data(), s.size()));
}

}  // namespace

std::string stream_token_claims(std::string_view user_id, const std::vector<std::string>& call_cids,
                                std::string_view role, std::int64_t iat, std::int64_t exp) {
  std::string out;
  out.reserve(64 + user_id.size() + call_cids.size() * 40);
  out += "{\"user_id\":";
  append_json_string(out, user_id);
  if (!call_cids.empty()) {
    out += ",\"call_cids\":[";
    for (std::size_t i = 0; i < call_cids.size(); ++i) {
      if (i > 0) out += ',';
      append_json_string(out, call_cids[i]);
    }
    out += ']';
  }
  if (!role.empty()) {
    out += ",\"role\":";
    append_json_string(out, role);
  }
  out += ",\"iat\":";
  out += std::to_string(iat);
  out += ",\"exp\":";
  out += std::to_string(exp);
  out += '}';
  return out;
}

StreamToken make_stream_token(const StreamTokenRequest& req, const HmacSha256Key& secret) {
  StreamToken t;
  t.iat = req.now_seconds - req.iat_skew_seconds;
  t.exp = req.now_seconds + req.validity_seconds;
  t.token =
      sign_hs256(stream_token_claims(req.user_id, req.call_cids, req.role, t.iat, t.exp), secret);
  return t;
}

std::string make_stream_server_token(const HmacSha256Key& secret) {
  return sign_hs256("{\"server\":true}", secret);
}

std::string make_stream_server_token(const HmacSha256Key& secret, std::int64_t iat,
                                     std::int64_t exp) {
  return sign_hs256(
      "{\"server\":true,\"iat\":" + std::to_string(iat) + ",\"exp\":" + std::to_string(exp) + "}",
      secret);
}

}  // namespace streamgate::core
