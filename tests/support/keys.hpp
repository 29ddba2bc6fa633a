#pragma once
// Key material made at test time.
#include <string>

namespace streamgate::test {

struct KeyPair {
  std::string private_pem;
  std::string public_pem;
};
KeyPair make_rsa_key(int bits = 2048);
KeyPair make_ec_p256_key();

// The public JWK of a PEM key pair (RSA: n/e, EC P-256: x/y), with kid and alg.
std::string public_jwk(const KeyPair& kp, const std::string& kid);

// A fresh temporary directory (removed by the caller or left to the OS tmp cleaner).
std::string make_temp_dir(const std::string& prefix);
void write_file(const std::string& path, const std::string& content);
std::string read_file(const std::string& path);

}  // namespace streamgate::test
