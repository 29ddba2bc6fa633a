#include "core/time.hpp"

#include <cstdio>

namespace streamgate::core {

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

namespace {

struct Civil {
  std::int64_t y;
  unsigned m;
  unsigned d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// a = q * b + r with 0 <= r < b (b > 0), for every int64 a: no product that could overflow.
void floor_div_mod(std::int64_t a, std::int64_t b, std::int64_t& q, std::int64_t& r) {
  q = a / b;
  r = a % b;
  if (r < 0) {
    r += b;
    --q;
  }
}

// Reads exactly n digits at text[pos...]; false when any is not a digit.
bool digits(std::string_view text, std::size_t pos, std::size_t n, unsigned& out) {
  if (pos + n > text.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<unsigned>(c - '0');
  }
  return true;
}

// `v` in exactly `width` decimal digits, zero-padded (v < 10^width).
void append_digits(std::string& out, std::uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<std::size_t>(width));
}

// Any int64 of seconds formats without overflow (years beyond 9999 print more digits).
std::string format_civil(std::int64_t secs, std::int64_t frac, int fraction_digits) {
  std::int64_t days = 0, sod = 0;
  floor_div_mod(secs, 86400, days, sod);
  const Civil c = civil_from_days(days);
  std::string out;
  out.reserve(32);
  if (c.y >= 0 && c.y <= 9999) {
    // The common case by hand (snprintf's format parsing was most of a token answer's date).
    append_digits(out, static_cast<std::uint64_t>(c.y), 4);
  } else {
    char buf[32];
    const int n = std::snprintf(buf, sizeof buf, "%04lld", static_cast<long long>(c.y));
    out.append(buf, static_cast<std::size_t>(n));
  }
  out += '-';
  append_digits(out, c.m, 2);
  out += '-';
  append_digits(out, c.d, 2);
  out += 'T';
  append_digits(out, static_cast<std::uint64_t>(sod / 3600), 2);
  out += ':';
  append_digits(out, static_cast<std::uint64_t>(sod / 60 % 60), 2);
  out += ':';
  append_digits(out, static_cast<std::uint64_t>(sod % 60), 2);
  if (fraction_digits == 3 || fraction_digits == 6 || fraction_digits == 9) {
    const std::int64_t div = fraction_digits == 3 ? 1'000'000 : fraction_digits == 6 ? 1'000 : 1;
    out += '.';
    append_digits(out, static_cast<std::uint64_t>(frac / div), fraction_digits);
  }
  out += 'Z';
  return out;
}

}  // namespace

bool in_time_range(Nanos t) {
  const std::int64_t ns = to_unix_nanos(t);
  return ns >= kMinUnixNanos && ns <= kMaxUnixNanos;
}

std::optional<Nanos> checked_unix_nanos(std::int64_t ns) {
  if (ns < kMinUnixNanos || ns > kMaxUnixNanos) return std::nullopt;
  return from_unix_nanos(ns);
}

std::string format_rfc3339(std::int64_t unix_seconds) { return format_civil(unix_seconds, 0, 0); }

std::string format_rfc3339(Nanos t, int fraction_digits) {
  std::int64_t secs = 0, frac = 0;
  floor_div_mod(to_unix_nanos(t), 1'000'000'000, secs, frac);
  return format_civil(secs, frac, fraction_digits);
}

std::optional<Nanos> parse_rfc3339(std::string_view s) {
  unsigned year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, month) ||
      s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, minute) || s[16] != ':' ||
      !digits(s, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) || hour > 23 ||
      minute > 59 || second > 60)
    return std::nullopt;
  if (second == 60) second = 59;  // leap second: clamp rather than roll into the next minute
  std::size_t pos = 19;
  std::int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t count = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (count < 9) frac_ns = frac_ns * 10 + (s[pos] - '0');
      ++count;
      ++pos;
    }
    if (count == 0) return std::nullopt;
    for (std::size_t i = count; i < 9; ++i) frac_ns *= 10;
  }
  if (pos >= s.size()) return std::nullopt;
  std::int64_t offset_seconds = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    unsigned oh = 0, om = 0;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !digits(s, pos + 4, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset_seconds = (static_cast<std::int64_t>(oh) * 3600 + om * 60) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  // Four-digit years keep this sum far inside int64; the range check comes before the scaling.
  const std::int64_t secs = days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                            second - offset_seconds;
  if (secs < kMinUnixSeconds || secs > kMaxUnixSeconds) return std::nullopt;
  return Nanos(std::chrono::nanoseconds(secs * 1'000'000'000 + frac_ns));
}

Nanos system_now() {
  return Nanos(std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::system_clock::now().time_since_epoch()));
}

Nanos from_unix_nanos(std::int64_t ns) { return Nanos(std::chrono::nanoseconds(ns)); }

std::int64_t to_unix_nanos(Nanos t) { return t.time_since_epoch().count(); }

}  // namespace streamgate::core
