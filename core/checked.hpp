#pragma once
// Saturating integer arithmetic for values that come from outside (times, durations, counts):
// a sum or product that would overflow stops at the type's bound instead of wrapping (which
// is undefined behaviour for signed integers).
#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>

namespace streamgate::core {

inline std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r))
    return b > 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  return r;
}

inline std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r))
    return b < 0 ? std::numeric_limits<std::int64_t>::max()
                 : std::numeric_limits<std::int64_t>::min();
  return r;
}

inline std::int64_t sat_mul(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r))
    return (a < 0) != (b < 0) ? std::numeric_limits<std::int64_t>::min()
                              : std::numeric_limits<std::int64_t>::max();
  return r;
}

// A double read from JSON as a whole int64, or false when it is not finite, not whole, or out of
// range. The range check comes before the cast (casting an out-of-range double is undefined).
inline bool double_to_int64(double d, std::int64_t& out) {
  // 2^63 is exactly representable; every double below it converts.
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return false;
  const auto i = static_cast<std::int64_t>(d);
  if (static_cast<double>(i) != d) return false;
  out = i;
  return true;
}

// A whole decimal int64 and nothing else (no sign-less overflow, no trailing bytes), or nullopt.
inline std::optional<std::int64_t> parse_int64(std::string_view text) {
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
  return v;
}

}  // namespace streamgate::core
