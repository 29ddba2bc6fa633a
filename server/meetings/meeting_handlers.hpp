#pragma once
// The meeting read (docs/spec.md §1.4) and the inbox replay (§1.5).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/pipeline.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

// GET /api/v1/calls/{callId}: creator, member or admin; 404 for anyone else (no probing).
http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role);

// The body of POST /api/v1/admin/webhooks/replay (pure; 400 for anything malformed).
struct ReplayRequest {
  std::size_t limit = 100;
  std::vector<std::string> webhook_ids;  // empty: the oldest failed ones
};
ReplayRequest parse_replay_request(std::string_view body);

http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role);

}  // namespace streamgate::server
