#pragma once
// GET /api/v1/meetings (docs/spec.md §1.9): the caller's meetings, newest first, keyset-paginated.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/pipeline.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

http::Handler make_list_meetings_handler(std::shared_ptr<Store> store, std::string admin_role);

// The opaque cursor: the last meeting's (createdAt, call type, call id).
std::string encode_meeting_cursor(const MeetingCursor& c);
std::optional<MeetingCursor> decode_meeting_cursor(std::string_view cursor);

}  // namespace streamgate::server
