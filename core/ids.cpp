#include "core/ids.hpp"

namespace streamgate::core {
namespace {

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

bool is_valid_call_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id)
    if (!is_word_char(c)) return false;
  return true;
}

bool is_valid_user_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  for (char c : id)
    if (!is_word_char(c) && c != '@' && c != '.') return false;
  return true;
}

std::optional<CallCid> parse_call_cid(std::string_view cid) {
  const auto colon = cid.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  CallCid out{cid.substr(0, colon), cid.substr(colon + 1)};
  if (!is_valid_call_id(out.type) || !is_valid_call_id(out.id)) return std::nullopt;
  return out;
}

}  // namespace streamgate::core
