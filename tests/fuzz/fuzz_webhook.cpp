// A webhook body past the signature guard: gunzip (all members, bounded), JSON, the event
// parser, the meeting rules on an empty and on a busy meeting, the storage form and back, and
// the API form. Properties: applying an event twice changes nothing the second time; a stored
// meeting reads back as it was written; no time out of range survives.
#include <boost/json/parse.hpp>

#include "core/meeting.hpp"
#include "server/meetings/gzip.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate;
namespace json = boost::json;

namespace {

json::object view(const core::Meeting& m) {
  auto o = core::to_api_json(m);
  o.erase("updatedAt");
  return o;
}

void check_meeting(const core::Meeting& m) {
  FUZZ_CHECK(m.duration_seconds() >= 0);
  FUZZ_CHECK(m.session_count() >= 0);
  for (const auto& s : m.sessions) {
    if (s.started_at) FUZZ_CHECK(core::in_time_range(*s.started_at));
    if (s.ended_at) FUZZ_CHECK(core::in_time_range(*s.ended_at));
  }
  const auto back = core::from_storage_json(core::to_storage_json(m));
  FUZZ_CHECK(view(back) == view(m));
}

core::Meeting busy_meeting() {
  const auto t = core::from_unix_nanos(1775650000000000000);
  core::Meeting m = core::new_meeting("default", "fuzz", "alice", {}, t);
  for (int i = 0; i < 40; ++i) {
    core::CallSession s{"old" + std::to_string(i), core::from_unix_nanos(1775650000000000000 + i * 120'000'000'000LL),
                        core::from_unix_nanos(1775650060000000000 + i * 120'000'000'000LL)};
    m.sessions.push_back(s);
  }
  core::fold_old_sessions(m);
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body = as_text(data, size);
  std::string inflated;
  if (server::looks_gzipped(body)) {
    if (server::gunzip(body, 1 << 20, inflated) != server::GunzipError::none) return 0;
    FUZZ_CHECK(inflated.size() <= (1u << 20));
    body = inflated;
  }
  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return 0;
  core::CallEvent ev;
  try {
    ev = core::parse_call_event(v.get_object());
  } catch (const std::invalid_argument&) {
    return 0;  // kept as failed, for replay
  }
  const auto now = core::from_unix_nanos(1775700000000000000);
  for (std::optional<core::Meeting> start : {std::optional<core::Meeting>{}, std::optional<core::Meeting>{busy_meeting()}}) {
    const core::Meeting once = core::apply_event(start, ev, now);
    check_meeting(once);
    const core::Meeting twice = core::apply_event(once, ev, now);
    FUZZ_CHECK(view(twice) == view(once));
  }
  return 0;
}
