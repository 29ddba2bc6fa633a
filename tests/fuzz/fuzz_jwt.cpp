// App JWTs: decoding and HS256 verification with a fixed key (so that the fuzzer can also reach
// the claim checks by signing what it finds), with extreme clocks.
#include <climits>

#include "core/crypto.hpp"
#include "core/jwt.hpp"
#include "tests/fuzz/fuzz.hpp"

using namespace streamgate::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const JwtKeys keys = [] {
    JwtKeys k;
    k.hs256 = std::make_shared<HmacSha256Key>("fuzz-secret");
    return k;
  }();
  const std::string_view text = as_text(data, size);
  JwtRules rules;
  rules.leeway_seconds = 30;
  for (const std::int64_t now : {std::int64_t{1'900'000'000}, std::int64_t{0}, INT64_MAX, INT64_MIN}) {
    const auto decoded = decode_jwt(text);
    if (decoded.jwt) (void)verify_jwt(*decoded.jwt, keys, rules, now);
  }
  // The input as a claim set, signed: verification must reach the claims without overflow, and
  // a token this server signed is never "bad_signature".
  const std::string token = sign_hs256(text, *keys.hs256);
  const auto decoded = decode_jwt(token);
  if (decoded.jwt) FUZZ_CHECK(verify_jwt(*decoded.jwt, keys, rules, 1'900'000'000) != JwtError::bad_signature);
  return 0;
}
