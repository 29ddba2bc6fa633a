#include <boost/test/unit_test.hpp>

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

BOOST_AUTO_TEST_SUITE_END()
