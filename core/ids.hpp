#pragma once
// Identifier rules (docs/spec.md §1.3): call types and ids are 1–64 characters of [A-Za-z0-9_-];
// user ids the same plus '@' and '.'.
#include <optional>
#include <string_view>

namespace streamgate::core {

inline constexpr std::size_t kMaxIdLength = 64;

bool is_valid_call_id(std::string_view id);  // also used for call types
bool is_valid_user_id(std::string_view id);

struct CallCid {
  std::string_view type;
  std::string_view id;
};
// "<type>:<id>" with both parts valid.
std::optional<CallCid> parse_call_cid(std::string_view cid);

}  // namespace streamgate::core
