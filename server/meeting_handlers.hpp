#pragma once
// The webhook receiver (SPEC §1.5), the meeting read (§1.4) and the inbox replay.
#include <functional>
#include <cstdint>
#include <memory>

#include "core/crypto.hpp"
#include "http/pipeline.hpp"
#include "server/store.hpp"

namespace streamgate::server {

struct WebhookSettings {
  std::string api_key;
  std::shared_ptr<const core::HmacSha256Key> secret;
  std::shared_ptr<const core::HmacSha256Key> previous_secret;  // may be null
  std::size_t body_limit = 1 << 20;  // compressed and inflated
  std::shared_ptr<Store> store;
  // Outcomes: applied, duplicate, failed (kept for replay), ignored (other types), rejected
  // (signature, key, body), unavailable (store down: 503).
  std::function<void(std::string_view type, std::string_view outcome)> record;
};

// Reads a verified event body into which meeting it touches and how to apply it.
PreparedApply prepare_event(std::string_view body);

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> settings);
http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role);
http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role);

}  // namespace streamgate::server
