#pragma once
// The call routes' requests as parsed from HTTP (docs/spec.md §1.3): pure, no I/O, so that the
// fuzz target reaches every parser. A body or a path that cannot be used is a 400 HttpError.
#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/meeting.hpp"
#include "http/types.hpp"

namespace streamgate::server {

// A call named by the path (`{callId}`) and the `type` query parameter.
struct CallRef {
  std::string type;
  std::string id;
};
// 400 invalid_request unless both are 1-64 characters of [A-Za-z0-9_-].
CallRef parse_call_ref(std::string_view type, std::string_view id);

// POST /api/v1/calls. `members` starts with the caller and the creator role; the listed
// members follow, de-duplicated, without the caller.
struct CreateCallRequest {
  std::string type;
  std::string id;  // a new UUID when the body has none
  std::vector<core::Member> members;
  std::optional<boost::json::object> custom;  // only when the body has it
};
CreateCallRequest parse_create_call(std::string_view body, const std::string& caller,
                                    const std::string& creator_role);

// POST /api/v1/calls/{callId}/participants: the member to add, with the default role filled.
core::Member parse_participant(std::string_view body, const std::string& default_role);

}  // namespace streamgate::server
