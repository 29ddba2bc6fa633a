#pragma once
// Call management (docs/spec.md §1.3): the rules that turn the parsed requests (call_request.hpp)
// into Stream calls and meeting changes. Stream and store failures propagate as
// StreamError and StoreUnavailable (mapped to HTTP once, in app/); the rules' own refusals are
// HttpErrors (403, 404, 409).
#include <boost/json/object.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/meeting.hpp"
#include "http/task.hpp"
#include "http/trace.hpp"
#include "http/types.hpp"
#include "server/calls/call_request.hpp"
#include "server/clients/stream_client.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

struct CallSettings {
  std::shared_ptr<StreamClient> stream;
  std::shared_ptr<Store> store;
  std::string admin_role = "admin";
  std::string creator_role = "host";
  std::string participant_role = "participant";
};

struct CreatedCall {
  core::Meeting meeting;
  bool created = false;  // the call is new in Stream (201) or existed (200)
};

// Every operation takes the request's trace (http/trace.hpp), carried on each Stream request.
//
// Get-or-create. For a call we already keep, only its creator or an admin may change it: a
// member gets the meeting as it is, anyone else 409. Roles never rise through this route.
http::Task<CreatedCall> create_call(const CallSettings& s, const http::Principal& caller,
                                    CreateCallRequest request, http::Trace trace);
// Creator or admin only (404 for those who may not see it, 403 for members).
http::Task<core::Meeting> add_participant(const CallSettings& s, const http::Principal& caller,
                                          CallRef ref, core::Member member, http::Trace trace);
http::Task<core::Meeting> end_call(const CallSettings& s, const http::Principal& caller,
                                   CallRef ref, http::Trace trace);
// Pulls the call's state from Stream now (admins may also import a call created elsewhere).
http::Task<core::Meeting> sync_call(const CallSettings& s, const http::Principal& caller,
                                    CallRef ref, http::Trace trace);

}  // namespace streamgate::server
