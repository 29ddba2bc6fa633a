#include "tests/support/keys.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/base64url.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace streamgate::test {
namespace {

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

KeyPair to_pems(EVP_PKEY* key) {
  if (key == nullptr) throw std::runtime_error("keygen failed");
  KeyPair kp;
  BIO* priv = BIO_new(BIO_s_mem());
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_bio_PUBKEY(pub, key);
  kp.private_pem = bio_string(priv);
  kp.public_pem = bio_string(pub);
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(key);
  return kp;
}

}  // namespace

KeyPair make_rsa_key(int bits) {
  return to_pems(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
}

KeyPair make_ec_p256_key() { return to_pems(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

std::string public_jwk(const KeyPair& kp, const std::string& kid) {
  BIO* bio = BIO_new_mem_buf(kp.public_pem.data(), static_cast<int>(kp.public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) throw std::runtime_error("bad public key");
  const auto b64 = [](const unsigned char* p, std::size_t n) {
    return core::base64url_encode(std::string_view(reinterpret_cast<const char*>(p), n));
  };
  std::string out;
  if (EVP_PKEY_is_a(key, "RSA")) {
    BIGNUM* n = nullptr;
    BIGNUM* e = nullptr;
    EVP_PKEY_get_bn_param(key, "n", &n);
    EVP_PKEY_get_bn_param(key, "e", &e);
    std::string nb(BN_num_bytes(n), '\0'), eb(BN_num_bytes(e), '\0');
    BN_bn2bin(n, reinterpret_cast<unsigned char*>(nb.data()));
    BN_bn2bin(e, reinterpret_cast<unsigned char*>(eb.data()));
    out = R"({"kty":"RSA","use":"sig","alg":"RS256","kid":")" + kid + R"(","n":")" +
          b64(reinterpret_cast<const unsigned char*>(nb.data()), nb.size()) + R"(","e":")" +
          b64(reinterpret_cast<const unsigned char*>(eb.data()), eb.size()) + "\"}";
    BN_free(n);
    BN_free(e);
  } else {
    unsigned char point[65];
    std::size_t len = 0;
    EVP_PKEY_get_octet_string_param(key, "pub", point, sizeof point, &len);
    out = R"({"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":")" + kid + R"(","x":")" +
          b64(point + 1, 32) + R"(","y":")" + b64(point + 33, 32) + "\"}";
  }
  EVP_PKEY_free(key);
  return out;
}

std::string make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace streamgate::test
