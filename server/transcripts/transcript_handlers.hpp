#pragma once
// The transcript routes (docs/transcripts.md): GET /api/v1/calls/{callId}/transcript (JSON,
// ?format=vtt or ?format=text) and GET /api/v1/meetings/search?q=.
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/router.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

struct TranscriptRouteSettings {
  std::shared_ptr<Store> store;
  std::string admin_role;
  bool enabled = true;  // TRANSCRIPTS=off: both routes answer 404 transcripts_disabled
};

http::Handler make_get_transcript_handler(std::shared_ptr<const TranscriptRouteSettings> s);
http::Handler make_search_meetings_handler(std::shared_ptr<const TranscriptRouteSettings> s);

// The search cursor: the offset of the next page, bound to the query it was made for.
std::string encode_search_cursor(std::size_t offset, std::string_view q);
std::optional<std::size_t> decode_search_cursor(std::string_view cursor, std::string_view q);

}  // namespace streamgate::server
