// A stored meeting document holding anything: reading never throws, yields no time out of range,
// and the API form of what was read is stable through another write and read.
#include <boost/json/parse.hpp>

#include "core/meeting.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  boost::system::error_code ec;
  const auto v = boost::json::parse(as_text(data, size), ec);
  if (ec || !v.is_object()) return 0;
  const core::Meeting m = core::from_storage_json(v.get_object());
  if (m.created_at) FUZZ_CHECK(core::in_time_range(*m.created_at));
  FUZZ_CHECK(m.duration_seconds() >= 0);
  auto api = core::to_api_json(m);
  auto again = core::to_api_json(core::from_storage_json(core::to_storage_json(m)));
  api.erase("updatedAt");
  again.erase("updatedAt");
  FUZZ_CHECK(api == again);
  return 0;
}
