#include "http/trace.hpp"

#include <random>

namespace streamgate::http {

namespace {

bool lower_hex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool all_zero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

int hex_value(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

std::string random_hex(std::size_t n) {
  // Not a secret: a fast per-thread generator seeded once from the OS.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n, '0');
  for (;;) {
    std::uint64_t bits = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (i % 16 == 0) bits = rng();
      out[i] = kHex[bits & 15];
      bits >>= 4;
    }
    if (!all_zero(out)) return out;
  }
}

}  // namespace

bool is_trace_id(std::string_view id) { return id.size() == 32 && lower_hex(id) && !all_zero(id); }

std::optional<TraceParent> parse_traceparent(std::string_view h) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  const auto version = h.substr(0, 2);
  if (!lower_hex(version) || version == "ff") return std::nullopt;
  if (version == "00" ? h.size() != 55 : (h.size() > 55 && h[55] != '-')) return std::nullopt;
  const auto trace = h.substr(3, 32);
  const auto parent = h.substr(36, 16);
  const auto flags = h.substr(53, 2);
  if (!is_trace_id(trace) || !lower_hex(parent) || all_zero(parent) || !lower_hex(flags))
    return std::nullopt;
  TraceParent out;
  out.trace_id = std::string(trace);
  out.parent_id = std::string(parent);
  out.flags = static_cast<std::uint8_t>(hex_value(flags[0]) * 16 + hex_value(flags[1]));
  return out;
}

std::string new_trace_id() { return random_hex(32); }
std::string new_span_id() { return random_hex(16); }

Trace Trace::fresh() {
  Trace t;
  t.trace_id = new_trace_id();
  t.request_id = t.trace_id;
  return t;
}

std::string Trace::traceparent() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "00-";
  out += is_trace_id(trace_id) ? trace_id : new_trace_id();
  out += '-';
  out += new_span_id();
  out += '-';
  out += kHex[(flags >> 4) & 15];
  out += kHex[flags & 15];
  return out;
}

}  // namespace streamgate::http
