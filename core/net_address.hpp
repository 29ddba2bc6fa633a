#pragma once
// Which network an IP address belongs to, for the guard on URLs that come from outside (a
// transcript's download URL): loopback, private, link-local, cloud metadata and the other ranges
// that are not the public Internet. Pure: parses the address text itself.
#include <optional>
#include <string>
#include <string_view>

namespace streamgate::core {

enum class AddressClass {
  public_internet,
  loopback,     // 127/8, ::1
  private_net,  // 10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10 (carrier-grade NAT)
  link_local,   // 169.254/16, fe80::/10
  metadata,     // cloud metadata services: 169.254.169.254, fd00:ec2::254, 100.100.100.200
  unspecified,  // 0/8, ::
  multicast,    // 224/4, ff00::/8, and 255.255.255.255
  reserved,     // 240/4, documentation and benchmarking ranges, 192.0.0/24, 198.18/15
  invalid,      // not an IPv4 or IPv6 address
};
std::string_view to_string(AddressClass c);

// Classifies an address; IPv4 embedded in IPv6 (::ffff:a.b.c.d, 64:ff9b::/96 NAT64, 2002::/16
// 6to4, ::a.b.c.d) is classified as the IPv4 address it carries.
AddressClass classify_address(std::string_view ip);

// Whether a URL's host may be fetched from: nullopt when it may, else why not. `allow_private`
// admits loopback, private, link-local and metadata addresses (tests, closed networks);
// unspecified, multicast, reserved and invalid addresses are refused always.
std::optional<std::string> refuse_address(std::string_view ip, bool allow_private);

// A host allow-list entry matches the host exactly, or "*.example.com" any subdomain of
// example.com (not example.com itself). Case-insensitive.
bool host_allowed(std::string_view host, std::string_view pattern);

}  // namespace streamgate::core
