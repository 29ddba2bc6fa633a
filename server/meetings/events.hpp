#pragma once
// A verified Stream event, read into which meeting it touches and how to apply it (pure; the
// webhook handler and replay both use it).
#include <boost/json/object.hpp>

#include <string_view>

#include "server/store/store.hpp"

namespace streamgate::server {

// From the event's JSON object. An event the rules cannot use yields an apply that reports why
// (the store keeps it as failed, for replay).
PreparedApply prepare_event(const boost::json::object& event);
// From a stored body (replay): a body that is not a JSON object is such an event too.
PreparedApply prepare_event(std::string_view body);

// A webhook id we store: 1-200 visible ASCII characters.
bool is_sane_webhook_id(std::string_view id);

}  // namespace streamgate::server
