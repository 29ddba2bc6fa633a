#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace streamgate::server {

// The body of POST /api/v1/admin/webhooks/replay (pure; 400 for anything malformed).
struct ReplayRequest {
  std::size_t limit = 100;
  std::vector<std::string> webhook_ids;  // empty: the oldest failed ones
};
ReplayRequest parse_replay_request(std::string_view body);

}  // namespace streamgate::server
