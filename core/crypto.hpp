#pragma once
// HMAC-SHA256 with a key set up once, hex, constant-time comparison and random bytes.
#include <array>
#include <memory>
#include <string>
#include <string_view>

namespace streamgate::core {

using Sha256Digest = std::array<unsigned char, 32>;

// An HMAC-SHA256 key prepared once: the inner and outer SHA-256 states after the padded key
// block are kept, so each MAC costs two state copies and no key schedule. Safe to share
// between threads: mac() only reads the prepared states.
class HmacSha256Key final {
 public:
  explicit HmacSha256Key(std::string_view key);
  ~HmacSha256Key();
  HmacSha256Key(HmacSha256Key&&) noexcept;
  HmacSha256Key& operator=(HmacSha256Key&&) noexcept;
  HmacSha256Key(const HmacSha256Key&) = delete;
  HmacSha256Key& operator=(const HmacSha256Key&) = delete;

  Sha256Digest mac(std::string_view message) const;
  std::string mac_hex(std::string_view message) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

Sha256Digest hmac_sha256(std::string_view key, std::string_view message);
Sha256Digest sha256(std::string_view message);

std::string to_hex(std::string_view bytes);  // lowercase
template <std::size_t N>
std::string to_hex(const std::array<unsigned char, N>& bytes) {
  return to_hex(std::string_view(reinterpret_cast<const char*>(bytes.data()), N));
}

// Compares in time that depends only on the lengths, never on where the inputs differ.
bool constant_time_equal(std::string_view a, std::string_view b);

// Cryptographically secure random bytes (OpenSSL RAND_bytes); throws on failure.
std::string random_bytes(std::size_t n);
std::string random_hex(std::size_t bytes);
// A random (version 4) UUID, lowercase: "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".
std::string random_uuid_v4();

}  // namespace streamgate::core
