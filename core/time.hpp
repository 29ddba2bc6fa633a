#pragma once
// RFC 3339 formatting and parsing, and Stream's two timestamp forms (integer Unix nanoseconds
// or RFC 3339 strings with up to nine fractional digits).
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace streamgate::core {

using Nanos = std::chrono::sys_time<std::chrono::nanoseconds>;

// The times streamgate accepts from outside: 1970-01-01T00:00:00Z up to 2199-12-31T23:59:59Z.
// Inside this range every time fits int64 nanoseconds and the difference of any two does too,
// so durations need no further check; anything outside is refused where it is read.
inline constexpr std::int64_t kMinUnixSeconds = 0;
inline constexpr std::int64_t kMaxUnixSeconds = 7258118399;
inline constexpr std::int64_t kMinUnixNanos = kMinUnixSeconds * 1'000'000'000;
inline constexpr std::int64_t kMaxUnixNanos = kMaxUnixSeconds * 1'000'000'000 + 999'999'999;
bool in_time_range(Nanos t);
// nullopt for nanoseconds outside the range above.
std::optional<Nanos> checked_unix_nanos(std::int64_t ns);

// "2026-01-01T12:00:00Z" (whole seconds, UTC).
std::string format_rfc3339(std::int64_t unix_seconds);
// UTC with `fraction_digits` (0, 3, 6 or 9) fractional digits: "2026-01-01T12:00:00.123Z".
std::string format_rfc3339(Nanos t, int fraction_digits = 3);

// Accepts "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)", 'T'/'t' and 'Z'/'z', one to nine
// fractional digits (more are truncated). Returns nullopt for anything else, and for a time
// outside [kMinUnixSeconds, kMaxUnixSeconds].
std::optional<Nanos> parse_rfc3339(std::string_view text);

// A Stream timestamp given as integer nanoseconds since the Unix epoch (unchecked: values from
// outside go through checked_unix_nanos).
Nanos from_unix_nanos(std::int64_t ns);
std::int64_t to_unix_nanos(Nanos t);

// The system clock, as Nanos.
Nanos system_now();

// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d);

}  // namespace streamgate::core
