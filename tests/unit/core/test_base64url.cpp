#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "core/base64url.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(base64url)

// RFC 4648 §10 vectors, in the URL-safe alphabet without padding.
BOOST_AUTO_TEST_CASE(rfc4648_vectors_round_trip) {
  const std::pair<std::string, std::string> table[] = {
      {"", ""},
      {"f", "Zg"},
      {"fo", "Zm8"},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg"},
      {"fooba", "Zm9vYmE"},
      {"foobar", "Zm9vYmFy"},
      {std::string("\xfb\xff\xbf", 3), "-_-_"},
  };
  for (const auto& [raw, enc] : table) {
    BOOST_TEST_CONTEXT("input " << enc) {
      BOOST_TEST(base64url_encode(raw) == enc);
      const auto dec = base64url_decode(enc);
      BOOST_TEST_REQUIRE(dec.has_value());
      BOOST_TEST(*dec == raw);
    }
  }
}

BOOST_AUTO_TEST_CASE(decoder_rejects_non_canonical_and_foreign_input) {
  for (const char* bad : {
           "Zg==",
           "Zm9v+",
           "Zm9v/",
           "Z",
           "Zh",
           "Zm9 v",
           "Zm9v\n",
           "Zm8=",
       }) {
    BOOST_TEST_CONTEXT("input " << bad) { BOOST_TEST(!base64url_decode(bad).has_value()); }
  }
}

BOOST_AUTO_TEST_CASE(all_byte_values_round_trip) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (std::size_t n = 0; n <= all.size(); n += 37) {
    const std::string s = all.substr(0, n);
    BOOST_TEST(*base64url_decode(base64url_encode(s)) == s);
  }
}

namespace {
// The decoder as it was first written, a character at a time: the reference for the one that
// takes four at a time.
std::optional<std::string> reference_decode(std::string_view text) {
  static const std::string alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const auto at = alphabet.find(c);
    if (c == '\0' || at == std::string::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(at);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}
}  // namespace

// Every string of up to three characters over the whole alphabet and some foreign bytes (all
// tails, canonical or not), and 20,000 random strings of up to 70 characters with a foreign
// byte now and then at any place, decode as the reference decodes them.
BOOST_AUTO_TEST_CASE(decoder_agrees_with_a_character_at_a_time_reference) {
  const std::string chars =
      std::string("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") +
      std::string("=+/ \0\x80\xff", 7);
  std::vector<std::string> inputs = {""};
  for (char a : chars) {
    inputs.emplace_back(1, a);
    for (char b : chars) {
      inputs.push_back({a, b});
      for (char c : chars) inputs.push_back({a, b, c});
    }
  }
  std::mt19937 rng(4648);
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 71, 'A');
    for (auto& c : s) c = chars[rng() % (rng() % 50 == 0 ? chars.size() : 64)];
    inputs.push_back(s);
  }
  for (const auto& s : inputs) {
    const auto ours = base64url_decode(s);
    const auto reference = reference_decode(s);
    if (ours != reference) BOOST_TEST(false, "decoding \"" << s << "\" differs");
  }
}

BOOST_AUTO_TEST_CASE(appending_encodes_after_what_is_there) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(255 - i);
  for (std::size_t n = 0; n <= 40; ++n) {
    for (const std::string prefix : {"", "eyJhbGciOiJIUzI1NiJ9."}) {
      std::string out = prefix;
      base64url_append(out, all.substr(0, n));
      BOOST_TEST(out == prefix + base64url_encode(all.substr(0, n)));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
