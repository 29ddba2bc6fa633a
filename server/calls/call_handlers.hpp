#pragma once
// The HTTP adapters of the call routes: parse, call the service, answer.
#include <memory>

#include "http/pipeline.hpp"
#include "server/calls/call_service.hpp"

namespace streamgate::server {

http::Handler make_create_call_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_add_participant_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_end_call_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_sync_call_handler(std::shared_ptr<const CallSettings> s);

}  // namespace streamgate::server
