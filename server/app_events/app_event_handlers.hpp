#pragma once
// The admin routes of app events (docs/app-events.md): list the outbox, redeliver one event or
// every failed one.
#include <functional>
#include <memory>
#include <string>

#include "http/pipeline.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

struct AppEventAdminSettings {
  std::shared_ptr<Store> store;
  std::string admin_role;
  std::function<void()> wake;  // the dispatcher looks at once (may be empty)
};

// GET /api/v1/admin/app-events?status=pending|failed|delivered&cursor=&limit=
http::Handler make_list_app_events_handler(std::shared_ptr<const AppEventAdminSettings> s);
// POST /api/v1/admin/app-events/{id}/redeliver
http::Handler make_redeliver_app_event_handler(std::shared_ptr<const AppEventAdminSettings> s);
// POST /api/v1/admin/app-events/redeliver-failed
http::Handler make_redeliver_failed_handler(std::shared_ptr<const AppEventAdminSettings> s);

// The list's opaque cursor: the last event's position in the outbox.
std::string encode_event_cursor(std::int64_t seq);
std::optional<std::int64_t> decode_event_cursor(std::string_view cursor);

}  // namespace streamgate::server
