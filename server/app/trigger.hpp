#pragma once
// `streamgate trigger meeting`: a developer loop without Stream. Sends a running instance a
// realistic, correctly signed sequence of Stream webhooks for one call (session started, session
// ended, recording ready, transcription ready), so that the app sees its app events arrive.
#include <ostream>
#include <string>
#include <vector>

#include "server/app/config.hpp"

namespace streamgate::server {

// The four Stream webhook bodies of one short meeting of `call_id`, started `now_s` minus ten
// minutes and ended at `now_s` (Unix seconds).
std::vector<std::string> trigger_meeting_events(const std::string& call_id, const std::string& user,
                                                std::int64_t now_s);

// Signs each body with STREAM_API_SECRET and POSTs it to `base_url`/api/webhook/stream, in
// order, printing one line per event. Returns 0 when every event was answered 200, else 1.
int trigger_meeting(const Config& config, const std::string& call_id, const std::string& base_url,
                    std::ostream& out);

}  // namespace streamgate::server
