#include "http/json_response.hpp"

#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace streamgate::http {
namespace json = boost::json;

namespace {

// The length of the run at the start of `s` that JSON takes as it is: no control character
// (below 0x20), quote or backslash. Bytes from 0x80 up (UTF-8) pass.
#if defined(__SSE2__)
// Sixteen bytes at a time (SSE2 is in every x86-64): a byte is a control character when
// min(byte, 0x1f) == byte, unsigned. The last partial block is copied into a block padded with
// spaces, so nothing past the string is read.
std::size_t plain_run(std::string_view s) {
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i last_control = _mm_set1_epi8(0x1f);
  const auto hits = [&](__m128i v) {
    const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, last_control), v);
    const __m128i special = _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, special)));
  };
  std::size_t i = 0;
  for (; i + 16 <= s.size(); i += 16) {
    const unsigned m = hits(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i)));
    if (m != 0) return i + static_cast<std::size_t>(__builtin_ctz(m));
  }
  if (i == s.size()) return i;
  alignas(16) char tail[16];
  std::memset(tail, ' ', sizeof tail);
  std::memcpy(tail, s.data() + i, s.size() - i);
  const unsigned m = hits(_mm_load_si128(reinterpret_cast<const __m128i*>(tail)));
  return m != 0 ? i + static_cast<std::size_t>(__builtin_ctz(m)) : s.size();
}
#else
// Eight bytes at a time ("hasless" and "haszero" of Bit Twiddling Hacks: a byte below 0x20 has
// its high bit set in w - 0x2020.. and clear in w; a byte equal to c is a zero byte of
// w ^ cccc..; either can only err by flagging a byte above a true one).
std::size_t plain_run(std::string_view s) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    const std::uint64_t q = w ^ (kOnes * '"');
    const std::uint64_t b = w ^ (kOnes * '\\');
    const std::uint64_t hit = ((w - kOnes * 0x20) & ~w) | ((q - kOnes) & ~q) | ((b - kOnes) & ~b);
    if ((hit & kHigh) != 0) break;  // one of these eight needs escaping: find it below
  }
  for (; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == '"' || c == '\\') break;
  }
  return i;
}
#endif

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (;;) {
    // Most strings need no escaping: copy runs of plain characters in one go.
    const std::size_t run = plain_run(s);
    out.append(s.data(), run);
    s.remove_prefix(run);
    if (s.empty()) break;
    const auto c = static_cast<unsigned char>(s.front());
    s.remove_prefix(1);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
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

Response json_success_strings(int status, std::initializer_list<StringMember> data,
                              std::string_view message) {
  Response r;
  r.status = status;
  std::size_t size = 64 + message.size();
  for (const auto& [key, value] : data) size += key.size() + value.size() + 6;
  r.body.reserve(size);
  r.body = "{\"success\":true,\"data\":{";
  bool first = true;
  for (const auto& [key, value] : data) {
    if (!first) r.body += ',';
    first = false;
    append_json_string(r.body, key);
    r.body += ':';
    append_json_string(r.body, value);
  }
  r.body += "},\"message\":";
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
