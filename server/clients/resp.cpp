#include "server/clients/resp.hpp"

#include <algorithm>
#include <stdexcept>

#include "core/checked.hpp"

namespace streamgate::server {

namespace {

// What part of a bad reply goes into an error message: bounded, and printable.
std::string excerpt(std::string_view line) {
  std::string out;
  for (const char c : line.substr(0, 32))
    out.push_back(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f ? c : '?');
  return out;
}

std::int64_t integer(std::string_view text) {
  const auto v = core::parse_int64(text);
  if (!v) throw std::runtime_error("redis: bad integer " + excerpt(text));
  return *v;
}

}  // namespace

// Appended piece by piece (GCC 12's -O2 warns, wrongly, on `"$" + std::to_string(...)`).
std::string resp_command(const std::vector<std::string>& args) {
  std::string out;
  out.append("*").append(std::to_string(args.size())).append("\r\n");
  for (const auto& a : args)
    out.append("$").append(std::to_string(a.size())).append("\r\n").append(a).append("\r\n");
  return out;
}

bool RespIntegerReply::take_line(std::string_view line) {
  if (done_) throw std::runtime_error("redis: reply continues after its end");
  if (line.size() > kMaxRespLine) throw std::runtime_error("redis: reply line too long");
  if (line.empty()) throw std::runtime_error("redis: empty reply line");
  const char kind = line[0];
  const std::string_view rest = line.substr(1);
  if (expected_ > 0) {
    if (kind != ':') throw std::runtime_error("redis: unexpected array item " + excerpt(line));
    values_.push_back(integer(rest));
    done_ = --expected_ == 0;
    return done_;
  }
  switch (kind) {
    case '-':
      done_ = true;
      throw RespError("redis: " + excerpt(rest),
                      excerpt(rest.substr(0, std::min(rest.find(' '), rest.size()))));
    case '+': done_ = true; break;
    case ':':
      values_.push_back(integer(rest));
      done_ = true;
      break;
    case '*': {
      const std::int64_t n = integer(rest);
      if (n < 0 || n > kMaxRespArray)
        throw std::runtime_error("redis: unexpected array of " + excerpt(rest));
      expected_ = n;
      done_ = n == 0;
      break;
    }
    default: throw std::runtime_error("redis: unexpected reply " + excerpt(line));
  }
  return done_;
}

}  // namespace streamgate::server
