#include <boost/test/unit_test.hpp>

#include "core/ids.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(ids)

BOOST_AUTO_TEST_CASE(call_ids) {
  BOOST_TEST(is_valid_call_id("meeting-123"));
  BOOST_TEST(is_valid_call_id("A_b-9"));
  BOOST_TEST(is_valid_call_id(std::string(64, 'x')));
  BOOST_TEST(!is_valid_call_id(std::string(65, 'x')));
  BOOST_TEST(!is_valid_call_id(""));
  for (const char* bad : {"a b", "a/b", "a:b", "a.b", "a@b", "ü", "a\nb", "../x"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!is_valid_call_id(bad)); }
  }
}

BOOST_AUTO_TEST_CASE(user_ids) {
  BOOST_TEST(is_valid_user_id("alice"));
  BOOST_TEST(is_valid_user_id("sacha@getstream.io"));
  BOOST_TEST(is_valid_user_id("64f0c0ffee"));
  BOOST_TEST(!is_valid_user_id(""));
  BOOST_TEST(!is_valid_user_id(std::string(65, 'a')));
  for (const char* bad : {"a b", "a/b", "a:b", "a\"b", "<script>", "a\\b"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!is_valid_user_id(bad)); }
  }
}

BOOST_AUTO_TEST_CASE(call_cids) {
  const auto c = parse_call_cid("default:meeting-123");
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c->type == "default");
  BOOST_TEST(c->id == "meeting-123");
  for (const char* bad : {"default", ":x", "default:", "de fault:x", "a:b:c", "default:x y"}) {
    BOOST_TEST_CONTEXT(bad) { BOOST_TEST(!parse_call_cid(bad).has_value()); }
  }
}

BOOST_AUTO_TEST_SUITE_END()
