// The Redis RESP reader and writer of the limiter. Reader: the input, split at CRLF, is fed line
// by line; it is either a reply of at most 16 integers, complete exactly at its last line, or a
// std::runtime_error (which makes the limiter fail open or closed). A reply read back from its
// own wire form gives the same integers. Writer: the input, split at NUL into arguments, encodes
// to a RESP array that decodes to the same arguments, whatever bytes they hold.
#include <stdexcept>
#include <string>
#include <vector>

#include "server/clients/resp.hpp"
#include "tests/fuzz/fuzz.hpp"

namespace {

using streamgate::server::RespIntegerReply;

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  for (;;) {
    const auto crlf = text.find("\r\n");
    if (crlf == std::string_view::npos) break;
    out.push_back(text.substr(0, crlf));
    text.remove_prefix(crlf + 2);
  }
  return out;
}

void check_reader(std::string_view text) {
  RespIntegerReply reply;
  const auto lines = lines_of(text);
  bool done = false;
  std::size_t used = 0;
  try {
    for (const auto line : lines) {
      ++used;
      if (reply.take_line(line)) {
        done = true;
        break;
      }
    }
  } catch (const std::runtime_error&) {
    return;
  }
  if (!done) return;  // the reply needs more lines than the input has
  FUZZ_CHECK(reply.values().size() <= 16);
  // A line after the end is refused.
  if (used < lines.size()) {
    bool refused = false;
    try {
      RespIntegerReply copy = reply;
      copy.take_line(lines[used]);
    } catch (const std::runtime_error&) {
      refused = true;
    }
    FUZZ_CHECK(refused);
  }
  // Round trip through the wire form.
  if (reply.values().size() == 1 && lines[0][0] == ':') return;  // ":n" has no array form here
  RespIntegerReply again;
  bool again_done = again.take_line("*" + std::to_string(reply.values().size()));
  for (const auto v : reply.values()) again_done = again.take_line(":" + std::to_string(v));
  FUZZ_CHECK(again_done || reply.values().empty());
  if (!reply.values().empty()) FUZZ_CHECK(again.values() == reply.values());
}

void check_writer(std::string_view text) {
  std::vector<std::string> args;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\0') {
      args.emplace_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  const std::string wire = streamgate::server::resp_command(args);
  // Decode: *N CRLF, then N times $len CRLF bytes CRLF.
  std::size_t pos = 0;
  auto number_line = [&](char kind) {
    FUZZ_CHECK(pos < wire.size() && wire[pos] == kind);
    const auto end = wire.find("\r\n", pos);
    FUZZ_CHECK(end != std::string::npos);
    const std::size_t n = std::stoull(wire.substr(pos + 1, end - pos - 1));
    pos = end + 2;
    return n;
  };
  FUZZ_CHECK(number_line('*') == args.size());
  for (const auto& a : args) {
    const std::size_t len = number_line('$');
    FUZZ_CHECK(len == a.size() && pos + len + 2 <= wire.size());
    FUZZ_CHECK(wire.compare(pos, len, a) == 0);
    FUZZ_CHECK(wire.compare(pos + len, 2, "\r\n") == 0);
    pos += len + 2;
  }
  FUZZ_CHECK(pos == wire.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  check_reader(text);
  if (size <= 4096) check_writer(text);
  return 0;
}
