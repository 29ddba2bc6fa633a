#include <boost/test/unit_test.hpp>

#include <thread>
#include <vector>

#include "core/crypto.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(crypto)

struct Vector {
  const char* name;
  std::string key;
  std::string data;
  const char* mac;
};

// RFC 4231 §4 test cases 1-4, 6, 7 (case 5 is a truncated output).
const std::vector<Vector> kRfc4231 = {
    {"case 1", std::string(20, '\x0b'), "Hi There",
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
    {"case 2", "Jefe", "what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
    {"case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
     "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
    {"case 4",
     std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14"
                 "\x15\x16\x17\x18\x19",
                 25),
     std::string(50, '\xcd'), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
    {"case 6", std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
     "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
    {"case 7", std::string(131, '\xaa'),
     "This is a test using a larger than block-size key and a larger than block-size data. The key "
     "needs to be hashed before being used by the HMAC algorithm.",
     "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
};

BOOST_AUTO_TEST_CASE(rfc4231_vectors) {
  for (const auto& v : kRfc4231) {
    BOOST_TEST_CONTEXT(v.name) {
      BOOST_TEST(to_hex(hmac_sha256(v.key, v.data)) == v.mac);
      const HmacSha256Key key(v.key);
      BOOST_TEST(key.mac_hex(v.data) == v.mac);
      BOOST_TEST(key.mac_hex(v.data) == v.mac);  // the prepared key is reusable
    }
  }
}

BOOST_AUTO_TEST_CASE(stream_webhook_vector) {
  // docs/stream-contract.md §5.2
  const HmacSha256Key key("secret456");
  BOOST_TEST(key.mac_hex(R"({"type":"call.session_started","call_cid":"default:meeting-123"})") ==
             "176f4382b9fc7cc8e2ca5b81c51f0fe117048c18e9ed270bdddf7f45cf781428");
}

BOOST_AUTO_TEST_CASE(prepared_key_is_safe_to_share_between_threads) {
  const HmacSha256Key key("Jefe");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i)
        if (key.mac_hex("what do ya want for nothing?") !=
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
          ++wrong;
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(wrong.load() == 0);
}

BOOST_AUTO_TEST_CASE(constant_time_equal_compares_content_and_length) {
  BOOST_TEST(constant_time_equal("abc", "abc"));
  BOOST_TEST(!constant_time_equal("abc", "abd"));
  BOOST_TEST(!constant_time_equal("abc", "abcd"));
  BOOST_TEST(!constant_time_equal("", "a"));
  BOOST_TEST(constant_time_equal("", ""));
}

BOOST_AUTO_TEST_CASE(hex_and_random) {
  BOOST_TEST(to_hex(std::string("\x00\x7f\xff", 3)) == "007fff");
  const auto a = random_hex(16);
  const auto b = random_hex(16);
  BOOST_TEST(a.size() == 32u);
  BOOST_TEST(a != b);
}

BOOST_AUTO_TEST_CASE(sha256_of_abc) {
  // FIPS 180-2 appendix B.1
  BOOST_TEST(to_hex(sha256("abc")) ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_SUITE_END()
