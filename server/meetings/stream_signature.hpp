#pragma once
// The guard in front of Stream's webhooks (docs/spec.md §1.5): X-Api-Key, when present, must be
// ours; the body is inflated when gzipped (bounded: a zip bomb is 413); X-Signature must be the
// HMAC-SHA256 of those raw bytes with the current or the previous API secret. Passing, the
// request's body is the verified, inflated bytes; failing, 401/400/413 and nothing is stored.
#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "core/crypto.hpp"
#include "http/pipeline.hpp"

namespace streamgate::server {

struct StreamSignatureSettings {
  std::string api_key;
  std::shared_ptr<const core::HmacSha256Key> secret;
  std::shared_ptr<const core::HmacSha256Key> previous_secret;  // may be null
  std::size_t body_limit = 1 << 20;                            // compressed and inflated
  std::function<void()> on_rejected;                           // for the metrics
};

http::Middleware verify_stream_signature(std::shared_ptr<const StreamSignatureSettings> settings);

}  // namespace streamgate::server
