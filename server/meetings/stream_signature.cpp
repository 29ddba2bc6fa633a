#include "server/meetings/stream_signature.hpp"

#include "server/meetings/gzip.hpp"

namespace streamgate::server {
using http::HttpError;

namespace {

bool is_lower_hex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

bool signature_matches(const core::HmacSha256Key& key, std::string_view body,
                       std::string_view signature) {
  return core::constant_time_equal(key.mac_hex(body), signature);
}

}  // namespace

http::Middleware verify_stream_signature(std::shared_ptr<const StreamSignatureSettings> s) {
  return
      [s](http::Request& req, http::Context& ctx, http::Next next) -> http::Task<http::Response> {
        const auto reject = [&](int status, const char* code, const char* message) {
          if (s->on_rejected) s->on_rejected();
          return HttpError(status, code, message);
        };
        const std::string_view api_key = req.header("x-api-key");
        if (!api_key.empty() && api_key != s->api_key)
          throw reject(401, "invalid_api_key", "X-Api-Key is not this app's key");
        const std::string_view signature = req.header("x-signature");
        if (signature.empty()) throw reject(401, "invalid_signature", "Missing X-Signature");
        if (!is_lower_hex64(signature))
          throw reject(401, "invalid_signature", "Webhook signature is invalid");
        // The signature covers the uncompressed bytes; detect gzip by its magic, as the SDKs do.
        if (looks_gzipped(req.body)) {
          std::string inflated;
          switch (gunzip(req.body, s->body_limit, inflated)) {
            case GunzipError::too_large:
              throw reject(413, "payload_too_large", "Decompressed webhook body is too large");
            case GunzipError::corrupt:
              throw reject(400, "invalid_request", "Webhook body is not valid gzip");
            case GunzipError::none: break;
          }
          req.body = std::move(inflated);
        }
        const bool valid =
            signature_matches(*s->secret, req.body, signature) ||
            (s->previous_secret && signature_matches(*s->previous_secret, req.body, signature));
        if (!valid) throw reject(401, "invalid_signature", "Webhook signature is invalid");
        co_return co_await next(req, ctx);
      };
}

}  // namespace streamgate::server
