#pragma once
// base64url (RFC 4648 §5) without padding, as JWS compact serialization uses it.
#include <optional>
#include <string>
#include <string_view>

namespace streamgate::core {

std::string base64url_encode(std::string_view bytes);
// The same encoding appended to `out` (a JWS is built in one string this way); `bytes` must
// not point into `out`.
void base64url_append(std::string& out, std::string_view bytes);

// Strict decoder: rejects padding, characters outside the URL-safe alphabet, a length of
// 1 mod 4 and non-zero trailing bits, so that one token has exactly one encoding.
std::optional<std::string> base64url_decode(std::string_view text);

// Standard base64 (RFC 4648 §4) with padding, as the Standard Webhooks signatures and secrets
// use it. The decoder accepts the padding or its absence, nothing else outside the alphabet.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace streamgate::core
