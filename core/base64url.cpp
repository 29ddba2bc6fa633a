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
  std::string out;
  base64url_append(out, bytes);
  return out;
}

void base64url_append(std::string& out, std::string_view bytes) {
  // Sized once and written through a pointer: no capacity check per character.
  const std::size_t start = out.size();
  out.resize(start + (bytes.size() / 3) * 4 + (bytes.size() % 3 == 0 ? 0 : bytes.size() % 3 + 1));
  char* o = out.data() + start;
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
}

std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  // Exactly the decoded size (three bytes per four characters, the rest for a short tail),
  // written through a pointer, four characters at a time.
  std::string out((text.size() / 4) * 3 + (text.size() % 4 == 0 ? 0 : text.size() % 4 - 1), '\0');
  char* o = out.data();
  const auto* t = reinterpret_cast<const unsigned char*>(text.data());
  const auto value = [](unsigned char c) { return static_cast<std::int32_t>(kReverse[c]); };
  std::size_t i = 0;
  for (; i + 4 <= text.size(); i += 4) {
    const std::int32_t a = value(t[i]), b = value(t[i + 1]), c = value(t[i + 2]),
                       d = value(t[i + 3]);
    if ((a | b | c | d) < 0) return std::nullopt;  // a character outside the alphabet
    const auto n = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6) | d);
    *o++ = static_cast<char>(n >> 16);
    *o++ = static_cast<char>((n >> 8) & 0xFF);
    *o++ = static_cast<char>(n & 0xFF);
  }
  // A tail of two characters holds one byte and four spare bits, of three two bytes and two
  // spare bits; the spare bits must be zero (canonical encoding).
  const std::size_t rest = text.size() - i;
  if (rest >= 2) {
    const std::int32_t a = value(t[i]), b = value(t[i + 1]);
    const std::int32_t c = rest == 3 ? value(t[i + 2]) : 0;
    if ((a | b | c) < 0) return std::nullopt;
    const auto n = static_cast<std::uint32_t>((a << 18) | (b << 12) | (c << 6));
    if (rest == 2 ? (b & 0x0F) != 0 : (c & 0x03) != 0) return std::nullopt;
    *o++ = static_cast<char>(n >> 16);
    if (rest == 3) *o++ = static_cast<char>((n >> 8) & 0xFF);
  }
  return out;
}

}  // namespace streamgate::core
