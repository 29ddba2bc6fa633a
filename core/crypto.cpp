#include "core/crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace streamgate::core {
namespace {

constexpr std::size_t kBlock = 64;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const EVP_MD* sha256_md() {
  // Fetched once: implicit fetching on every EVP_DigestInit costs a provider lookup.
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (md == nullptr) throw std::runtime_error("OpenSSL: SHA256 not available");
  return md;
}

MdCtx new_ctx() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) throw std::runtime_error("OpenSSL: EVP_MD_CTX_new failed");
  return ctx;
}

void check(int ok, const char* what) {
  if (ok != 1) throw std::runtime_error(std::string("OpenSSL: ") + what + " failed");
}

}  // namespace

struct HmacSha256Key::State {
  MdCtx inner;
  MdCtx outer;
};

HmacSha256Key::HmacSha256Key(std::string_view key) : state_(std::make_unique<State>()) {
  unsigned char block[kBlock] = {};
  if (key.size() > kBlock) {
    const auto d = sha256(key);
    std::copy(d.begin(), d.end(), block);
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  unsigned char ipad[kBlock];
  unsigned char opad[kBlock];
  for (std::size_t i = 0; i < kBlock; ++i) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  OPENSSL_cleanse(block, sizeof block);
  state_->inner = new_ctx();
  state_->outer = new_ctx();
  check(EVP_DigestInit_ex(state_->inner.get(), sha256_md(), nullptr), "DigestInit");
  check(EVP_DigestUpdate(state_->inner.get(), ipad, kBlock), "DigestUpdate");
  check(EVP_DigestInit_ex(state_->outer.get(), sha256_md(), nullptr), "DigestInit");
  check(EVP_DigestUpdate(state_->outer.get(), opad, kBlock), "DigestUpdate");
  OPENSSL_cleanse(ipad, sizeof ipad);
  OPENSSL_cleanse(opad, sizeof opad);
}

HmacSha256Key::~HmacSha256Key() = default;
HmacSha256Key::HmacSha256Key(HmacSha256Key&&) noexcept = default;
HmacSha256Key& HmacSha256Key::operator=(HmacSha256Key&&) noexcept = default;

Sha256Digest HmacSha256Key::mac(std::string_view message) const {
  // One scratch context per thread, re-filled from the prepared states.
  thread_local MdCtx scratch = new_ctx();
  Sha256Digest inner_digest{};
  Sha256Digest out{};
  unsigned int len = 0;
  check(EVP_MD_CTX_copy_ex(scratch.get(), state_->inner.get()), "MD_CTX_copy");
  check(EVP_DigestUpdate(scratch.get(), message.data(), message.size()), "DigestUpdate");
  check(EVP_DigestFinal_ex(scratch.get(), inner_digest.data(), &len), "DigestFinal");
  check(EVP_MD_CTX_copy_ex(scratch.get(), state_->outer.get()), "MD_CTX_copy");
  check(EVP_DigestUpdate(scratch.get(), inner_digest.data(), inner_digest.size()), "DigestUpdate");
  check(EVP_DigestFinal_ex(scratch.get(), out.data(), &len), "DigestFinal");
  return out;
}

std::string HmacSha256Key::mac_hex(std::string_view message) const { return to_hex(mac(message)); }

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) {
  return HmacSha256Key(key).mac(message);
}

Sha256Digest sha256(std::string_view message) {
  Sha256Digest out{};
  unsigned int len = 0;
  auto ctx = new_ctx();
  check(EVP_DigestInit_ex(ctx.get(), sha256_md(), nullptr), "DigestInit");
  check(EVP_DigestUpdate(ctx.get(), message.data(), message.size()), "DigestUpdate");
  check(EVP_DigestFinal_ex(ctx.get(), out.data(), &len), "DigestFinal");
  return out;
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string random_bytes(std::size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL: RAND_bytes failed");
  return out;
}

std::string random_hex(std::size_t bytes) { return to_hex(random_bytes(bytes)); }

std::string random_uuid_v4() {
  std::string b = random_bytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);
  const std::string h = to_hex(b);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20);
}

}  // namespace streamgate::core
