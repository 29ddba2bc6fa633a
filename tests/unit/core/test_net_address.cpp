// The address guard for URLs from outside: every range that is not the public Internet.
#include <boost/test/unit_test.hpp>

#include "core/net_address.hpp"

using namespace streamgate::core;

BOOST_AUTO_TEST_SUITE(net_address)

BOOST_AUTO_TEST_CASE(classifies_ipv4_and_ipv6) {
  const std::vector<std::pair<std::string, AddressClass>> cases = {
      {"8.8.8.8", AddressClass::public_internet},
      {"1.1.1.1", AddressClass::public_internet},
      {"127.0.0.1", AddressClass::loopback},
      {"127.255.0.9", AddressClass::loopback},
      {"10.1.2.3", AddressClass::private_net},
      {"172.16.0.1", AddressClass::private_net},
      {"172.31.255.255", AddressClass::private_net},
      {"172.32.0.1", AddressClass::public_internet},
      {"192.168.1.1", AddressClass::private_net},
      {"100.64.0.1", AddressClass::private_net},
      {"169.254.1.1", AddressClass::link_local},
      {"169.254.169.254", AddressClass::metadata},
      {"100.100.100.200", AddressClass::metadata},
      {"0.0.0.0", AddressClass::unspecified},
      {"224.0.0.1", AddressClass::multicast},
      {"255.255.255.255", AddressClass::multicast},
      {"240.0.0.1", AddressClass::reserved},
      {"192.0.2.1", AddressClass::reserved},
      {"::1", AddressClass::loopback},
      {"[::1]", AddressClass::loopback},
      {"::", AddressClass::unspecified},
      {"::ffff:127.0.0.1", AddressClass::loopback},
      {"::ffff:169.254.169.254", AddressClass::metadata},
      {"::ffff:8.8.8.8", AddressClass::public_internet},
      {"64:ff9b::a00:1", AddressClass::private_net},  // NAT64 of 10.0.0.1
      {"2002:7f00:1::", AddressClass::loopback},      // 6to4 of 127.0.0.1
      {"fd00:ec2::254", AddressClass::metadata},
      {"fc00::1", AddressClass::private_net},
      {"fe80::1", AddressClass::link_local},
      {"fe80::1%eth0", AddressClass::link_local},
      {"ff02::1", AddressClass::multicast},
      {"2001:db8::1", AddressClass::reserved},
      {"2606:4700:4700::1111", AddressClass::public_internet},
      {"not-an-ip", AddressClass::invalid},
      {"", AddressClass::invalid},
      {"1.2.3", AddressClass::invalid},
  };
  for (const auto& [ip, want] : cases) BOOST_TEST_CONTEXT(ip) {
      BOOST_TEST(to_string(classify_address(ip)) == to_string(want));
    }
}

BOOST_AUTO_TEST_CASE(refusal_and_the_private_switch) {
  BOOST_TEST(!refuse_address("8.8.8.8", false));
  BOOST_TEST(refuse_address("127.0.0.1", false).value_or("") == "127.0.0.1 is a loopback address");
  BOOST_TEST(!refuse_address("127.0.0.1", true));
  BOOST_TEST(!refuse_address("169.254.169.254", true));
  BOOST_TEST(refuse_address("0.0.0.0", true).has_value());
  BOOST_TEST(refuse_address("224.0.0.1", true).has_value());
  BOOST_TEST(refuse_address("garbage", true).has_value());
}

BOOST_AUTO_TEST_CASE(host_allow_list) {
  BOOST_TEST(host_allowed("cdn.getstream.io", "cdn.getstream.io"));
  BOOST_TEST(host_allowed("CDN.GetStream.io.", "cdn.getstream.io"));
  BOOST_TEST(host_allowed("a.b.getstream.io", "*.getstream.io"));
  BOOST_TEST(!host_allowed("getstream.io", "*.getstream.io"));
  BOOST_TEST(!host_allowed("evilgetstream.io", "*.getstream.io"));
  BOOST_TEST(!host_allowed("getstream.io.evil.com", "getstream.io"));
  BOOST_TEST(!host_allowed("x", ""));
}

BOOST_AUTO_TEST_SUITE_END()
