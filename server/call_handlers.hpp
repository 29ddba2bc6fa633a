#pragma once
// Call management (SPEC §1.3) and reconciliation (§1.6).
#include <memory>
#include <optional>
#include <string>

#include "core/meeting.hpp"
#include "http/pipeline.hpp"
#include "server/store.hpp"
#include "server/stream_client.hpp"

namespace streamgate::server {

struct CallSettings {
  std::shared_ptr<StreamClient> stream;
  std::shared_ptr<Store> store;
  std::string admin_role = "admin";
  std::string creator_role = "host";
  std::string participant_role = "participant";
};

http::Handler make_create_call_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_add_participant_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_end_call_handler(std::shared_ptr<const CallSettings> s);
http::Handler make_sync_call_handler(std::shared_ptr<const CallSettings> s);

// Pulls the call, its recordings and its transcriptions from Stream and applies them to the
// meeting through the same rules as webhooks. Throws StreamError / StoreUnavailable.
http::Task<std::optional<core::Meeting>> reconcile_call(std::shared_ptr<StreamClient> stream,
                                                        std::shared_ptr<Store> store, std::string call_type,
                                                        std::string call_id);

}  // namespace streamgate::server
