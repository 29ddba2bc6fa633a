#include "http/log.hpp"

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <cmath>
#include <vector>

#include "http/json_response.hpp"

namespace streamgate::http {

namespace {
std::atomic<bool> text_logs{false};

// `value` with `digits` decimals, as "{:.Nf}" writes it (to_chars rounds exactly as well) but
// without parsing a format string per number. Non-finite values read "nan", "inf", "-inf".
struct Fixed {
  char buf[48];
  std::size_t size;
  operator std::string_view() const { return {buf, size}; }
};
Fixed fixed(double value, int digits) {
  Fixed f{};
  if (!std::isfinite(value)) {
    const std::string_view word = std::isnan(value) ? "nan" : value < 0 ? "-inf" : "inf";
    word.copy(f.buf, word.size());
    f.size = word.size();
    return f;
  }
  // Past 1e30 a fixed number no longer fits the buffer: no duration or size comes near it.
  const double v = std::fabs(value) < 1e30 ? value : std::copysign(1e30, value);
  const auto r = std::to_chars(f.buf, f.buf + sizeof f.buf, v, std::chars_format::fixed, digits);
  f.size = r.ec == std::errc() ? static_cast<std::size_t>(r.ptr - f.buf) : 0;
  return f;
}
}  // namespace

void set_text_logs(bool text) { text_logs.store(text, std::memory_order_relaxed); }

// A thread's spare line buffers: at most four, each at most 4 KiB of capacity (a longer line's
// buffer is freed, so one huge line never stays). Lines may nest (a line built while another is
// alive) and may end on another thread than they began (a coroutine resumed elsewhere): each
// takes its own buffer and gives it to whichever thread ends it.
// A line made while the thread exits (after its spares are gone) simply allocates.
namespace {
constexpr std::size_t kSpareBuffers = 4;
constexpr std::size_t kFirstCapacity = 320;  // an access line with its two ids fits
constexpr std::size_t kKeptCapacity = 4096;
thread_local bool spares_gone = false;
struct Spares {
  std::vector<std::string> buffers;
  ~Spares() { spares_gone = true; }
};
thread_local Spares spares;
}  // namespace

LogLine::LogLine(std::string_view msg) : text_(text_logs.load(std::memory_order_relaxed)) {
  if (!spares_gone && !spares.buffers.empty()) {
    buf_ = std::move(spares.buffers.back());
    spares.buffers.pop_back();
    buf_.clear();
  } else {
    buf_.reserve(kFirstCapacity);
  }
  if (text_) {
    buf_.append(msg);
    return;
  }
  buf_ = "\"msg\":";
  append_json_string(buf_, msg);
}

LogLine::~LogLine() {
  // (A moved-from line has no buffer worth keeping.)
  if (spares_gone || buf_.capacity() < kFirstCapacity || buf_.capacity() > kKeptCapacity) return;
  auto& kept = spares.buffers;
  if (kept.size() >= kSpareBuffers) return;
  if (kept.capacity() < kSpareBuffers) kept.reserve(kSpareBuffers);
  kept.push_back(std::move(buf_));
}

// A value as a person reads it: bare when it is one plain word, else a JSON string (quoted, with
// control characters escaped, so that a value can never forge another line or field).
void LogLine::text_value(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '"' || c == '=' || c == '\\') {
      plain = false;
      break;
    }
  }
  if (plain)
    buf_.append(value);
  else
    append_json_string(buf_, value);
}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
  if (text_) {
    buf_ += ' ';
    buf_.append(key);
    buf_ += '=';
    text_value(value);
    return *this;
  }
  buf_ += ',';
  append_json_string(buf_, key);
  buf_ += ':';
  append_json_string(buf_, value);
  return *this;
}

LogLine& LogLine::word(std::string_view key, std::string_view value) {
  if (!text_) return add(key, value);
  buf_ += ' ';
  text_value(value);
  return *this;
}

LogLine& LogLine::word(std::string_view key, std::int64_t value) {
  if (!text_) return add(key, value);
  buf_ += ' ';
  const fmt::format_int digits(value);
  buf_.append(digits.data(), digits.size());
  return *this;
}

LogLine& LogLine::word_ms(std::string_view key, double ms) {
  if (!text_) return add(key, ms);
  buf_ += ' ';
  buf_.append(fixed(ms, ms < 10 ? 1 : 0));
  buf_.append("ms");
  return *this;
}

LogLine& LogLine::add(std::string_view key, std::int64_t value) {
  const fmt::format_int digits(value);
  return add_raw(key, std::string_view(digits.data(), digits.size()));
}

LogLine& LogLine::add(std::string_view key, double value) { return add_raw(key, fixed(value, 3)); }

LogLine& LogLine::add(std::string_view key, bool value) {
  return add_raw(key, value ? "true" : "false");
}

LogLine& LogLine::add_raw(std::string_view key, std::string_view json) {
  if (text_) {
    buf_ += ' ';
    buf_.append(key);
    buf_ += '=';
    buf_.append(json);
    return *this;
  }
  buf_ += ',';
  append_json_string(buf_, key);
  buf_ += ':';
  buf_ += json;
  return *this;
}

}  // namespace streamgate::http
