#include "server/calls/reconcile.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <stdexcept>
#include <vector>

namespace streamgate::server {
namespace json = boost::json;

http::Task<std::optional<core::Meeting>> reconcile_call(std::shared_ptr<StreamClient> stream,
                                                        std::shared_ptr<Store> store,
                                                        std::string type, std::string id,
                                                        http::Trace trace) {
  auto get = stream->get_call(type, id, trace);  // [gcc12-co_await]
  const json::object state = co_await std::move(get);
  auto recs_op = stream->list_recordings(type, id, trace);  // [gcc12-co_await]
  const json::array recordings = co_await std::move(recs_op);
  auto trs_op = stream->list_transcriptions(type, id, std::move(trace));  // [gcc12-co_await]
  const json::array transcriptions = co_await std::move(trs_op);
  std::vector<core::CallEvent> events;
  try {
    events = core::events_from_call_state(state, recordings, transcriptions);
  } catch (const std::invalid_argument& e) {
    throw StreamError(StreamError::Kind::unavailable, 200, 0,
                      std::string("unexpected answer from Stream: ") + e.what());
  }
  auto members = core::members_from_call_state(state);
  const auto t = core::system_now();
  // The call's current session, so that one summarised out of the meeting is merged exactly.
  std::string session;
  for (const auto& e : events)
    if (!e.session_id.empty()) session = e.session_id;
  auto update = store->update_meeting(
      type, id,
      [events, members, t](std::optional<core::Meeting> m) {
        for (const auto& e : events) m = core::apply_event(std::move(m), e, t);
        if (m) core::merge_members(*m, members);
        return m;
      },
      session);
  co_return co_await std::move(update);
}

}  // namespace streamgate::server
