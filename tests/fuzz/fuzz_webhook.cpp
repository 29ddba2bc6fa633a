// A webhook body through the whole path: the real signature guard (gunzip of all members,
// bounded, and X-Signature with a fixed secret, so that the fuzzer reaches past it), JSON, the
// event parser, the meeting rules on an empty and on a busy meeting, the storage form and back,
// and the API form. A body that is a JSON array is a batch of events (at most 8).
// Properties: a wrong signature is 401 and a body the guard refuses is a 4xx, never more;
// applying an event twice changes nothing the second time; a batch applied in another order
// gives the same meeting; a stored meeting reads back as it was written; no time out of range
// survives.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <exception>

#include "core/meeting.hpp"
#include "server/meetings/gzip.hpp"
#include "server/meetings/stream_signature.hpp"
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
    core::CallSession s{"old" + std::to_string(i),
                        core::from_unix_nanos(1775650000000000000 + i * 120'000'000'000LL),
                        core::from_unix_nanos(1775650060000000000 + i * 120'000'000'000LL)};
    m.sessions.push_back(s);
  }
  core::fold_old_sessions(m);
  return m;
}

const auto kSecret = std::make_shared<const core::HmacSha256Key>("fuzz-webhook-secret");

// Runs the guard over `body` with `signature`: the verified (inflated) body, or the status of
// the refusal in `status`.
std::optional<std::string> guard(std::string_view body, const std::string& signature, int& status) {
  auto settings = std::make_shared<server::StreamSignatureSettings>();
  settings->api_key = "fuzz-key";
  settings->secret = kSecret;
  settings->body_limit = 1 << 20;
  const std::vector<http::Middleware> chain{server::verify_stream_signature(settings)};
  std::optional<std::string> passed;
  const http::Handler terminal = [&](http::Request& req,
                                     http::Context&) -> http::Task<http::Response> {
    passed = req.body;
    co_return http::Response{};
  };
  http::Request req;
  req.body = std::string(body);
  req.headers = {{"X-Signature", signature}, {"X-Api-Key", "fuzz-key"}};
  http::Context ctx;
  boost::asio::io_context io;
  std::exception_ptr error;
  boost::asio::co_spawn(io, http::run_chain(chain, terminal, req, ctx),
                        [&](std::exception_ptr e, http::Response) { error = e; });
  io.run();
  status = 200;
  if (error) {
    try {
      std::rethrow_exception(error);
    } catch (const http::HttpError& e) {
      status = e.status;
    }
  }
  return passed;
}

void check_order(const std::vector<core::CallEvent>& events) {
  const auto now = core::from_unix_nanos(1775700000000000000);
  auto apply_all = [&](const std::vector<std::size_t>& order) {
    std::optional<core::Meeting> m;
    for (const auto i : order) m = core::apply_event(m, events[i], now);
    return m;
  };
  std::vector<std::size_t> order(events.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto first = apply_all(order);
  check_meeting(*first);
  std::reverse(order.begin(), order.end());
  FUZZ_CHECK(view(*apply_all(order)) == view(*first));
  std::rotate(order.begin(), order.begin() + order.size() / 2, order.end());
  FUZZ_CHECK(view(*apply_all(order)) == view(*first));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw = as_text(data, size);
  // Stream signs the uncompressed bytes.
  std::string signed_bytes(raw);
  if (server::looks_gzipped(raw)) {
    std::string inflated;
    if (server::gunzip(raw, 1 << 20, inflated) == server::GunzipError::none)
      signed_bytes = std::move(inflated);
  }
  const std::string signature = kSecret->mac_hex(signed_bytes);
  std::string wrong = signature;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  int status = 0;
  FUZZ_CHECK(!guard(raw, wrong, status));
  FUZZ_CHECK(status == 401 || status == 400 || status == 413);
  const auto verified = guard(raw, signature, status);
  if (!verified) {
    FUZZ_CHECK(status == 400 || status == 413);  // gzip that is corrupt or too large
    return 0;
  }
  FUZZ_CHECK(*verified == signed_bytes && verified->size() <= (1u << 20));
  const std::string_view body = *verified;

  boost::system::error_code ec;
  const auto v = json::parse(body, ec);
  if (ec) return 0;
  if (v.is_array()) {
    std::vector<core::CallEvent> events;
    for (const auto& item : v.get_array()) {
      if (events.size() == 8) break;
      if (!item.is_object()) return 0;
      try {
        events.push_back(core::parse_call_event(item.get_object()));
      } catch (const std::invalid_argument&) {
        return 0;
      }
    }
    // One call's events: the batch is about the first event's call.
    if (events.empty()) return 0;
    const std::string type = events[0].call_type, id = events[0].call_id;
    std::erase_if(events,
                  [&](const core::CallEvent& e) { return e.call_type != type || e.call_id != id; });
    // One call has one creator, one set of custom data (we handle no call.updated) and one
    // ender: events of one call that disagree on those cannot come from Stream, and the first
    // such value a meeting learns is kept. Drop the disagreeing ones.
    std::string creator, ender;
    std::optional<json::object> custom;
    std::erase_if(events, [&](const core::CallEvent& e) {
      // Stream stamps every event; an event without a time is dated by its arrival (`now`),
      // which is not a fact of the call and so may depend on order.
      if (!e.created_at) return true;
      if (e.call && !e.call->created_by.empty()) {
        if (creator.empty()) creator = e.call->created_by;
        if (e.call->created_by != creator) return true;
      }
      if (e.call && !e.call->custom.empty()) {
        if (!custom) custom = e.call->custom;
        if (e.call->custom != *custom) return true;
      }
      if (e.type == "call.ended" && !e.ended_by.empty()) {
        if (ender.empty()) ender = e.ended_by;
        if (e.ended_by != ender) return true;
      }
      return false;
    });
    if (!events.empty()) check_order(events);
    return 0;
  }
  if (!v.is_object()) return 0;
  core::CallEvent ev;
  try {
    ev = core::parse_call_event(v.get_object());
  } catch (const std::invalid_argument&) {
    return 0;  // kept as failed, for replay
  }
  const auto now = core::from_unix_nanos(1775700000000000000);
  for (std::optional<core::Meeting> start :
       {std::optional<core::Meeting>{}, std::optional<core::Meeting>{busy_meeting()}}) {
    const core::Meeting once = core::apply_event(start, ev, now);
    check_meeting(once);
    const core::Meeting twice = core::apply_event(once, ev, now);
    FUZZ_CHECK(view(twice) == view(once));
  }
  return 0;
}
