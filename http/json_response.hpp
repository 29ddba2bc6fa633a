#pragma once
// The JSON envelope every response uses:
//   success {"success":true,"data":{...},"message":"..."}
//   failure {"success":false,"message":"...","error":{"code":"...","requestId":"..."}}
#include <boost/json/value.hpp>

#include <initializer_list>
#include <string_view>
#include <utility>

#include "http/types.hpp"

namespace streamgate::http {

Response json_success(int status, const boost::json::value& data, std::string_view message);
// The same envelope for data that is an object of string members, in order, written straight
// into the body (no JSON document built, serialised and freed): byte-identical to json_success
// with the equivalent object.
using StringMember = std::pair<std::string_view, std::string_view>;
Response json_success_strings(int status, std::initializer_list<StringMember> data,
                              std::string_view message);
Response json_error(const HttpError& error, std::string_view request_id);
Response json_error(int status, std::string_view code, std::string_view message,
                    std::string_view request_id);

// Appends `s` to `out` as a quoted JSON string.
void append_json_string(std::string& out, std::string_view s);

}  // namespace streamgate::http
