#include "core/jwt.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <boost/json/parse.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <ostream>
#include <stdexcept>

#include "core/base64url.hpp"
#include "core/checked.hpp"

namespace streamgate::core {
namespace json = boost::json;

namespace {

constexpr std::string_view kHs256HeaderB64 = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

JwtAlg alg_of_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "RSA")) {
    if (EVP_PKEY_get_bits(key) < 2048) throw std::runtime_error("RSA key shorter than 2048 bits");
    return JwtAlg::rs256;
  }
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1 ||
        std::string_view(group) != "prime256v1")
      throw std::runtime_error("EC key is not on P-256 (ES256)");
    return JwtAlg::es256;
  }
  throw std::runtime_error("key is neither RSA nor EC");
}

// ES256 signatures are r||s (32 bytes each); OpenSSL wants DER.
std::optional<std::string> es256_raw_to_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

std::string es256_der_to_raw(std::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size()));
  if (sig == nullptr) throw std::runtime_error("bad ECDSA signature");
  std::string out(64, '\0');
  BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(out.data()), 32);
  BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(out.data()) + 32, 32);
  ECDSA_SIG_free(sig);
  return out;
}

std::string jwk_bytes(const json::object& jwk, std::string_view name) {
  const auto* v = jwk.if_contains(name);
  if (v == nullptr || !v->is_string())
    throw std::runtime_error("JWK lacks \"" + std::string(name) + "\"");
  auto bytes = base64url_decode(v->get_string());
  if (!bytes || bytes->empty())
    throw std::runtime_error("JWK \"" + std::string(name) + "\" is not base64url");
  return *bytes;
}

Pkey pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* key = nullptr;
  const bool ok = params != nullptr && ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1 &&
                  EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) == 1;
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  if (!ok) throw std::runtime_error(std::string("cannot build ") + type + " key from JWK");
  return Pkey(key);
}

// Reads a JSON number claim (integer or floating) as whole seconds. Values far outside any real
// time are clamped to +-2^53 so that the comparisons below, which saturate, stay meaningful.
std::optional<std::int64_t> numeric_date(const json::value& v) {
  constexpr std::int64_t kBound = std::int64_t{1} << 53;
  if (v.is_int64()) return std::clamp(v.get_int64(), -kBound, kBound);
  if (v.is_uint64()) return kBound;  // above INT64_MAX
  if (v.is_double() && std::isfinite(v.get_double())) {
    const double d = v.get_double();
    if (d >= static_cast<double>(kBound)) return kBound;
    if (d <= -static_cast<double>(kBound)) return -kBound;
    return static_cast<std::int64_t>(std::floor(d));
  }
  return std::nullopt;
}

std::optional<json::object> parse_object(std::string_view b64, json::storage_ptr sp = {}) {
  auto raw = base64url_decode(b64);
  if (!raw) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*raw, ec, std::move(sp));
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// A JOSE header's parse (RFC 7515 §4): its algorithm, key id and members, or why it is refused.
struct ParsedHeader {
  JwtError error = JwtError::malformed;  // none: alg and kid are set
  JwtAlg alg = JwtAlg::hs256;
  std::string kid;
  std::shared_ptr<const json::object> header;
};

ParsedHeader parse_header(std::string_view b64) {
  ParsedHeader out;
  auto header = parse_object(b64);
  if (!header) return out;
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return out;
  const auto parsed_alg = parse_jwt_alg(alg->get_string());
  if (!parsed_alg) {
    out.error = JwtError::alg_not_allowed;
    return out;
  }
  // Extensions we do not understand must not be ignored (RFC 7515 §4.1.11).
  if (header->contains("crit")) return out;
  out.alg = *parsed_alg;
  if (const auto* kid = header->if_contains("kid"); kid && kid->is_string())
    out.kid = std::string(kid->get_string());
  out.header = std::make_shared<const json::object>(std::move(*header));
  out.error = JwtError::none;
  return out;
}

// The last few accepted headers of this thread, by their encoded bytes. Bounded in entries and
// in the length it keeps; a client sending ever-new headers only misses, and an entry is the
// parse of exactly those bytes, so a hit decides as a parse would.
class HeaderCache {
 public:
  const ParsedHeader& get(std::string_view b64) {
    for (auto& e : entries_)
      if (e.used && e.b64 == b64) return e.parsed;
    scratch_ = parse_header(b64);
    if (scratch_.error != JwtError::none || b64.size() > kMaxKept) return scratch_;
    Entry& e = entries_[next_];
    next_ = (next_ + 1) % entries_.size();
    e.b64.assign(b64);
    e.parsed = std::move(scratch_);
    e.used = true;
    return e.parsed;
  }

 private:
  static constexpr std::size_t kMaxKept = 512;
  struct Entry {
    bool used = false;
    std::string b64;
    ParsedHeader parsed;
  };
  std::array<Entry, 4> entries_;
  std::size_t next_ = 0;
  ParsedHeader scratch_;
};

}  // namespace

struct PublicKey::Impl {
  Pkey key;
};

std::optional<JwtAlg> parse_jwt_alg(std::string_view name) {
  if (name == "HS256") return JwtAlg::hs256;
  if (name == "RS256") return JwtAlg::rs256;
  if (name == "ES256") return JwtAlg::es256;
  return std::nullopt;
}

std::string_view to_string(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::hs256: return "HS256";
    case JwtAlg::rs256: return "RS256";
    case JwtAlg::es256: return "ES256";
  }
  return "?";
}

namespace {

// header_b64 "." payload_b64 "." signature_b64
std::string sign_hs256_encoded(std::string_view header_b64, std::string_view payload_json,
                               const HmacSha256Key& key) {
  std::string out;
  out.reserve(header_b64.size() + payload_json.size() * 4 / 3 + 48);
  out.append(header_b64);
  out += '.';
  base64url_append(out, payload_json);
  const auto mac = key.mac(out);
  out += '.';
  base64url_append(out, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()));
  return out;
}

}  // namespace

std::string sign_hs256(std::string_view payload_json, const HmacSha256Key& key) {
  return sign_hs256_encoded(kHs256HeaderB64, payload_json,
                            key);  // the header's encoding, precomputed
}

std::string sign_hs256(std::string_view header_json, std::string_view payload_json,
                       const HmacSha256Key& key) {
  return sign_hs256_encoded(base64url_encode(header_json), payload_json, key);
}

PublicKey PublicKey::from_pem(std::string_view pem) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw std::runtime_error("cannot read PEM");
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  PublicKey out;
  out.alg_ = alg_of_key(key.get());
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

PublicKey PublicKey::from_jwk(const json::object& jwk) {
  const auto* kty = jwk.if_contains("kty");
  if (kty == nullptr || !kty->is_string()) throw std::runtime_error("JWK lacks \"kty\"");
  if (const auto* use = jwk.if_contains("use");
      use && use->is_string() && use->get_string() != "sig")
    throw std::runtime_error("JWK is not for signatures");
  PublicKey out;
  if (const auto* kid = jwk.if_contains("kid"); kid && kid->is_string())
    out.kid_ = std::string(kid->get_string());
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  if (bld == nullptr) throw std::runtime_error("OpenSSL: OSSL_PARAM_BLD_new failed");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> guard(bld, OSSL_PARAM_BLD_free);
  Pkey key;
  if (kty->get_string() == "RSA") {
    const std::string n = jwk_bytes(jwk, "n");
    const std::string e = jwk_bytes(jwk, "e");
    BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()),
                             static_cast<int>(n.size()), nullptr);
    BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()),
                             static_cast<int>(e.size()), nullptr);
    const bool ok = bn_n && bn_e && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
                    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1;
    if (ok) key = pkey_from_params("RSA", bld);
    BN_free(bn_n);
    BN_free(bn_e);
    if (!ok) throw std::runtime_error("bad RSA JWK");
  } else if (kty->get_string() == "EC") {
    const auto* crv = jwk.if_contains("crv");
    if (crv == nullptr || !crv->is_string() || crv->get_string() != "P-256")
      throw std::runtime_error("EC JWK is not P-256");
    const std::string x = jwk_bytes(jwk, "x");
    const std::string y = jwk_bytes(jwk, "y");
    if (x.size() != 32 || y.size() != 32) throw std::runtime_error("bad P-256 JWK coordinates");
    std::string point = "\x04" + x + y;
    if (OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1)
      throw std::runtime_error("bad EC JWK");
    key = pkey_from_params("EC", bld);
  } else {
    throw std::runtime_error("unsupported JWK kty");
  }
  out.alg_ = alg_of_key(key.get());
  if (const auto* alg = jwk.if_contains("alg"); alg && alg->is_string()) {
    const auto named = parse_jwt_alg(alg->get_string());
    if (!named || *named != out.alg_)
      throw std::runtime_error("JWK alg does not match its key type");
  }
  out.impl_ = std::make_shared<Impl>(Impl{std::move(key)});
  return out;
}

bool PublicKey::verify(std::string_view signing_input, std::string_view signature) const {
  std::string der;
  std::string_view sig = signature;
  if (alg_ == JwtAlg::es256) {
    auto converted = es256_raw_to_der(signature);
    if (!converted) return false;
    der = std::move(*converted);
    sig = der;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx) return false;
  if (EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, impl_->key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                          reinterpret_cast<const unsigned char*>(signing_input.data()),
                          signing_input.size()) == 1;
}

std::string sign_with_private_key_pem(std::string_view pem, std::string_view header_json,
                                      std::string_view payload_json) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw std::runtime_error("not a PEM private key");
  const JwtAlg alg = alg_of_key(key.get());
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    throw std::runtime_error("sign failed");
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    throw std::runtime_error("sign failed");
  sig.resize(len);
  if (alg == JwtAlg::es256) sig = es256_der_to_raw(sig);
  return input + "." + base64url_encode(sig);
}

std::string_view describe(JwtError e) {
  switch (e) {
    case JwtError::none: return "ok";
    case JwtError::malformed: return "token is malformed";
    case JwtError::alg_not_allowed: return "token algorithm is not allowed";
    case JwtError::unknown_kid: return "token key id is unknown";
    case JwtError::bad_signature: return "token signature is invalid";
    case JwtError::expired: return "token has expired";
    case JwtError::not_yet_valid: return "token is not valid yet";
    case JwtError::missing_exp: return "token has no expiry";
    case JwtError::wrong_issuer: return "token issuer is not accepted";
    case JwtError::wrong_audience: return "token audience is not accepted";
  }
  return "token is invalid";
}

std::ostream& operator<<(std::ostream& os, JwtError e) { return os << describe(e); }

JwtDecodeResult decode_jwt(std::string_view token, json::storage_ptr claims_storage) {
  JwtDecodeResult result;
  result.error = JwtError::malformed;
  if (token.size() > 16 * 1024) return result;
  const auto dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return result;
  const auto dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return result;
  thread_local HeaderCache headers;
  const ParsedHeader& header = headers.get(token.substr(0, dot1));
  if (header.error != JwtError::none) {
    result.error = header.error;
    return result;
  }
  auto claims = parse_object(token.substr(dot1 + 1, dot2 - dot1 - 1), std::move(claims_storage));
  if (!claims) return result;
  auto signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature || signature->empty()) return result;
  // Built by moves only: assigning a json::object copies it into the target's (default) storage.
  result.jwt.emplace(DecodedJwt{header.alg, header.kid, header.header, std::move(*claims),
                                token.substr(0, dot2), std::move(*signature)});
  result.error = JwtError::none;
  return result;
}

JwtError verify_jwt(const DecodedJwt& jwt, const JwtKeys& keys, const JwtRules& rules,
                    std::int64_t now) {
  if (jwt.alg == JwtAlg::hs256) {
    if (!keys.hs256) return JwtError::alg_not_allowed;
    const auto mac = keys.hs256->mac(jwt.signing_input);
    if (!constant_time_equal(
            std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()), jwt.signature))
      return JwtError::bad_signature;
  } else {
    bool any_of_alg = false;
    bool verified = false;
    bool kid_found = false;
    for (const auto& key : keys.public_keys) {
      if (key.alg() != jwt.alg) continue;
      any_of_alg = true;
      if (!jwt.kid.empty() && !key.kid().empty() && key.kid() != jwt.kid) continue;
      kid_found = true;
      if (key.verify(jwt.signing_input, jwt.signature)) {
        verified = true;
        break;
      }
    }
    if (!any_of_alg) return JwtError::alg_not_allowed;
    if (!kid_found) return JwtError::unknown_kid;
    if (!verified) return JwtError::bad_signature;
  }

  const auto& c = jwt.claims;
  if (const auto* exp = c.if_contains("exp")) {
    const auto t = numeric_date(*exp);
    if (!t) return JwtError::malformed;
    if (now >= sat_add(*t, rules.leeway_seconds)) return JwtError::expired;
  } else if (rules.require_exp) {
    return JwtError::missing_exp;
  }
  if (const auto* nbf = c.if_contains("nbf")) {
    const auto t = numeric_date(*nbf);
    if (!t) return JwtError::malformed;
    if (sat_add(now, rules.leeway_seconds) < *t) return JwtError::not_yet_valid;
  }
  if (const auto* iat = c.if_contains("iat")) {
    const auto t = numeric_date(*iat);
    if (!t) return JwtError::malformed;
    if (sat_add(now, rules.leeway_seconds) < *t) return JwtError::not_yet_valid;
  }
  if (!rules.issuer.empty()) {
    const auto* iss = c.if_contains("iss");
    if (iss == nullptr || !iss->is_string() || iss->get_string() != rules.issuer)
      return JwtError::wrong_issuer;
  }
  if (!rules.audience.empty()) {
    const auto* aud = c.if_contains("aud");
    bool match = false;
    if (aud != nullptr && aud->is_string()) {
      match = aud->get_string() == rules.audience;
    } else if (aud != nullptr && aud->is_array()) {
      for (const auto& a : aud->get_array())
        if (a.is_string() && a.get_string() == rules.audience) match = true;
    }
    if (!match) return JwtError::wrong_audience;
  }
  return JwtError::none;
}

}  // namespace streamgate::core
