#include "core/base64url.hpp"

#include <array>
#include <cstdint>

namespace streamgate::core {
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr std::array<int8_t, 256> make_reverse() {
  std::array<int8_t, 256> table{};
  for (auto& v : table) v = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i)
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  return table;
}
constexpr auto kReverse = make_reverse();

// Standard base64 shares the URL-safe coder: only the last two letters differ.
std::string to_standard(std::string s) {
  for (auto& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  return s;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out = to_standard(base64url_encode(bytes));
  while (out.size() % 4 != 0) out += '=';
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 == 0) {
    for (int i = 0; i < 2 && !text.empty() && text.back() == '='; ++i) text.remove_suffix(1);
  }
  std::string url(text);
  for (auto& c : url) {
    if (c == '-' || c == '_') return std::nullopt;
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  }
  return base64url_decode(url);
}

std::string base64url_encode(std::string_view bytes) {
  // Sized once and written through a pointer: no capacity check per character.
  std::string out((bytes.size() / 3) * 4 + (bytes.size() % 3 == 0 ? 0 : bytes.size() % 3 + 1),
                  '\0');
  char* o = out.data();
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
    *o++ = kAlphabet[(n >> 18) & 63];
    *o++ = kAlphabet[(n >> 12) & 63];
    *o++ = kAlphabet[(n >> 6) & 63];
    *o++ = kAlphabet[n & 63];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t n = uint32_t{p[i]} << 16;
    *o++ = kAlphabet[(n >> 18) & 63];
    *o++ = kAlphabet[(n >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t n = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8);
    *o++ = kAlphabet[(n >> 18) & 63];
    *o++ = kAlphabet[(n >> 12) & 63];
    *o++ = kAlphabet[(n >> 6) & 63];
  }
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  // Exactly the decoded size (three bytes per four characters, the rest for a short tail),
  // written through a pointer.
  std::string out((text.size() / 4) * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
  char* o = out.data();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int8_t v = kReverse[static_cast<unsigned char>(c)];
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      *o++ = static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Leftover bits must be zero (canonical encoding).
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

}  // namespace streamgate::core
