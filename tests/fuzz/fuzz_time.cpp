// Timestamps from outside: RFC 3339 text, and every JSON form read_timestamp accepts.
#include <boost/json/parse.hpp>

#include "core/meeting.hpp"
#include "core/time.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = as_text(data, size);
  if (const auto t = parse_rfc3339(text)) {
    // Accepted means in range, and its own formatting reads back to the same instant.
    FUZZ_CHECK(in_time_range(*t));
    const auto again = parse_rfc3339(format_rfc3339(*t, 9));
    FUZZ_CHECK(again && *again == *t);
  }
  boost::system::error_code ec;
  const auto v = boost::json::parse(text, ec);
  if (!ec) {
    try {
      if (const auto t = read_timestamp(&v)) FUZZ_CHECK(in_time_range(*t));
    } catch (const std::invalid_argument&) {
      // refused with a reason: the event is kept as failed
    }
  }
  return 0;
}
