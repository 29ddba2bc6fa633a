#pragma once
// The meeting read (docs/spec.md §1.4) and the inbox replay (§1.5).
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http/pipeline.hpp"
#include "server/meetings/replay_request.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

// GET /api/v1/calls/{callId}: creator, member or admin; 404 for anyone else (no probing).
http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role);

http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role);

}  // namespace streamgate::server
