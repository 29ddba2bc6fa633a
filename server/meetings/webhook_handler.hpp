#pragma once
// Stream's webhooks (docs/spec.md §1.5), behind the signature guard (stream_signature.hpp): the
// verified body parsed, deduplicated by X-Webhook-Id, and stored with its effect on the meeting
// in one transaction (the inbox). 200 only after the commit; 503 when the store cannot keep it.
#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "http/pipeline.hpp"
#include "server/store/store.hpp"

namespace streamgate::server {

struct WebhookSettings {
  std::shared_ptr<Store> store;
  // Outcomes: applied, duplicate, failed (kept for replay), ignored (other types), rejected
  // (signature, key, body), unavailable (store down: 503).
  std::function<void(std::string_view type, std::string_view outcome)> record;
};

// A verified webhook, parsed (pure): 400 invalid_request for a body that is not a JSON object
// with a type, or a malformed X-Webhook-Id. Without an id, the body's SHA-256 is the id.
struct StreamWebhook {
  std::string webhook_id;
  std::string type;
  boost::json::object event;
};
StreamWebhook parse_stream_webhook(std::string_view body, std::string_view webhook_id_header);

// The service: keeps a meeting event in the inbox with its effect (other types are only
// acknowledged) and records the outcome. When the store cannot keep it, that is recorded and
// logged and StoreUnavailable propagates (503, so Stream retries).
http::Task<InboxOutcome> receive_webhook(const WebhookSettings& settings, const StreamWebhook& hook,
                                         std::string_view body, std::string_view request_id);

http::Handler make_webhook_handler(std::shared_ptr<const WebhookSettings> settings);

}  // namespace streamgate::server
