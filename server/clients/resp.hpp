#pragma once
// The part of Redis's RESP protocol the limiter speaks, without I/O (so that it can be fuzzed):
// commands as arrays of bulk strings, and replies that are +OK, an integer, an error, or an array
// of at most 16 integers, read one line at a time.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace streamgate::server {

// The wire form of one command.
std::string resp_command(const std::vector<std::string>& args);

// The longest reply line the limiter reads; a longer one is not Redis answering our commands.
inline constexpr std::size_t kMaxRespLine = 4096;
inline constexpr std::int64_t kMaxRespArray = 16;

// An error reply from Redis ("-NOSCRIPT No matching script"): `code` is its first word.
struct RespError : std::runtime_error {
  RespError(const std::string& what, std::string c)
      : std::runtime_error(what), code(std::move(c)) {}
  std::string code;
};

class RespIntegerReply {
 public:
  // Takes one line of the reply, without its CRLF. True once the reply is complete (then
  // values() holds its integers: none for +OK). Throws RespError for a Redis error reply (the
  // reply is then complete) and std::runtime_error for anything that is not such a reply; a line
  // after completion is an error too.
  bool take_line(std::string_view line);
  const std::vector<std::int64_t>& values() const { return values_; }

 private:
  std::vector<std::int64_t> values_;
  std::int64_t expected_ = -1;  // array items still to come; -1 before the first line
  bool done_ = false;
};

}  // namespace streamgate::server
