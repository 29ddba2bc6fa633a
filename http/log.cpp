#include "http/log.hpp"

#include <fmt/format.h>

#include "http/json_response.hpp"

namespace streamgate::http {

LogLine::LogLine(std::string_view msg) {
  buf_.reserve(160);
  buf_ = "\"msg\":";
  append_json_string(buf_, msg);
}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
  buf_ += ',';
  append_json_string(buf_, key);
  buf_ += ':';
  append_json_string(buf_, value);
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
  buf_ += ',';
  append_json_string(buf_, key);
  buf_ += ':';
  buf_ += json;
  return *this;
}

}  // namespace streamgate::http
