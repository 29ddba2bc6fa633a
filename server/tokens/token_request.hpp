#pragma once
// The body of POST /api/v1/stream/token, parsed and checked (pure).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace streamgate::server {

struct TokenRequestBody {
  std::optional<std::int64_t> validity_seconds;
  std::vector<std::string> call_cids;
  std::string role;
};
// Throws HttpError 400 invalid_request for anything but an empty body or a JSON object
// with well-typed optional members.
TokenRequestBody parse_token_request(std::string_view body);

}  // namespace streamgate::server
