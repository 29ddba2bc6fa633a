#include "http/json_response.hpp"

#include <boost/json/serialize.hpp>

namespace streamgate::http {
namespace json = boost::json;

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  // Most strings need no escaping: copy runs of plain characters in one go.
  std::size_t run = 0;
  while (run < s.size()) {
    const auto c = static_cast<unsigned char>(s[run]);
    if (c < 0x20 || c == '"' || c == '\\') break;
    ++run;
  }
  out.append(s.data(), run);
  s.remove_prefix(run);
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

Response json_success(int status, const json::value& data, std::string_view message) {
  Response r;
  r.status = status;
  r.body.reserve(256);
  r.body = "{\"success\":true,\"data\":";
  r.body += json::serialize(data);
  r.body += ",\"message\":";
  append_json_string(r.body, message);
  r.body += '}';
  return r;
}

Response json_error(const HttpError& e, std::string_view request_id) {
  json::object error;
  error["code"] = e.code;
  error["requestId"] = request_id;
  for (const auto& kv : e.details) error[kv.key()] = kv.value();
  json::object body;
  body["success"] = false;
  body["message"] = e.what();
  body["error"] = std::move(error);
  Response r;
  r.status = e.status;
  r.body = json::serialize(body);
  r.headers = e.headers;
  return r;
}

Response json_error(int status, std::string_view code, std::string_view message,
                    std::string_view request_id) {
  return json_error(HttpError(status, std::string(code), std::string(message)), request_id);
}

}  // namespace streamgate::http
