#include "server/meetings/events.hpp"

#include <boost/json/parse.hpp>

#include "core/ids.hpp"
#include "core/meeting.hpp"

namespace streamgate::server {
namespace json = boost::json;

PreparedApply prepare_event(const json::object& event) {
  PreparedApply p;
  auto [type, id] = core::event_call_key(event);
  if (core::is_valid_call_id(type) && core::is_valid_call_id(id)) {
    p.call_type = std::move(type);
    p.call_id = std::move(id);
  }
  try {
    core::CallEvent ev = core::parse_call_event(event);
    p.session_id = ev.session_id;
    p.apply = [ev = std::move(ev)](std::optional<core::Meeting> m) {
      return ApplyResult{core::apply_event(std::move(m), ev, core::system_now()), ""};
    };
  } catch (const std::exception& e) {
    p.apply = [msg = std::string(e.what())](std::optional<core::Meeting>) {
      return ApplyResult{std::nullopt, msg};
    };
  }
  return p;
}

PreparedApply prepare_event(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    PreparedApply p;
    p.apply = [](std::optional<core::Meeting>) {
      return ApplyResult{std::nullopt, "stored body is not a JSON object"};
    };
    return p;
  }
  return prepare_event(v.get_object());
}

bool is_sane_webhook_id(std::string_view s) {
  if (s.empty() || s.size() > 200) return false;
  for (char c : s)
    if (c <= 0x20 || c >= 0x7f) return false;
  return true;
}

}  // namespace streamgate::server
