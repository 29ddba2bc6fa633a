#include "http/log.hpp"

#include <fmt/format.h>

#include <atomic>
#include <iterator>

#include "http/json_response.hpp"

namespace streamgate::http {

namespace {
std::atomic<bool> text_logs{false};
}  // namespace

void set_text_logs(bool text) { text_logs.store(text, std::memory_order_relaxed); }

LogLine::LogLine(std::string_view msg) : text_(text_logs.load(std::memory_order_relaxed)) {
  buf_.reserve(320);  // an access line with its two ids fits
  if (text_) {
    buf_.append(msg);
    return;
  }
  buf_ = "\"msg\":";
  append_json_string(buf_, msg);
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
  fmt::format_to(std::back_inserter(buf_), " {}", value);
  return *this;
}

LogLine& LogLine::word_ms(std::string_view key, double ms) {
  if (!text_) return add(key, ms);
  if (ms < 10)
    fmt::format_to(std::back_inserter(buf_), " {:.1f}ms", ms);
  else
    fmt::format_to(std::back_inserter(buf_), " {:.0f}ms", ms);
  return *this;
}

LogLine& LogLine::add(std::string_view key, std::int64_t value) {
  char b[24];
  const auto end = fmt::format_to_n(b, sizeof b, "{}", value).out;
  return add_raw(key, std::string_view(b, static_cast<std::size_t>(end - b)));
}

LogLine& LogLine::add(std::string_view key, double value) {
  char b[32];
  const auto end = fmt::format_to_n(b, sizeof b, "{:.3f}", value).out;
  return add_raw(key, std::string_view(b, static_cast<std::size_t>(end - b)));
}

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
