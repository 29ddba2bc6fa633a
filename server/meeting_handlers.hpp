#pragma once
// The webhook receiver (SPEC §1.5), the meeting read (§1.4) and the inbox replay.
#include <atomic>
#include <cstdint>
#include <memory>

#include "core/crypto.hpp"
#include "http/pipeline.hpp"
#include "server/store.hpp"

namespace streamgate::server {

struct WebhookCounters {
  std::atomic<std::uint64_t> applied{0};
  std::atomic<std::uint64_t> duplicate{0};
  std::atomic<std::uint64_t> failed{0};      // kept in the inbox for replay
  std::atomic<std::uint64_t> ignored{0};     // other event types: acknowledged only
  std::atomic<std::uint64_t> rejected{0};    // bad signature, key, body
  std::atomic<std::uint64_t> unavailable{0}; // store down: 503
};

struct WebhookSettings {
  std::string api_key;
  std::shared_ptr<const core::HmacSha256Key> secret;
  std::shared_ptr<const core::HmacSha256Key> previous_secret;  // may be null
  std::size_t body_limit = 1 << 20;  // compressed and inflated
  std::shared_ptr<Store> store;
  std::shared_ptr<WebhookCounters> counters;
};

// Reads a verified event body into which meeting it touches and how to apply it.
PreparedApply prepare_event(std::string_view body);

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> settings);
http::Handler make_get_meeting_handler(std::shared_ptr<Store> store, std::string admin_role);
http::Handler make_replay_handler(std::shared_ptr<Store> store, std::string admin_role);

}  // namespace streamgate::server
