#include "core/net_address.hpp"

#include <arpa/inet.h>

#include <array>
#include <cstdint>
#include <cstring>

namespace streamgate::core {

std::string_view to_string(AddressClass c) {
  switch (c) {
    case AddressClass::public_internet: return "public";
    case AddressClass::loopback: return "loopback";
    case AddressClass::private_net: return "private";
    case AddressClass::link_local: return "link-local";
    case AddressClass::metadata: return "metadata";
    case AddressClass::unspecified: return "unspecified";
    case AddressClass::multicast: return "multicast";
    case AddressClass::reserved: return "reserved";
    case AddressClass::invalid: return "invalid";
  }
  return "invalid";
}

namespace {

bool in_v4(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

AddressClass classify_v4(std::uint32_t a) {
  if (a == v4(169, 254, 169, 254) || a == v4(100, 100, 100, 200) || a == v4(168, 63, 129, 16))
    return AddressClass::metadata;  // AWS/GCP/Azure/OpenStack, Alibaba, Azure's wire server
  if (in_v4(a, v4(0, 0, 0, 0), 8)) return AddressClass::unspecified;
  if (in_v4(a, v4(127, 0, 0, 0), 8)) return AddressClass::loopback;
  if (in_v4(a, v4(10, 0, 0, 0), 8) || in_v4(a, v4(172, 16, 0, 0), 12) ||
      in_v4(a, v4(192, 168, 0, 0), 16) || in_v4(a, v4(100, 64, 0, 0), 10))
    return AddressClass::private_net;
  if (in_v4(a, v4(169, 254, 0, 0), 16)) return AddressClass::link_local;
  if (a == v4(255, 255, 255, 255) || in_v4(a, v4(224, 0, 0, 0), 4)) return AddressClass::multicast;
  if (in_v4(a, v4(240, 0, 0, 0), 4) || in_v4(a, v4(192, 0, 0, 0), 24) ||
      in_v4(a, v4(192, 0, 2, 0), 24) || in_v4(a, v4(198, 51, 100, 0), 24) ||
      in_v4(a, v4(203, 0, 113, 0), 24) || in_v4(a, v4(198, 18, 0, 0), 15))
    return AddressClass::reserved;
  return AddressClass::public_internet;
}

std::uint32_t v4_at(const std::array<unsigned char, 16>& b, std::size_t i) {
  return (std::uint32_t{b[i]} << 24) | (std::uint32_t{b[i + 1]} << 16) |
         (std::uint32_t{b[i + 2]} << 8) | std::uint32_t{b[i + 3]};
}

AddressClass classify_v6(const std::array<unsigned char, 16>& b) {
  const auto zeros = [&](std::size_t from, std::size_t to) {
    for (std::size_t i = from; i < to; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  if (zeros(0, 16)) return AddressClass::unspecified;
  if (zeros(0, 15) && b[15] == 1) return AddressClass::loopback;
  // IPv4-mapped ::ffff:a.b.c.d and the deprecated IPv4-compatible ::a.b.c.d
  if (zeros(0, 10) && b[10] == 0xff && b[11] == 0xff) return classify_v4(v4_at(b, 12));
  if (zeros(0, 12)) return classify_v4(v4_at(b, 12));
  // NAT64 64:ff9b::/96 and 64:ff9b:1::/48 reach the IPv4 address they carry.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (zeros(4, 12)) return classify_v4(v4_at(b, 12));
    if (b[4] == 0 && b[5] == 1) return AddressClass::private_net;
  }
  if (b[0] == 0x20 && b[1] == 0x02) return classify_v4(v4_at(b, 2));  // 6to4
  // fd00:ec2::254 (AWS's IPv6 metadata service)
  static constexpr std::array<unsigned char, 16> kAwsMetadata = {
      0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (b == kAwsMetadata) return AddressClass::metadata;
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::private_net;                  // fc00::/7
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::link_local;   // fe80::/10
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::private_net;  // fec0::/10
  if (b[0] == 0xff) return AddressClass::multicast;                             // ff00::/8
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)             // 2001:db8::/32
    return AddressClass::reserved;
  if (b[0] == 0x01 && zeros(1, 8)) return AddressClass::reserved;  // 100::/64 discard
  if ((b[0] & 0xe0) != 0x20) return AddressClass::reserved;        // outside 2000::/3
  return AddressClass::public_internet;
}

}  // namespace

AddressClass classify_address(std::string_view ip) {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.empty() || ip.size() > 63) return AddressClass::invalid;
  char text[64];
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  if (std::memchr(text, '%', ip.size()) != nullptr) return AddressClass::link_local;  // a zone id
  unsigned char buf[16];
  if (inet_pton(AF_INET, text, buf) == 1)
    return classify_v4(v4_at({buf[0], buf[1], buf[2], buf[3]}, 0));
  if (inet_pton(AF_INET6, text, buf) == 1) {
    std::array<unsigned char, 16> b{};
    std::memcpy(b.data(), buf, 16);
    return classify_v6(b);
  }
  return AddressClass::invalid;
}

std::optional<std::string> refuse_address(std::string_view ip, bool allow_private) {
  const auto c = classify_address(ip);
  switch (c) {
    case AddressClass::public_internet: return std::nullopt;
    case AddressClass::loopback:
    case AddressClass::private_net:
    case AddressClass::link_local:
    case AddressClass::metadata:
      if (allow_private) return std::nullopt;
      break;
    default: break;
  }
  return std::string(ip) + " is a " + std::string(to_string(c)) + " address";
}

bool host_allowed(std::string_view host, std::string_view pattern) {
  const auto lower_equal = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      char x = a[i], y = b[i];
      if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
      if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
      if (x != y) return false;
    }
    return true;
  };
  if (host.size() > 1 && host.back() == '.') host.remove_suffix(1);  // the root label
  if (pattern.substr(0, 2) == "*.") {
    const auto suffix = pattern.substr(1);  // ".example.com"
    return host.size() > suffix.size() &&
           lower_equal(host.substr(host.size() - suffix.size()), suffix);
  }
  return !pattern.empty() && lower_equal(host, pattern);
}

}  // namespace streamgate::core
